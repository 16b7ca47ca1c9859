"""Application Credentials platform: a stored credential -> our implementation.

Client id and secret live in Home Assistant's Application Credentials store (so users
see and manage them under Settings). The provider profile lives in the config entry
that uses the credential; a credential no entry uses yet gets a profile only when a
config flow binds it to one.
"""

from __future__ import annotations

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import AbstractOAuth2Implementation
from homeassistant.helpers.network import NoURLAvailableError, get_url

from .const import CONF_PROVIDER, DOMAIN
from .oauth.implementation import OAuth2RestImplementation
from .oauth.provider import ProviderProfile

UNBOUND_PROFILE_KEY = "unbound"


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> AbstractOAuth2Implementation:
    """Return the implementation for a credential, with its entry's provider profile."""
    profile = next(
        (
            ProviderProfile.from_dict(entry.data[CONF_PROVIDER])
            for entry in hass.config_entries.async_entries(DOMAIN)
            if entry.data.get("auth_implementation") == auth_domain
            and CONF_PROVIDER in entry.data
        ),
        None,
    )
    if profile is None:
        profile = ProviderProfile(
            key=UNBOUND_PROFILE_KEY,
            name=credential.name or credential.client_id,
            authorize_url="",
            token_url="",
        )
    return OAuth2RestImplementation(hass, auth_domain, credential, profile)


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Tell the user which redirect URI to register at the provider."""
    try:
        base = get_url(hass, allow_ip=True, prefer_external=True)
    except NoURLAvailableError:
        base = "http://<your Home Assistant address>:8123"
    return {
        "redirect_uri": f"{base}/auth/external/callback",
        "more_info_url": "https://github.com/oauth2-rest/oauth2_rest#linking-an-account",
    }
