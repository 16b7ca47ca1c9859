"""A loaded account whose API refuses its token, against a real server on 127.0.0.1.

django-oauth-toolkit's protected views answer a revoked or expired token with a
bare 403: the account refreshes once, and a dead grant asks for reauth at once
instead of a missing-scope repair for the token's remaining hour. A 403 that says
``insufficient_scope`` is a repair naming the scope.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from .common import (
    AUTH_DOMAIN,
    ISSUER,
    endpoint_subentry,
    manual_profile,
    reauth_flows as all_reauth_flows,
    tick,
)
from .contracts.replay import ProviderServer, relocate, start_provider

pytestmark = [
    pytest.mark.usefixtures("socket_enabled", "setup_credentials"),
]

TOKEN_PATH = "/token"
API_PATH = "/v1/weather"
REFRESHED = {
    "json": {
        "access_token": "new-access-token",
        "refresh_token": "new-refresh-token",
        "token_type": "Bearer",
        "expires_in": 36000,
    }
}
BARE_403: dict[str, Any] = {"status": 403, "text": ""}


@pytest.fixture
async def provider() -> AsyncIterator[ProviderServer]:
    """The authorization server and the API, on 127.0.0.1."""
    async with start_provider() as server:
        yield server


async def start_account(
    hass: HomeAssistant, provider: ProviderServer, token_data: dict[str, Any]
) -> MockConfigEntry:
    """The test account (token valid for an hour), its endpoint polled once."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Example",
        unique_id=f"{ISSUER}#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": relocate(manual_profile(), provider.origin).as_dict(),
            "scopes": ["read"],
            "subject": "subject-1",
        },
        subentries_data=[endpoint_subentry()],
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


def issue(hass: HomeAssistant, entry: MockConfigEntry) -> ir.IssueEntry | None:
    """The endpoint's missing-scope repair issue."""
    return ir.async_get(hass).async_get_issue(
        DOMAIN, f"forbidden_{entry.entry_id}_endpoint_weather"
    )


def weather(hass: HomeAssistant) -> str:
    """The endpoint's value."""
    state = hass.states.get("sensor.weather")
    assert state is not None
    return state.state


async def test_grant_revoked_mid_life_asks_for_reauth_at_once(
    hass: HomeAssistant,
    provider: ProviderServer,
    token_data: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """Bare 403 with an hour left: one refresh, refused as a dead grant, reauth.

    No repair issue; and no further token request at the next polls.
    """
    provider.answer(API_PATH, BARE_403)
    provider.answer(
        TOKEN_PATH,
        {"status": 400, "json": {"error": "invalid_grant"}},
    )
    entry = await start_account(hass, provider, token_data)

    assert len(provider.requests(TOKEN_PATH)) == 1
    assert len(all_reauth_flows(hass)) == 1
    assert issue(hass, entry) is None
    assert weather(hass) == STATE_UNAVAILABLE
    api_calls = len(provider.requests(API_PATH))
    assert api_calls == 1

    await tick(hass, freezer, 600)
    assert len(provider.requests(TOKEN_PATH)) == 1
    assert len(provider.requests(API_PATH)) == api_calls


async def test_token_revoked_mid_life_is_replaced(
    hass: HomeAssistant,
    provider: ProviderServer,
    token_data: dict[str, Any],
) -> None:
    """Bare 403 for the old token only: refreshed, retried, the value shown."""
    provider.answer(API_PATH, BARE_403, {"json": {"temperature": 21}})
    provider.answer(TOKEN_PATH, REFRESHED)
    entry = await start_account(hass, provider, token_data)

    assert weather(hass) == "21"
    assert [r.headers["Authorization"] for r in provider.requests(API_PATH)] == [
        "Bearer stored-access-token",
        "Bearer new-access-token",
    ]
    assert len(provider.requests(TOKEN_PATH)) == 1
    assert issue(hass, entry) is None
    assert not all_reauth_flows(hass)


async def test_bare_403_to_a_fresh_token_is_a_repair_without_a_refresh_storm(
    hass: HomeAssistant,
    provider: ProviderServer,
    token_data: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """The refreshed token gets the bare 403 too: a missing scope.

    Later polls with that token ask for no new one.
    """
    provider.answer(API_PATH, BARE_403)
    provider.answer(TOKEN_PATH, REFRESHED)
    entry = await start_account(hass, provider, token_data)

    found = issue(hass, entry)
    assert found is not None
    assert found.translation_key == "endpoint_forbidden"
    assert not all_reauth_flows(hass)
    assert len(provider.requests(TOKEN_PATH)) == 1
    assert len(provider.requests(API_PATH)) == 2

    for _ in range(3):
        await tick(hass, freezer, 120)
    assert len(provider.requests(API_PATH)) == 5
    assert len(provider.requests(TOKEN_PATH)) == 1


async def test_insufficient_scope_repair_names_the_scope(
    hass: HomeAssistant,
    provider: ProviderServer,
    token_data: dict[str, Any],
) -> None:
    """RFC 6750 insufficient_scope: no refresh; the repair says which scope."""
    provider.answer(
        API_PATH,
        {
            "status": 403,
            "headers": {
                "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                'scope="read:weather"'
            },
            "text": "",
        },
    )
    entry = await start_account(hass, provider, token_data)

    found = issue(hass, entry)
    assert found is not None
    assert found.translation_key == "endpoint_forbidden_scope"
    assert found.translation_placeholders == {
        "endpoint": "Weather",
        "account": "Example",
        "scope": "read:weather",
    }
    assert not provider.requests(TOKEN_PATH)
    assert not all_reauth_flows(hass)


async def test_invalid_token_403_refreshes_and_then_asks_for_reauth(
    hass: HomeAssistant,
    provider: ProviderServer,
    token_data: dict[str, Any],
) -> None:
    """403 with error="invalid_token" to the fresh token too: reauth, no repair."""
    provider.answer(
        API_PATH,
        {
            "status": 403,
            "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
            "json": {"detail": "revoked"},
        },
    )
    provider.answer(TOKEN_PATH, REFRESHED)
    entry = await start_account(hass, provider, token_data)

    assert len(provider.requests(TOKEN_PATH)) == 1
    assert len(provider.requests(API_PATH)) == 2
    assert len(all_reauth_flows(hass)) == 1
    assert issue(hass, entry) is None
