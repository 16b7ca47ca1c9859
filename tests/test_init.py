"""Setting up an account: tokens, endpoints, errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
import logging
import time
from typing import Any

from aiohttp import ClientConnectionError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import (
    DOMAIN as APPLICATION_CREDENTIALS,
)
from homeassistant.config_entries import SOURCE_REAUTH, ConfigEntryState, ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_entry_oauth2_flow, entity_registry as er
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.oauth2_rest.const import DOMAIN

from .common import (
    API_BASE,
    AUTH_DOMAIN,
    NEW_TOKEN,
    TOKEN_URL,
    api_requests,
    endpoint_subentry,
    expire_token,
    reauth_flows,
    token_requests,
)

EXPIRED = time.time() - 60
SECRETS = (
    "stored-access-token",
    "stored-refresh-token",
    "new-access-token",
    "new-refresh-token",
    "test-secret",
)


async def test_setup_reads_endpoint_into_sensor(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A loaded account polls its endpoint with the stored token."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == "21.5"
    assert state.attributes["unit_of_measurement"] == "°C"
    _, url, _, headers = aioclient_mock.mock_calls[-1]
    assert str(url) == f"{API_BASE}/weather"
    assert headers["Authorization"] == "Bearer stored-access-token"

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED


def mock_weather(
    aioclient_mock: AiohttpClientMocker, temperature: float = 21.5
) -> None:
    """The API endpoint of the test account."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": temperature})


def assert_no_secrets_logged(caplog: pytest.LogCaptureFixture) -> None:
    """No token or secret in the log, and no traceback."""
    for secret in SECRETS:
        assert secret not in caplog.text
    # Debug logging may show a traceback (HA's "Full error"); nothing above it.
    assert not [
        record
        for record in caplog.records
        if record.levelno > logging.DEBUG and record.exc_info
    ]


@pytest.mark.parametrize("expires_at", [EXPIRED])
async def test_setup_refreshes_expired_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An expired stored token is refreshed once at setup and stored."""
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    mock_weather(aioclient_mock)
    await setup_integration()

    assert config_entry.state is ConfigEntryState.LOADED
    calls = token_requests(aioclient_mock)
    assert len(calls) == 1
    assert calls[0][2]["grant_type"] == "refresh_token"
    assert calls[0][2]["refresh_token"] == "stored-refresh-token"
    token = config_entry.data["token"]
    assert token["access_token"] == "new-access-token"
    assert token["refresh_token"] == "new-refresh-token"
    assert token["expires_at"] > time.time() + 3500
    # The API got the new token.
    _, _, _, headers = api_requests(aioclient_mock, "/weather")[-1]
    assert headers["Authorization"] == "Bearer new-access-token"
    assert hass.states.get("sensor.weather").state == "21.5"
    # Health reports the refresh.
    health = config_entry.runtime_data.account.data
    assert health.last_refresh is not None
    assert health.consecutive_refresh_failures == 0


@pytest.mark.parametrize("expires_at", [EXPIRED])
@pytest.mark.parametrize(
    ("status", "body"),
    [
        (HTTPStatus.BAD_REQUEST, {"error": "invalid_grant"}),
        (HTTPStatus.UNAUTHORIZED, {"error": "invalid_client"}),
        (HTTPStatus.OK, {"error": "invalid_grant"}),
    ],
)
async def test_setup_dead_grant_starts_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
    status: int,
    body: dict[str, Any],
) -> None:
    """A refused refresh at setup: setup error and exactly one reauth flow."""
    aioclient_mock.post(TOKEN_URL, status=status, json=body)
    mock_weather(aioclient_mock)
    await setup_integration()

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert len(token_requests(aioclient_mock)) == 1
    assert not api_requests(aioclient_mock, "/weather")
    flows = reauth_flows(hass)
    assert len(flows) == 1
    assert flows[0]["context"]["entry_id"] == config_entry.entry_id
    assert len(list(config_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))) == 1
    # The stored token is untouched.
    assert config_entry.data["token"]["refresh_token"] == "stored-refresh-token"
    assert_no_secrets_logged(caplog)


@pytest.mark.parametrize("expires_at", [EXPIRED])
@pytest.mark.parametrize(
    "mock_kwargs",
    [
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR, "json": {"error": "server_error"}},
        {"status": HTTPStatus.SERVICE_UNAVAILABLE, "text": "<html>down</html>"},
        {"status": HTTPStatus.TOO_MANY_REQUESTS, "json": {"error": "slow_down"}},
        {"exc": ClientConnectionError("refused")},
        {"exc": TimeoutError()},
        {"status": HTTPStatus.OK, "json": {"error": "temporarily_unavailable"}},
        {"status": HTTPStatus.OK, "json": {"token_type": "Bearer"}},
    ],
    ids=[
        "500",
        "503",
        "429",
        "connection",
        "timeout",
        "200-unavailable",
        "200-no-token",
    ],
)
async def test_setup_transient_token_error_retries(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
    mock_kwargs: dict[str, Any],
) -> None:
    """An unreachable token endpoint at setup: setup retried, no reauth."""
    aioclient_mock.post(TOKEN_URL, **mock_kwargs)
    mock_weather(aioclient_mock)
    await setup_integration()

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert len(token_requests(aioclient_mock)) == 1
    assert not api_requests(aioclient_mock, "/weather")
    assert not reauth_flows(hass)
    assert_no_secrets_logged(caplog)


async def test_deleted_credential_starts_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The entry's application credential is gone: re-link."""
    assert await async_setup_component(hass, APPLICATION_CREDENTIALS, {})
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert (
        config_entry.reason == "The application credential of this account is missing"
    )
    assert len(reauth_flows(hass)) == 1
    assert aioclient_mock.call_count == 0


