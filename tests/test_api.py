"""The account's session (api.py): single flight, early refresh, odd tokens, health."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
import logging
import time
from typing import Any

from aiohttp import ClientConnectionError, web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.oauth2_rest.api import (
    AccountSession,
    RefreshOutcome,
    refresh_margin,
    trust_margin,
)
from custom_components.oauth2_rest.application_credentials import (
    async_get_entry_implementation,
)
from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation
from custom_components.oauth2_rest.oauth.token_response import (
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    normalise_token,
)

from .common import (
    API_BASE,
    NEW_TOKEN,
    TOKEN_URL,
    expire_token,
    manual_profile,
    reauth_flows,
    token_requests,
)


def slow_token_endpoint(
    gate: asyncio.Event, status: int = 200, json: Any = None
) -> Callable[..., Awaitable[AiohttpClientMockResponse]]:
    """A token endpoint that answers only once ``gate`` is set."""

    async def answer(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        await gate.wait()
        return AiohttpClientMockResponse(
            method, url, status=status, json=NEW_TOKEN if json is None else json
        )

    return answer


@pytest.fixture
def expires_at(request: pytest.FixtureRequest) -> float:
    """The stored token's expiry: seconds from now given as the parameter."""
    return time.time() + getattr(request, "param", 3600)


async def loaded_session_with_expired_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> AccountSession:
    """Load the account, then expire its token; return its session, calls cleared."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    session = config_entry.runtime_data.account.session
    hass.config_entries.async_update_entry(
        config_entry,
        data={**config_entry.data, "token": {**session.token, "expires_at": 0}},
    )
    aioclient_mock.clear_requests()
    return session


# -- single flight --------------------------------------------------------------


@pytest.mark.parametrize("due_in", [0, 60])
async def test_concurrent_callers_share_one_slow_refresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    due_in: float,
) -> None:
    """Callers arriving while a refresh is in flight wait for it: one token request.

    Also when the token is only due (a minute left of an hour): HA's own session
    would send none then, and the first call after expiry would wait for one.
    """
    session = await loaded_session_with_expired_token(
        hass, config_entry, setup_integration, aioclient_mock
    )
    expire_token(hass, config_entry, time.time() + due_in)
    gate = asyncio.Event()
    aioclient_mock.post(TOKEN_URL, side_effect=slow_token_endpoint(gate))
    callers = [
        hass.async_create_task(session.async_ensure_token_valid()) for _ in range(5)
    ]
    for _ in range(5):  # let every caller reach the refresh before it answers
        await asyncio.sleep(0)
    gate.set()
    await asyncio.gather(*callers)
    assert len(token_requests(aioclient_mock)) == 1
    assert session.access_token == "new-access-token"


async def test_waiters_take_a_failed_attempts_outcome(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Five callers, one failing refresh: one token request, five errors."""
    session = await loaded_session_with_expired_token(
        hass, config_entry, setup_integration, aioclient_mock
    )
    gate = asyncio.Event()
    aioclient_mock.post(TOKEN_URL, side_effect=slow_token_endpoint(gate, status=503))
    callers = [
        hass.async_create_task(session.async_ensure_token_valid()) for _ in range(5)
    ]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, OAuth2TokenRequestTransientError) for r in results)
    assert len(token_requests(aioclient_mock)) == 1


async def test_waiters_after_dead_grant_send_nothing(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A refused refresh latches: queued and later callers get the error at once."""
    session = await loaded_session_with_expired_token(
        hass, config_entry, setup_integration, aioclient_mock
    )
    gate = asyncio.Event()
    aioclient_mock.post(
        TOKEN_URL,
        side_effect=slow_token_endpoint(
            gate, status=400, json={"error": "invalid_grant"}
        ),
    )
    callers = [
        hass.async_create_task(session.async_ensure_token_valid()) for _ in range(4)
    ]
    await asyncio.sleep(0)
    gate.set()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, OAuth2TokenRequestReauthError) for r in results)
    with pytest.raises(OAuth2TokenRequestReauthError):
        await session.async_ensure_token_valid()
    assert len(token_requests(aioclient_mock)) == 1


# -- refreshing ahead of expiry ---------------------------------------------------


@pytest.mark.parametrize("expires_at", [100], indirect=True)
async def test_early_refresh_failure_keeps_valid_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Due for refresh (100 s left) but the token endpoint is down: keep working."""
    aioclient_mock.post(TOKEN_URL, status=503)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 7})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.weather").state == "7"
    assert len(token_requests(aioclient_mock)) >= 1
    assert config_entry.runtime_data.account.data.consecutive_refresh_failures >= 1
    _, _, _, headers = next(
        c for c in aioclient_mock.mock_calls if str(c[1]) == f"{API_BASE}/weather"
    )
    assert headers["Authorization"] == "Bearer stored-access-token"


