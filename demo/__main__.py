"""``python -m demo``: run the demo OAuth2/OpenID provider."""

from .server import main

main()