class _ForeignImplementation(config_entry_oauth2_flow.AbstractOAuth2Implementation):
    """An implementation that is not a local one (e.g. a cloud account link)."""

    name = "Foreign"
    domain = AUTH_DOMAIN

    async def async_generate_authorize_url(self, flow_id: str) -> str:
        raise NotImplementedError

    async def async_resolve_external_data(self, external_data: Any) -> dict:
        raise NotImplementedError

    async def _async_refresh_token(self, token: dict) -> dict:
        raise NotImplementedError


async def test_foreign_implementation_not_ready(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An implementation without a client secret we can use: retry later."""
    assert await async_setup_component(hass, APPLICATION_CREDENTIALS, {})
    config_entry_oauth2_flow.async_register_implementation(
        hass, DOMAIN, _ForeignImplementation()
    )
    config_entry.add_to_hass(hass)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.SETUP_RETRY
    assert not reauth_flows(hass)
    assert aioclient_mock.call_count == 0


async def test_polling_dead_grant_reauth_without_retry_storm(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The grant dies while polling: unavailable, one reauth, then silence."""
    mock_weather(aioclient_mock)
    aioclient_mock.post(
        TOKEN_URL, status=HTTPStatus.BAD_REQUEST, json={"error": "invalid_grant"}
    )
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.weather").state == "21.5"
    assert not token_requests(aioclient_mock)

    # The token expires.
    freezer.tick(timedelta(hours=1, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()

    assert len(token_requests(aioclient_mock)) == 1
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    assert len(reauth_flows(hass)) == 1
    assert config_entry.state is ConfigEntryState.LOADED
    health = config_entry.runtime_data.account.data
    assert health.consecutive_refresh_failures == 1
    assert health.last_refresh_error == "OAuth2TokenRequestReauthError"
    api_calls = len(api_requests(aioclient_mock, "/weather"))

    # Hours later: not one more token request, not one more API call.
    for _ in range(10):
        freezer.tick(timedelta(minutes=30))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert len(token_requests(aioclient_mock)) == 1
    assert len(api_requests(aioclient_mock, "/weather")) == api_calls
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    assert len(reauth_flows(hass)) == 1

    # Anyone else asking for a token gets the latched error without a request.
    auth = config_entry.runtime_data.account.auth
    with pytest.raises(Exception, match="invalid_grant"):
        await auth.async_get_access_token()
    assert len(token_requests(aioclient_mock)) == 1
    assert_no_secrets_logged(caplog)


async def test_polling_transient_token_error_recovers(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The token endpoint is down while polling: unavailable, retried, recovers."""
    mock_weather(aioclient_mock)
    aioclient_mock.post(TOKEN_URL, status=HTTPStatus.SERVICE_UNAVAILABLE, json={})
    await setup_integration()
    assert hass.states.get("sensor.weather").state == "21.5"

    freezer.tick(timedelta(hours=1, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    failed = len(token_requests(aioclient_mock))
    assert failed >= 1
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    assert not reauth_flows(hass)
    health = config_entry.runtime_data.account.data
    assert health.consecutive_refresh_failures >= 1

    # Still down on the next interval: retried, not latched.
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(token_requests(aioclient_mock)) > failed
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE

    # The token endpoint is back.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    mock_weather(aioclient_mock, 19.0)
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    # The refresh writes the token file in the executor: wait for the poll too.
    await hass.async_block_till_done(wait_background_tasks=True)

    assert len(token_requests(aioclient_mock)) == 1
    assert hass.states.get("sensor.weather").state == "19.0"
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    health = config_entry.runtime_data.account.data
    assert health.consecutive_refresh_failures == 0
    assert health.last_refresh_error is None
    assert not reauth_flows(hass)
    assert_no_secrets_logged(caplog)


TWO_ENDPOINTS = [
    endpoint_subentry(),
    endpoint_subentry(
        title="Forecast",
        url="/forecast",
        value_template="{{ value_json.high }}",
        subentry_id="endpoint_forecast",
    ),
]


@pytest.mark.parametrize("subentries", [TWO_ENDPOINTS])
async def test_concurrent_expiry_single_token_request(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two endpoints, one account: one refresh when the token expires."""
    mock_weather(aioclient_mock)
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25})
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    assert hass.states.get("sensor.weather").state == "21.5"
    assert hass.states.get("sensor.forecast").state == "25"
    assert not token_requests(aioclient_mock)

    # Past expiry, both endpoints and the account wake up together.
    freezer.tick(timedelta(hours=1, minutes=1))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert len(token_requests(aioclient_mock)) == 1

    # Expired again; both endpoints refresh at the very same moment.
    runtime = config_entry.runtime_data
    expire_token(hass, config_entry, time.time() - 60)
    await asyncio.gather(
        *(coordinator.async_refresh() for coordinator in runtime.endpoints.values())
    )
    assert len(token_requests(aioclient_mock)) == 2
    for path in ("/weather", "/forecast"):
        _, _, _, headers = api_requests(aioclient_mock, path)[-1]
        assert headers["Authorization"] == "Bearer new-access-token"


@pytest.mark.parametrize("subentries", [TWO_ENDPOINTS])
async def test_api_401_on_two_endpoints_single_refresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The API rejects a token that looked valid: one forced refresh for both."""
    mock_weather(aioclient_mock)
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25})
    await setup_integration()

    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    seen: list[str] = []
    both_rejected = asyncio.Event()

    # The API refuses the stored token (once both endpoints sent it), accepts the
    # new one.
    def api(path: str, body: dict[str, Any]) -> None:
        async def side_effect(
            method: str, url: Any, data: Any
        ) -> AiohttpClientMockResponse:
            headers = aioclient_mock.mock_calls[-1][3]
            seen.append(headers["Authorization"])
            if headers["Authorization"] == "Bearer stored-access-token":
                if seen.count("Bearer stored-access-token") == 2:
                    both_rejected.set()
                await both_rejected.wait()
                return AiohttpClientMockResponse(method, url, status=401)
            return AiohttpClientMockResponse(method, url, json=body)

        aioclient_mock.get(f"{API_BASE}{path}", side_effect=side_effect)

    api("/weather", {"temperature": 18})
    api("/forecast", {"high": 30})
    runtime = config_entry.runtime_data
    await asyncio.gather(
        *(coordinator.async_refresh() for coordinator in runtime.endpoints.values())
    )
    await hass.async_block_till_done()

    assert len(token_requests(aioclient_mock)) == 1
    assert hass.states.get("sensor.weather").state == "18"
    assert hass.states.get("sensor.forecast").state == "30"
    assert seen.count("Bearer stored-access-token") == 2
    assert seen.count("Bearer new-access-token") == 2
    assert not reauth_flows(hass)


async def test_api_401_after_refresh_starts_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """401 even with a fresh token: the grant no longer works."""
    mock_weather(aioclient_mock)
    await setup_integration()
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(f"{API_BASE}/weather", status=HTTPStatus.UNAUTHORIZED)

    coordinator = next(iter(config_entry.runtime_data.endpoints.values()))
    await coordinator.async_refresh()
    await hass.async_block_till_done()

    assert len(token_requests(aioclient_mock)) == 1
    assert len(api_requests(aioclient_mock, "/weather")) == 2
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    assert len(reauth_flows(hass)) == 1


async def test_unload_is_clean(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """After unload nothing polls any more."""
    mock_weather(aioclient_mock)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    calls = aioclient_mock.call_count

    freezer.tick(timedelta(hours=2))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == calls
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE


# -- endpoints and options change without reloading the account ------------------


def _same_runtime(entry: MockConfigEntry) -> tuple[object, ...]:
    runtime = entry.runtime_data
    return (runtime, runtime.account, runtime.account.session, runtime.account.auth)


@pytest.mark.parametrize("subentries", [TWO_ENDPOINTS])
async def test_adding_an_endpoint_leaves_the_account_running(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A new endpoint starts alone: no reload, no other fetch, no token request."""
    mock_weather(aioclient_mock)
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25})
    aioclient_mock.get(f"{API_BASE}/wind", json={"speed": 4})
    await setup_integration()
    before = _same_runtime(config_entry)
    others = dict(config_entry.runtime_data.endpoints)
    start = len(aioclient_mock.mock_calls)

    hass.config_entries.async_add_subentry(
        config_entry,
        ConfigSubentry(
            **endpoint_subentry(
                title="Wind",
                url="/wind",
                subentry_id="w",
                value_template="{{ value_json.speed }}",
            )
        ),
    )
    await hass.async_block_till_done()

    assert config_entry.state is ConfigEntryState.LOADED
    assert _same_runtime(config_entry) == before
    endpoints = config_entry.runtime_data.endpoints
    assert all(endpoints[sid] is coordinator for sid, coordinator in others.items())
    assert [str(call[1]) for call in aioclient_mock.mock_calls[start:]] == [
        f"{API_BASE}/wind"
    ]
    assert hass.states.get("sensor.wind").state == "4"
    assert hass.states.get("sensor.weather").state == "21.5"


