"""Application Credentials platform: stored credential -> implementation."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers.network import NoURLAvailableError
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.application_credentials import (
    UNBOUND_PROFILE_KEY,
    async_get_auth_implementation,
    async_get_description_placeholders,
    async_get_entry_implementation,
    bound_profile,
)
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation

from .common import AUTH_DOMAIN, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, manual_profile


async def test_implementation_bound_to_a_profile(hass: HomeAssistant) -> None:
    """Built while a profile is bound, the implementation talks to its server."""
    with bound_profile(manual_profile()):
        impl = await async_get_auth_implementation(
            hass, AUTH_DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET, "Mine")
        )
    assert isinstance(impl, OAuth2RestImplementation)
    assert impl.profile == manual_profile()
    assert impl.token_url == TOKEN_URL
    assert impl.client_id == CLIENT_ID
    assert impl.client_secret == CLIENT_SECRET
    assert impl.domain == AUTH_DOMAIN
    assert impl.name == "Mine"


async def test_implementation_unbound(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Outside a binding (HA listing credentials): an unbound profile."""
    config_entry.add_to_hass(hass)
    impl = await async_get_auth_implementation(
        hass, "oauth2_rest_other", ClientCredential("other-client", "s")
    )
    assert isinstance(impl, OAuth2RestImplementation)
    assert impl.profile.key == UNBOUND_PROFILE_KEY
    assert impl.profile.token_url == ""
    assert impl.name == "other-client"

    named = await async_get_auth_implementation(
        hass, "oauth2_rest_other", ClientCredential("other-client", "s", "Named")
    )
    assert named.name == "Named"
    assert named.profile.name == "Named"


async def test_description_placeholders_redirect_uri(hass: HomeAssistant) -> None:
    """The redirect URI to register at the provider."""
    await async_process_ha_core_config(hass, {"external_url": "https://ha.example.org"})
    placeholders = await async_get_description_placeholders(hass)
    assert placeholders["redirect_uri"] == (
        "https://ha.example.org/auth/external/callback"
    )
    assert placeholders["more_info_url"].startswith("https://")


async def test_description_placeholders_without_url(hass: HomeAssistant) -> None:
    """No URL configured: a template the user fills in."""
    with patch(
        "custom_components.oauth2_rest.redirect.get_url",
        side_effect=NoURLAvailableError,
    ):
        placeholders = await async_get_description_placeholders(hass)
    assert placeholders["redirect_uri"] == (
        "http://<your Home Assistant address>:8123/auth/external/callback"
    )


async def test_entry_implementation_built_once_with_its_profile(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_credentials: None,
) -> None:
    """An entry's implementation: its stored credential and its own profile.

    HA asks our platform once; the profile is the entry's even when another
    entry shares the credential with a different provider profile.
    """
    other = MockConfigEntry(
        domain="oauth2_rest",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "provider": {**manual_profile().as_dict(), "name": "Other"},
        },
    )
    other.add_to_hass(hass)
    config_entry.add_to_hass(hass)
    original = OAuth2RestImplementation.__init__
    built: list[str] = []

    def counting(self: OAuth2RestImplementation, *args: Any, **kwargs: Any) -> None:
        built.append(args[1])
        original(self, *args, **kwargs)

    with patch.object(OAuth2RestImplementation, "__init__", counting):
        impl = await async_get_entry_implementation(hass, config_entry)
    assert impl.profile == manual_profile()
    assert impl.client_secret == CLIENT_SECRET
    assert built == [AUTH_DOMAIN]
    assert (await async_get_entry_implementation(hass, other)).profile.name == "Other"