async def test_refresh_happens_before_expiry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The account refreshes within two minutes of expiry, not at it, and only once."""
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 7})
    await setup_integration()
    assert not token_requests(aioclient_mock)
    freezer.tick(timedelta(seconds=3600 - 150))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert not token_requests(aioclient_mock)
    freezer.tick(timedelta(seconds=60))  # 90 s left: inside the 120 s margin
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(token_requests(aioclient_mock)) == 1
    assert config_entry.data["token"]["access_token"] == "new-access-token"


@pytest.mark.parametrize(
    ("seconds", "refresh", "trust"),
    [
        (None, 120, 20),  # never said: the widest margin
        (20, 10, 5),  # never more than half of the lifetime
        (60, 30, 15),  # a short token keeps 15 s to retry a failed refresh
        (300, 30, 20),
        (600, 60, 20),  # a tenth of the lifetime: 600 / 540 requests per lifetime
        (1200, 120, 20),
        (3600, 120, 20),  # at most 2 min early
    ],
)
def test_refresh_margin_rule(
    seconds: float | None, refresh: float, trust: float
) -> None:
    """A tenth of the lifetime early, 30 s to 2 min, at most half; trusted until 20 s."""
    assert refresh_margin(seconds) == refresh
    assert trust_margin(seconds) == trust
    assert refresh_margin(seconds) > trust_margin(seconds)


# -- tokens without a refresh token -------------------------------------------------


@pytest.mark.parametrize(
    "token_data",
    [
        {
            "access_token": "gho_classic",
            "token_type": "bearer",
            "expires_in": 315360000,
            "expires_at": time.time() + 315360000,
            NON_EXPIRING_MARKER: True,
        }
    ],
)
async def test_revoked_non_expiring_token_asks_for_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GitHub-style token revoked: a 401 leads to reauth, with no token request."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 3})
    await setup_integration()
    assert hass.states.get("sensor.weather").state == "3"
    aioclient_mock.clear_requests()
    aioclient_mock.get(f"{API_BASE}/weather", status=401)
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    assert len(reauth_flows(hass)) == 1
    assert not token_requests(aioclient_mock)
    # Nothing above DEBUG carries a traceback (DEBUG has HA's "Full error").
    assert not [r for r in caplog.records if r.levelno > logging.DEBUG and r.exc_info]
    assert "Unexpected error" not in caplog.text


@pytest.mark.parametrize("expires_at", [-10], indirect=True)
@pytest.mark.parametrize(
    "token_data",
    [{"access_token": "a", "token_type": "Bearer", "expires_in": 60}],
)
async def test_expired_token_without_refresh_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    token_data: dict[str, Any],
    expires_at: float,
) -> None:
    """No refresh token and expired: reauth at setup, not an endless retry."""
    token_data["expires_at"] = expires_at
    await setup_integration()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(reauth_flows(hass)) == 1
    assert not token_requests(aioclient_mock)


# -- odd token responses --------------------------------------------------------------


@pytest.mark.parametrize("expires_in", [0, -5, "0"])
def test_pointless_lifetime_means_non_expiring(expires_in: Any) -> None:
    """A lifetime of 0 or less says nothing: use the token until it is rejected."""
    token = normalise_token({"access_token": "a", "expires_in": expires_in})
    assert token[NON_EXPIRING_MARKER] is True
    assert token["expires_in"] > 3600


def test_absurd_lifetime_is_clamped() -> None:
    """1e400 overflows a float: clamped, not a crash (more in test_token_answers)."""
    token = normalise_token({"access_token": "a", "expires_in": "1e400"})
    assert token["expires_in"] == NON_EXPIRING_SECONDS


@pytest.mark.usefixtures("socket_enabled")
async def test_token_request_never_follows_redirects(
    hass: HomeAssistant, setup_credentials: None
) -> None:
    """A redirecting token endpoint does not get the secret replayed elsewhere."""
    hits: list[str] = []

    async def token(request: web.Request) -> web.Response:
        hits.append("token")
        raise web.HTTPTemporaryRedirect("/elsewhere")

    async def elsewhere(request: web.Request) -> web.Response:
        hits.append("elsewhere")
        return web.json_response(NEW_TOKEN)

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_post("/elsewhere", elsewhere)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        impl = OAuth2RestImplementation(
            hass,
            "x",
            ClientCredential("id", "secret"),
            manual_profile(
                token_url=str(server.make_url("/token")),
                client_auth="client_secret_post",
            ),
        )
        with pytest.raises(OAuth2TokenRequestTransientError):
            await impl.async_refresh_token({"refresh_token": "r", "access_token": "a"})
    finally:
        await server.close()
    assert hits == ["token"]


# -- repair issues belong to their account ------------------------------------------------


async def test_reload_keeps_other_accounts_issues_and_removal_clears_own(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Issue clean-up touches only the account it runs for."""
    aioclient_mock.get(f"{API_BASE}/weather", status=403, text="Forbidden")
    aioclient_mock.post("https://auth.example.com/revoke", status=200)
    other_issue = "forbidden_OTHERACCOUNT_endpoint_x"
    ir.async_create_issue(
        hass,
        DOMAIN,
        other_issue,
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="endpoint_forbidden",
        translation_placeholders={"endpoint": "x", "account": "y"},
    )
    await setup_integration()
    own_issue = f"forbidden_{config_entry.entry_id}_endpoint_weather"
    assert issue_registry.async_get_issue(DOMAIN, own_issue)
    assert await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, other_issue)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert issue_registry.async_get_issue(DOMAIN, own_issue) is None
    assert issue_registry.async_get_issue(DOMAIN, other_issue)