@pytest.mark.parametrize("subentries", [TWO_ENDPOINTS])
async def test_removing_an_endpoint_stops_only_it(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A removed endpoint's polling and entities stop; the rest keeps going."""
    mock_weather(aioclient_mock)
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25})
    await setup_integration()
    before = _same_runtime(config_entry)
    weather = config_entry.runtime_data.endpoints["endpoint_weather"]
    start = len(aioclient_mock.mock_calls)

    hass.config_entries.async_remove_subentry(config_entry, "endpoint_forecast")
    await hass.async_block_till_done()

    assert _same_runtime(config_entry) == before
    assert config_entry.runtime_data.endpoints == {"endpoint_weather": weather}
    assert hass.states.get("sensor.forecast") is None
    assert not aioclient_mock.mock_calls[start:]
    freezer.tick(timedelta(minutes=5))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    later = aioclient_mock.mock_calls[start:]
    assert f"{API_BASE}/weather" in [str(call[1]) for call in later]
    assert f"{API_BASE}/forecast" not in [str(call[1]) for call in later]


@pytest.mark.parametrize("subentries", [TWO_ENDPOINTS])
async def test_editing_an_endpoint_replaces_only_it(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
) -> None:
    """An edited endpoint gets a new coordinator; its entities keep their ids."""
    mock_weather(aioclient_mock)
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25, "low": 9})
    await setup_integration()
    before = _same_runtime(config_entry)
    weather = config_entry.runtime_data.endpoints["endpoint_weather"]
    old = config_entry.runtime_data.endpoints["endpoint_forecast"]
    registry_id = entity_registry.async_get("sensor.forecast").id
    start = len(aioclient_mock.mock_calls)

    subentry = config_entry.subentries["endpoint_forecast"]
    data = dict(subentry.data)
    data["values"] = [{**data["values"][0], "value_template": "{{ value_json.low }}"}]
    hass.config_entries.async_update_subentry(config_entry, subentry, data=data)
    await hass.async_block_till_done()

    endpoints = config_entry.runtime_data.endpoints
    assert _same_runtime(config_entry) == before
    assert endpoints["endpoint_weather"] is weather
    assert endpoints["endpoint_forecast"] is not old
    assert hass.states.get("sensor.forecast").state == "9"
    assert entity_registry.async_get("sensor.forecast").id == registry_id
    assert [str(call[1]) for call in aioclient_mock.mock_calls[start:]] == [
        f"{API_BASE}/forecast"
    ]


