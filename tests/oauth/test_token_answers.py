"""Odd token answers that must not hurt: lifetimes, token types, sizes, fields kept."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.api import MAX_REFRESH_MARGIN, AccountSession
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation
from custom_components.oauth2_rest.oauth.provider import TokenResponseQuirks
from custom_components.oauth2_rest.oauth.token_response import (
    MAX_TOKEN_RESPONSE_BYTES,
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    InvalidTokenResponse,
    UnsupportedTokenType,
    normalise_token,
)

from ..common import (
    API_BASE,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_URL,
    manual_profile,
    reauth_flows,
    token_requests,
)

STORED_REFRESH = "stored-refresh-token"


def implementation(hass: HomeAssistant, **quirks: Any) -> OAuth2RestImplementation:
    """The test account's implementation, with the given token-response quirks."""
    return OAuth2RestImplementation(
        hass,
        "oauth2_rest_test",
        ClientCredential(CLIENT_ID, CLIENT_SECRET),
        manual_profile(quirks=TokenResponseQuirks(**quirks)),
    )


def stored_token() -> dict[str, Any]:
    """A stored token due for refresh."""
    return {
        "access_token": "stored-access-token",
        "refresh_token": STORED_REFRESH,
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": time.time() - 10,
    }


# -- lifetimes ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "expires_in",
    [2**63 - 1, 1e12, "1e400", float("inf"), 10**30],
    ids=["2**63-1", "1e12", "1e400", "inf", "10**30"],
)
def test_huge_lifetime_is_clamped(expires_in: Any) -> None:
    """An absurdly long lifetime is capped at ten years, never an overflow."""
    token = normalise_token({"access_token": "a", "expires_in": expires_in})
    assert token["expires_in"] == NON_EXPIRING_SECONDS


@pytest.mark.parametrize(
    "expires_in",
    [True, False, float("nan"), "nan", "soon", "", [], {}, None, 0, -5, "-1", 0.4],
)
def test_lifetime_that_says_nothing_is_unknown(expires_in: Any) -> None:
    """Booleans, NaN, junk and lifetimes <= 0 mean unknown: used until rejected."""
    token = normalise_token({"access_token": "a", "expires_in": expires_in})
    assert token[NON_EXPIRING_MARKER] is True
    assert token["expires_in"] == NON_EXPIRING_SECONDS


@pytest.mark.parametrize(("expires_in", "seconds"), [("3600", 3600), (59.9, 59)])
def test_plain_lifetimes(expires_in: Any, seconds: int) -> None:
    """Strings and floats become whole seconds."""
    token = normalise_token({"access_token": "a", "expires_in": expires_in})
    assert token["expires_in"] == seconds
    assert NON_EXPIRING_MARKER not in token


@pytest.mark.parametrize("expires_in", [2**63 - 1, "junk", True])
async def test_odd_lifetime_at_setup_loads_the_entry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    expires_in: Any,
) -> None:
    """A refresh at setup answering an odd lifetime loads the entry (no retry loop)."""
    config_entry.data["token"]["expires_at"] = time.time() - 10
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "new", "token_type": "Bearer", "expires_in": expires_in},
    )
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 4})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.weather").state == "4"


# -- refresh tokens -------------------------------------------------------------------


@pytest.mark.parametrize("refresh_token", [None, ""])
async def test_null_refresh_token_keeps_the_stored_one(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, refresh_token: Any
) -> None:
    """``refresh_token: null`` or ``""`` is no rotation: the stored one is kept."""
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "new", "refresh_token": refresh_token, "expires_in": 60},
    )
    token = await implementation(hass).async_refresh_token(stored_token())
    assert token["access_token"] == "new"
    assert token["refresh_token"] == STORED_REFRESH


# -- token types and access tokens ------------------------------------------------------


@pytest.mark.parametrize("token_type", ["bearer", "BEARER", "Bearer", None])
def test_bearer_in_any_case_or_missing(token_type: str | None) -> None:
    """Bearer in any case, or no token_type at all, is a bearer token."""
    data = {"access_token": "a", "expires_in": 60}
    if token_type is not None:
        data["token_type"] = token_type
    assert normalise_token(data)["token_type"] == (token_type or "Bearer")


@pytest.mark.parametrize("token_type", ["DPoP", "mac", "N_A", 5])
async def test_other_token_type_is_a_clear_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, token_type: Any
) -> None:
    """A DPoP/MAC token is never sent as bearer: re-linking is the way on."""
    with pytest.raises(UnsupportedTokenType, match="not supported, only bearer"):
        normalise_token({"access_token": "a", "token_type": token_type})
    aioclient_mock.post(
        TOKEN_URL, json={"access_token": "pop", "token_type": token_type}
    )
    with pytest.raises(OAuth2TokenRequestReauthError, match="only bearer"):
        await implementation(hass).async_refresh_token(stored_token())


