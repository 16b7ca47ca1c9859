"""HTTP behaviour of an endpoint's polling, asserted on the wire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from http import HTTPStatus
import logging
import time
from typing import Any

from aiohttp import ClientConnectionError
from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.const import CONF_MAX_RESPONSE_BYTES, DOMAIN
from custom_components.oauth2_rest.values import UNPARSED

from .common import (
    API_BASE,
    NEW_TOKEN,
    TOKEN_URL,
    api_requests,
    endpoint_subentry,
    expire_token,
    reauth_flows,
    respond,
    state,
    tick,
    token_requests,
)

WEATHER = f"{API_BASE}/weather"
Setup = Callable[[], Awaitable[None]]


async def test_401_refresh_and_retry_once(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """401 with a valid-looking token: one forced refresh, one retry, success."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"status": HTTPStatus.UNAUTHORIZED},
        {"json": {"temperature": 22}},
    )
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    assert state(hass) == "20"

    await tick(hass, freezer, 61)
    assert state(hass) == "22"
    assert len(token_requests(aioclient_mock)) == 1
    calls = api_requests(aioclient_mock, "/weather")
    assert [c[3]["Authorization"] for c in calls[-2:]] == [
        "Bearer stored-access-token",
        "Bearer new-access-token",
    ]
    assert not reauth_flows(hass)


async def test_second_401_is_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """401 again with the refreshed token: reauth, polling stops."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"status": HTTPStatus.UNAUTHORIZED},
    )
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    await tick(hass, freezer, 61)
    assert state(hass) == STATE_UNAVAILABLE
    assert len(token_requests(aioclient_mock)) == 1
    assert len(reauth_flows(hass)) == 1
    calls = len(api_requests(aioclient_mock, "/weather"))
    await tick(hass, freezer, 600)
    assert len(api_requests(aioclient_mock, "/weather")) == calls


async def test_403_repair_issue_created_and_cleared(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    issue_registry: ir.IssueRegistry,
) -> None:
    """403: a repair issue (not a reauth); the next success clears it."""
    respond(
        aioclient_mock,
        WEATHER,
        {"status": HTTPStatus.FORBIDDEN, "text": "Forbidden"},
        {"json": {"temperature": 23}},
    )
    await setup_integration()
    assert state(hass) == STATE_UNAVAILABLE
    issue = issue_registry.async_get_issue(
        DOMAIN, f"forbidden_{config_entry.entry_id}_endpoint_weather"
    )
    assert issue is not None
    assert issue.translation_key == "endpoint_forbidden"
    assert issue.translation_placeholders == {
        "endpoint": "Weather",
        "account": config_entry.title,
    }
    assert not reauth_flows(hass)
    assert not token_requests(aioclient_mock)

    await tick(hass, freezer, 61)
    assert state(hass) == "23"
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"forbidden_{config_entry.entry_id}_endpoint_weather"
        )
        is None
    )


async def test_stale_403_issue_removed_with_endpoint(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    issue_registry: ir.IssueRegistry,
) -> None:
    """Removing the endpoint removes its repair issue on the reload."""
    aioclient_mock.get(WEATHER, status=HTTPStatus.FORBIDDEN, text="Forbidden")
    await setup_integration()
    ir.async_create_issue(
        hass,
        DOMAIN,
        "unrelated",
        is_fixable=False,
        severity=ir.IssueSeverity.WARNING,
        translation_key="endpoint_forbidden",
    )
    assert issue_registry.async_get_issue(
        DOMAIN, f"forbidden_{config_entry.entry_id}_endpoint_weather"
    )
    assert hass.config_entries.async_remove_subentry(config_entry, "endpoint_weather")
    await hass.async_block_till_done()
    assert (
        issue_registry.async_get_issue(
            DOMAIN, f"forbidden_{config_entry.entry_id}_endpoint_weather"
        )
        is None
    )
    assert issue_registry.async_get_issue(DOMAIN, "unrelated") is not None


@pytest.mark.parametrize("status", [HTTPStatus.TOO_MANY_REQUESTS, 503])
async def test_retry_after_respected(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    status: int,
) -> None:
    """429/503 + Retry-After: no request before that, even past the interval."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"status": status, "headers": {"Retry-After": "300"}},
        {"json": {"temperature": 21}},
    )
    await setup_integration()
    await tick(hass, freezer, 61)
    assert state(hass) == STATE_UNAVAILABLE
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    assert isinstance(coordinator.last_exception, UpdateFailed)
    assert coordinator.last_exception.retry_after == 300
    calls = len(api_requests(aioclient_mock, "/weather"))

    # Well past the 60 s interval, but not yet past Retry-After.
    for _ in range(4):
        await tick(hass, freezer, 60)
    assert len(api_requests(aioclient_mock, "/weather")) == calls
    await tick(hass, freezer, 62)
    assert len(api_requests(aioclient_mock, "/weather")) == calls + 1
    assert state(hass) == "21"
    # Back on the normal interval.
    await tick(hass, freezer, 61)
    assert len(api_requests(aioclient_mock, "/weather")) == calls + 2