async def test_huge_retry_after_is_capped(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Retry-After: 99999999 waits an hour at most."""
    aioclient_mock.get(
        f"{API_BASE}/weather", status=429, headers={"Retry-After": "99999999"}
    )
    await setup_integration()
    aioclient_mock.clear_requests()
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 5})
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    freezer.tick(timedelta(seconds=1800))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    freezer.tick(timedelta(seconds=1801))
    async_fire_time_changed(hass)
    # The refresh writes the token file in the executor: wait for the poll too.
    await hass.async_block_till_done(wait_background_tasks=True)
    assert hass.states.get("sensor.weather").state == "5"


async def test_session_reports_every_attempt(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_credentials: None,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Each refresh attempt, good or failed, reaches the listener given at creation."""
    config_entry.add_to_hass(hass)
    implementation = await async_get_entry_implementation(hass, config_entry)
    outcomes: list[RefreshOutcome] = []
    session = AccountSession(
        hass, config_entry, implementation, on_refresh=outcomes.append
    )
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await session.async_force_refresh("stored-access-token")
    assert session.access_token == "new-access-token"
    # A forced refresh for a token already replaced requests nothing.
    await session.async_force_refresh("stored-access-token")
    assert len(token_requests(aioclient_mock)) == 1
    assert [o.succeeded for o in outcomes] == [True]

    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, exc=ClientConnectionError())
    with pytest.raises(OAuth2TokenRequestTransientError):
        await session.async_force_refresh("new-access-token")
    assert [o.succeeded for o in outcomes] == [True, False]
    # Every token the session saw is a secret to redact, old ones too.
    assert "stored-access-token" in session.secrets
    assert "new-access-token" in session.secrets
    assert "test-secret" in session.secrets