async def test_other_token_type_at_setup_asks_for_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Not a retry loop: the entry asks to be linked again."""
    config_entry.data["token"]["expires_at"] = time.time() - 10
    aioclient_mock.post(TOKEN_URL, json={"access_token": "pop", "token_type": "DPoP"})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1


@pytest.mark.parametrize("access_token", ["a\r\nX-Injected: 1", "a\x00b", "tab\there"])
async def test_access_token_with_control_characters_is_refused(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, access_token: str
) -> None:
    """It would go into an HTTP header: refused, the stored token kept."""
    with pytest.raises(InvalidTokenResponse, match="control characters"):
        normalise_token({"access_token": access_token})
    aioclient_mock.post(TOKEN_URL, json={"access_token": access_token})
    with pytest.raises(OAuth2TokenRequestTransientError):
        await implementation(hass).async_refresh_token(stored_token())


async def test_oversized_token_response_is_refused(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A token endpoint body over 1 MiB is not read into memory."""
    padding = "x" * MAX_TOKEN_RESPONSE_BYTES
    aioclient_mock.post(
        TOKEN_URL, json={"access_token": "a", "expires_in": 60, "pad": padding}
    )
    with pytest.raises(OAuth2TokenRequestTransientError, match="larger than"):
        await implementation(hass).async_refresh_token(stored_token())


def test_only_known_fields_are_kept() -> None:
    """Account details and junk in the answer are not stored; what we use is."""
    token = normalise_token(
        {
            "access_token": "a",
            "token_type": "bearer",
            "refresh_token": "r",
            "expires_in": 60,
            "scope": ["read", "write"],
            "id_token": "h.p.s",
            "refresh_token_expires_in": 600,
            "athlete": {"id": 7, "firstname": "Jane"},
            "email": "jane@example.org",
            "session_state": "s",
            "__proto__": {"x": 1},
        },
        TokenResponseQuirks(subject_field="athlete.id"),
    )
    assert token == {
        "access_token": "a",
        "token_type": "bearer",
        "refresh_token": "r",
        "expires_in": 60,
        "scope": "read write",
        "id_token": "h.p.s",
        "refresh_token_expires_in": 600,
        "athlete": {"id": 7, "firstname": "Jane"},
    }


# -- short lifetimes and forced refreshes -----------------------------------------------


async def loaded_session(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> AccountSession:
    """Load the account; return its session with the calls cleared."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    aioclient_mock.clear_requests()
    return config_entry.runtime_data.account.session


@pytest.mark.parametrize("lifetime", [5, 15, 30])
async def test_lifetime_under_the_clock_skew_margin_is_used(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    lifetime: int,
) -> None:
    """A token living less than 20 s is used: one token request, not one per call."""
    session = await loaded_session(
        hass, config_entry, setup_integration, aioclient_mock
    )
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "short", "token_type": "Bearer", "expires_in": lifetime},
    )
    hass.config_entries.async_update_entry(
        config_entry,
        data={**config_entry.data, "token": {**session.token, "expires_at": 0}},
    )
    auth = config_entry.runtime_data.account.auth
    tokens = [await auth.async_get_access_token() for _ in range(5)]
    assert tokens == ["short"] * 5
    assert len(token_requests(aioclient_mock)) == 1


async def test_forced_refresh_returning_the_same_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A spurious 401: the endpoint re-issues the same token, which stays usable.

    At most one forced refresh per token per minute.
    """
    session = await loaded_session(
        hass, config_entry, setup_integration, aioclient_mock
    )
    same = session.access_token
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": same, "token_type": "Bearer", "expires_in": 3600},
    )
    auth = config_entry.runtime_data.account.auth
    assert await auth.async_force_refresh(same) == same
    assert len(token_requests(aioclient_mock)) == 1
    for _ in range(5):
        assert await auth.async_get_access_token() == same
    assert len(token_requests(aioclient_mock)) == 1

    # Rejected again within the minute: no second token request.
    assert await auth.async_force_refresh(same) == same
    assert len(token_requests(aioclient_mock)) == 1
    freezer.tick(timedelta(seconds=61))
    assert await auth.async_force_refresh(same) == same
    assert len(token_requests(aioclient_mock)) == 2


@pytest.mark.parametrize(
    "token_data",
    [
        {
            "access_token": "old-style",
            "refresh_token": "r",
            "token_type": "Bearer",
            "expires_at": time.time() + 3600,
        }
    ],
)
async def test_stored_token_without_lifetime(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A stored token that never had expires_in: the widest margin, still usable."""
    session = await loaded_session(
        hass, config_entry, setup_integration, aioclient_mock
    )
    assert session.refresh_margin == MAX_REFRESH_MARGIN
    assert session.usable
    assert not token_requests(aioclient_mock)