async def test_options_apply_in_place(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Allowed origins and the size cap reach the running client; nothing reloads."""
    mock_weather(aioclient_mock)
    await setup_integration()
    before = _same_runtime(config_entry)
    hass.config_entries.async_update_entry(
        config_entry,
        options={
            "allowed_origins": ["https://files.example.com"],
            "max_response_bytes": 2048,
        },
    )
    await hass.async_block_till_done()
    assert _same_runtime(config_entry) == before
    auth = config_entry.runtime_data.account.auth
    assert "https://files.example.com" in auth.policy.allowed_origins
    assert auth.max_response_bytes == 2048


async def test_many_endpoints_added_one_after_another(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Thirty endpoints added back to back: each fetched once, none refused."""
    mock_weather(aioclient_mock)
    for number in range(30):
        aioclient_mock.get(f"{API_BASE}/n{number}", json={"n": number})
    await setup_integration()
    start = len(aioclient_mock.mock_calls)
    for number in range(30):
        hass.config_entries.async_add_subentry(
            config_entry,
            ConfigSubentry(
                **endpoint_subentry(
                    title=f"N{number}",
                    url=f"/n{number}",
                    subentry_id=f"n{number}",
                    value_template="{{ value_json.n }}",
                    unit=None,
                )
            ),
        )
    await hass.async_block_till_done()
    assert config_entry.state is ConfigEntryState.LOADED
    assert len(config_entry.runtime_data.endpoints) == 31
    assert len(aioclient_mock.mock_calls) - start == 30
    assert hass.states.get("sensor.n29").state == "29"


async def test_change_after_unload_is_ignored(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A change arriving once the account is unloaded waits for the next setup."""
    mock_weather(aioclient_mock)
    await setup_integration()
    listener = config_entry.update_listeners[0]
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    await listener(hass, config_entry)
    assert config_entry.state is ConfigEntryState.NOT_LOADED


async def test_change_waiting_for_an_unload_is_dropped(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Changes and unloads take turns; a change behind an unload does nothing."""
    mock_weather(aioclient_mock)
    await setup_integration()
    runtime = config_entry.runtime_data
    listener = config_entry.update_listeners[0]
    await runtime.changes.acquire()
    unload = hass.async_create_task(
        hass.config_entries.async_unload(config_entry.entry_id)
    )
    await asyncio.sleep(0)
    assert config_entry.state is ConfigEntryState.UNLOAD_IN_PROGRESS
    change = hass.async_create_task(listener(hass, config_entry))
    runtime.changes.release()
    assert await unload
    await change
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert runtime.endpoints["endpoint_weather"].entities == set()