async def test_304_keeps_data(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Validators are sent back; a 304 keeps the very same data object."""
    respond(
        aioclient_mock,
        WEATHER,
        {
            "json": {"temperature": 20},
            "headers": {
                "ETag": '"v1"',
                "Last-Modified": "Sun, 01 Nov 2026 10:00:00 GMT",
            },
        },
        {"status": HTTPStatus.NOT_MODIFIED},
    )
    await setup_integration()
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    first = coordinator.data
    await tick(hass, freezer, 61)
    assert coordinator.data is first
    assert coordinator.last_update_success
    assert state(hass) == "20"
    headers = api_requests(aioclient_mock, "/weather")[-1][3]
    assert headers["If-None-Match"] == '"v1"'
    assert headers["If-Modified-Since"] == "Sun, 01 Nov 2026 10:00:00 GMT"


async def test_parsed_json_let_go_once_rendered(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Entities told of an answer have rendered it: its parsed JSON is let go.

    Read again, it is parsed from the text; an equal answer nobody is told of
    keeps none either; an XML answer gives its conversion again; no JSON stays None.
    """
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"json": {"temperature": 21}, "headers": {"X-Other": "1"}},
        {"json": {"temperature": 21}, "headers": {"ETag": '"v2"'}},
        {
            "text": "<temperature>22</temperature>",
            "headers": {"Content-Type": "application/xml"},
        },
        {"text": "<w>", "headers": {"Content-Type": "application/xml"}},
    )
    await setup_integration()
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    assert state(hass) == "20"
    assert coordinator.data.parsed is UNPARSED  # its entity was added: let go
    assert coordinator.data.json == {"temperature": 20}
    assert coordinator.data.parsed == {"temperature": 20}
    await tick(hass, freezer, 61)
    assert state(hass) == "21"
    first = coordinator.data
    assert first.parsed is UNPARSED  # its entity was told
    await tick(hass, freezer, 61)  # equal (a new validator): nobody told
    assert coordinator.data is not first
    assert coordinator.data == first
    assert coordinator.data.parsed is UNPARSED
    await tick(hass, freezer, 61)
    assert state(hass) == "22"
    xml = coordinator.data
    assert xml.parsed is UNPARSED
    assert xml.json == {"temperature": "22"}
    await tick(hass, freezer, 61)
    assert coordinator.data.json is None
    coordinator.data.release_json()
    assert coordinator.data.parsed is None
    assert coordinator.data.text == "<w>"


async def test_oversize_refused(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Over the configured cap: refused with a clear error, entity unavailable."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_MAX_RESPONSE_BYTES: 1000}
    )
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"text": '{"temperature": 21, "pad": "' + "x" * 5000 + '"}'},
    )
    await setup_integration()
    assert config_entry.runtime_data.account.auth.max_response_bytes == 1000
    assert state(hass) == "20"
    await tick(hass, freezer, 61)
    assert state(hass) == STATE_UNAVAILABLE
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    assert isinstance(coordinator.last_exception, UpdateFailed)
    assert coordinator.last_exception.translation_key == "too_large"
    assert "larger than 1000 bytes" in caplog.text


@pytest.mark.parametrize(
    "subentries",
    [[endpoint_subentry(value_template="{{ value | trim | upper }}", unit=None)]],
)
async def test_non_json_body_as_value(
    hass: HomeAssistant, setup_integration: Setup, aioclient_mock: AiohttpClientMocker
) -> None:
    """A text body is there for templates as ``value``."""
    aioclient_mock.get(
        WEATHER, text="  sunny \n", headers={"Content-Type": "text/plain"}
    )
    await setup_integration()
    assert state(hass) == "SUNNY"


async def test_cross_origin_redirect_drops_authorization(
    hass: HomeAssistant, setup_integration: Setup, aioclient_mock: AiohttpClientMocker
) -> None:
    """Same-origin redirect keeps the token; another origin never gets it."""
    aioclient_mock.get(
        WEATHER,
        status=HTTPStatus.FOUND,
        headers={"Location": "/v1/weather-now"},
    )
    aioclient_mock.get(
        f"{API_BASE}/weather-now",
        status=HTTPStatus.TEMPORARY_REDIRECT,
        headers={"Location": "https://cdn.example.net/weather.json"},
    )
    aioclient_mock.get("https://cdn.example.net/weather.json", json={"temperature": 9})
    await setup_integration()
    assert state(hass) == "9"
    calls = aioclient_mock.mock_calls
    assert [str(c[1]) for c in calls] == [
        WEATHER,
        f"{API_BASE}/weather-now",
        "https://cdn.example.net/weather.json",
    ]
    assert calls[1][3]["Authorization"] == "Bearer stored-access-token"
    assert "Authorization" not in calls[2][3]


