"""The access token lifetime, changeable while the server runs (``/peers/ttl``).

DOT caches its OAuth server per view class, built with ACCESS_TOKEN_EXPIRE_SECONDS at the first
request; oauthlib asks a callable ``token_expires_in`` at every token, so this one is read live.
"""

from __future__ import annotations

import os
from typing import Any

SECONDS = [int(os.environ.get("PEERS_DOT_ACCESS_TTL", "30"))]


def expires_in(request: Any) -> int:
    """Lifetime of the token being issued now."""
    return SECONDS[0]
