"""Constants for the OAuth2 REST integration."""

from typing import Final

DOMAIN: Final = "oauth2_rest"

CONF_PROVIDER: Final = "provider"
CONF_SCOPES: Final = "scopes"
CONF_SUBJECT: Final = "subject"
CONF_ALLOWED_ORIGINS: Final = "allowed_origins"
CONF_MAX_RESPONSE_BYTES: Final = "max_response_bytes"