async def test_unavailable_logged_once_and_recovery_once(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Three failed polls log once; coming back logs once."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}},
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR},
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR},
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR},
        {"json": {"temperature": 21}},
    )
    await setup_integration()
    caplog.clear()
    caplog.set_level(logging.INFO, logger="custom_components.oauth2_rest")
    for _ in range(3):
        await tick(hass, freezer, 61)
        assert state(hass) == STATE_UNAVAILABLE
    await tick(hass, freezer, 61)
    assert state(hass) == "21"
    await tick(hass, freezer, 61)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "Error fetching oauth2_rest endpoint Weather data: Weather: the API answered HTTP 500"
    ]
    recovered = [r for r in caplog.records if "recovered" in r.getMessage()]
    assert len(recovered) == 1


def _post_subentry(body: str) -> list[Any]:
    sub = endpoint_subentry(value_template="{{ value_json.ok }}", unit=None)
    sub["data"] = {**sub["data"], "method": "POST", "body": body}
    return [sub]


@pytest.mark.parametrize(
    ("subentries", "sent"),
    [
        (_post_subentry('{"n": {{ 40 + 2 }}}'), {"n": 42}),
        (_post_subentry("plain {{ 'text' }}"), "plain text"),
    ],
)
async def test_body_rendered_and_sent(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    sent: Any,
) -> None:
    """A body renders each poll: JSON is sent as JSON, anything else as text."""
    aioclient_mock.post(WEATHER, json={"ok": "yes"})
    await setup_integration()
    assert state(hass) == "yes"
    method, _, data, _ = aioclient_mock.mock_calls[-1]
    assert method == "POST"
    assert data == sent


@pytest.mark.parametrize("subentries", [_post_subentry("{{ 1 / 0 }}")])
async def test_body_template_error(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A body that fails to render: nothing is sent, the entity is unavailable."""
    await setup_integration()
    assert state(hass) == STATE_UNAVAILABLE
    assert not api_requests(aioclient_mock, "/weather")


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint_subentry(scan_interval=10),
            endpoint_subentry(
                title="Forecast",
                url="/forecast",
                value_template="{{ value_json.high }}",
                subentry_id="endpoint_forecast",
                scan_interval=25,
            ),
        ]
    ],
)
async def test_different_intervals_share_one_refresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two endpoints at 10 s and 25 s; the token expires: one token request."""
    aioclient_mock.get(WEATHER, json={"temperature": 20})
    aioclient_mock.get(f"{API_BASE}/forecast", json={"high": 25})
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    runtime = config_entry.runtime_data
    assert {c.poll_interval for c in runtime.endpoints.values()} == {
        timedelta(seconds=10),
        timedelta(seconds=25),
    }
    # The token expires behind everyone's back; both poll over the next minute.
    expire_token(hass, config_entry, time.time() - 1)
    for _ in range(6):
        await tick(hass, freezer, 10)
    assert len(token_requests(aioclient_mock)) == 1
    for path in ("/weather", "/forecast"):
        assert (
            api_requests(aioclient_mock, path)[-1][3]["Authorization"]
            == "Bearer new-access-token"
        )


@pytest.mark.parametrize(
    ("subentries", "key"),
    [
        (
            [endpoint_subentry(url="https://elsewhere.example.org/x")],
            "origin_not_allowed",
        ),
        ([endpoint_subentry(url="/down")], "cannot_connect"),
        ([endpoint_subentry(url="/loop")], "too_many_redirects"),
    ],
)
async def test_errors_are_translated_update_failures(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    key: str,
) -> None:
    """Refused origin, connection error, redirect loop: retried update failures."""
    aioclient_mock.get(f"{API_BASE}/down", exc=ClientConnectionError("down"))
    aioclient_mock.get(
        f"{API_BASE}/loop", status=HTTPStatus.FOUND, headers={"Location": "/v1/loop"}
    )
    await setup_integration()
    assert state(hass) == STATE_UNAVAILABLE
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    assert isinstance(coordinator.last_exception, UpdateFailed)
    assert coordinator.last_exception.translation_key == key
    if key == "origin_not_allowed":
        assert not aioclient_mock.mock_calls
