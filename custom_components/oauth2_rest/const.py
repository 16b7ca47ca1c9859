"""Constants for the OAuth2 REST integration."""

from typing import Final

DOMAIN: Final = "oauth2_rest"
