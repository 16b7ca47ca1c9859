"""Application Credentials platform: a stored credential -> our implementation.

Client id and secret live in Home Assistant's Application Credentials store (so users
see and manage them under Settings). The provider profile lives in the config entry
that uses the credential: whoever asks HA for an entry's implementation binds the
entry's profile first (:func:`async_get_entry_implementation`), as ``mcp`` binds its
authorization server, so the implementation is built once, with the right profile.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ConfigEntryAuthFailed, ConfigEntryNotReady
from homeassistant.helpers.config_entry_oauth2_flow import (
    AbstractOAuth2Implementation,
    async_get_config_entry_implementation,
)

from .api import entry_profile
from .const import DOMAIN, LINKING_DOCS_URL
from .oauth.implementation import OAuth2RestImplementation
from .oauth.provider import ProviderProfile
from .redirect import shown_redirect_uri

UNBOUND_PROFILE_KEY = "unbound"

_bound_profile: ContextVar[ProviderProfile | None] = ContextVar(
    "oauth2_rest_bound_profile", default=None
)


@contextmanager
def bound_profile(profile: ProviderProfile) -> Iterator[None]:
    """Have implementations built in this context talk to ``profile``'s server."""
    token = _bound_profile.set(profile)
    try:
        yield
    finally:
        _bound_profile.reset(token)


async def async_get_auth_implementation(
    hass: HomeAssistant, auth_domain: str, credential: ClientCredential
) -> AbstractOAuth2Implementation:
    """Return the implementation for a credential, with the bound provider profile.

    Without a bound profile (HA listing the stored credentials) the implementation
    knows the credential only.
    """
    profile = _bound_profile.get() or ProviderProfile(
        key=UNBOUND_PROFILE_KEY,
        name=credential.name or credential.client_id,
        authorize_url="",
        token_url="",
    )
    return OAuth2RestImplementation(hass, auth_domain, credential, profile)


async def async_get_entry_implementation(
    hass: HomeAssistant, entry: ConfigEntry[Any]
) -> OAuth2RestImplementation:
    """Return the entry's implementation: its stored credential + its profile.

    Raises ConfigEntryAuthFailed when the credential was deleted (re-link needed),
    ConfigEntryNotReady when a credential provider is unavailable.
    """
    with bound_profile(entry_profile(entry)):
        try:
            implementation = await async_get_config_entry_implementation(hass, entry)
        except ValueError as err:  # Unknown implementation: the credential is gone.
            raise ConfigEntryAuthFailed(
                translation_domain=DOMAIN, translation_key="credential_missing"
            ) from err
    if not isinstance(implementation, OAuth2RestImplementation):
        raise ConfigEntryNotReady(
            translation_domain=DOMAIN, translation_key="credential_missing"
        )
    return implementation


async def async_get_description_placeholders(hass: HomeAssistant) -> dict[str, str]:
    """Tell the user which redirect URI to register at the provider."""
    return {
        "redirect_uri": shown_redirect_uri(hass),
        "more_info_url": LINKING_DOCS_URL,
    }
