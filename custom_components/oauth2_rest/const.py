"""Constants for the OAuth2 REST integration."""

from typing import Final

DOMAIN: Final = "oauth2_rest"

CONF_PROVIDER: Final = "provider"
CONF_SCOPES: Final = "scopes"
CONF_SUBJECT: Final = "subject"
CONF_ALLOWED_ORIGINS: Final = "allowed_origins"
CONF_MAX_RESPONSE_BYTES: Final = "max_response_bytes"

# Our documentation on linking an account (when a provider names no developer docs).
LINKING_DOCS_URL: Final = (
    "https://github.com/oauth2-rest/oauth2_rest#linking-an-account"
)

# Example URLs in form hints: hassfest wants URLs out of the strings, as placeholders.
EXAMPLE_URLS: Final = {
    "example_issuer_url": "https://accounts.example.com",
    "example_realm_issuer_url": "https://sso.example.com/realms/home",
    "example_server_url": "https://sso.example.com",
    "example_origin": "https://files.example.com",
    "example_api_url": "https://api.example.com",
}
