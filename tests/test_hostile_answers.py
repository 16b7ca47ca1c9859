"""Hostile requests and careless answers, through a real account on real servers.

An endpoint or an action that names an owned header (``Host`` would route the token
to another site behind the same front end), a Retry-After of "²" or 0, rate-limit
headers with nothing left or from another origin, a charset that is not one: none
may send the token elsewhere, crash, flood the API or stop polling for longer
than the reset.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
from email.utils import formatdate
import logging
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import ServiceValidationError
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from .common import tick
from .echo import REISSUED_TOKEN, echo_subentry

pytestmark = pytest.mark.usefixtures("socket_enabled")

JSON = {"Content-Type": "application/json"}
WEATHER = b'{"temperature": 21}'


@dataclass(slots=True)
class Answer:
    """What a server answers at a path."""

    status: int = 200
    headers: dict[str, str] = field(default_factory=lambda: dict(JSON))
    body: bytes = WEATHER


@dataclass(slots=True)
class Scripted:
    """The API (the account's origin) and another origin, answering as told."""

    api: str = ""
    other: str = ""
    answers: dict[tuple[str, str], Answer] = field(default_factory=dict)
    # (server, path, Host header received, Authorization received)
    seen: list[tuple[str, str, str | None, str | None]] = field(default_factory=list)

    def requests(self, server: str = "api", path: str = "") -> int:
        """How many requests a server received (at a path, if given)."""
        return sum(
            1 for s, p, _, _ in self.seen if s == server and (not path or p == path)
        )


def _app(name: str, scripted: Scripted) -> web.Application:
    async def answer(request: web.Request) -> web.StreamResponse:
        if request.path == "/token" and request.method == "POST":
            return web.json_response(REISSUED_TOKEN)
        scripted.seen.append(
            (
                name,
                request.path,
                request.headers.get("Host"),
                request.headers.get("Authorization"),
            )
        )
        if request.path.endswith("/redirect"):
            return web.Response(status=302, headers={"Location": request.query["to"]})
        spec = scripted.answers.get((name, request.path), Answer())
        return web.Response(status=spec.status, body=spec.body, headers=spec.headers)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", answer)
    return app


@pytest.fixture
async def echo_servers(socket_enabled: None) -> AsyncIterator[Scripted]:
    """The scripted API (used by the echo account) and another origin."""
    scripted = Scripted()
    api = TestServer(_app("api", scripted), host="127.0.0.1")
    other = TestServer(_app("other", scripted), host="127.0.0.1")
    # No access log: its own formatting errors (under a frozen clock) are not ours.
    await api.start_server(access_log=None)
    await other.start_server(access_log=None)
    scripted.api = str(api.make_url("")).rstrip("/")
    scripted.other = str(other.make_url("")).rstrip("/")
    yield scripted
    await api.close()
    await other.close()


def weather(title: str = "Weather", **request: Any) -> ConfigSubentryData:
    """An endpoint with one sensor: the temperature."""
    values = [
        {
            "key": "temperature",
            "name": title,
            "platform": "sensor",
            "value_template": "{{ value_json.temperature }}",
        }
    ]
    return echo_subentry(title, values, **{"url": "/weather", **request})


@pytest.fixture
def echo_subentries() -> list[ConfigSubentryData]:
    """One endpoint polling /v1/weather every minute."""
    return [weather()]


async def call(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> Any:
    """Call the action and return its response."""
    return await hass.services.async_call(
        DOMAIN,
        "request",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )


async def preview(hass: HomeAssistant, entry: MockConfigEntry, **changes: Any) -> Any:
    """Submit the endpoint's request step; the preview (or the form with errors)."""
    result = await entry.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Weather",
            "method": "GET",
            "url": "/weather",
            "scan_interval": 60,
            "timeout": 10,
            **changes,
        },
    )
    hass.config_entries.subentries.async_abort(result["flow_id"])
    return result


def coordinator(entry: MockConfigEntry, subentry_id: str = "endpoint_weather") -> Any:
    """An endpoint's coordinator."""
    return entry.runtime_data.endpoints[subentry_id]


# -- owned headers ---------------------------------------------------------------


@pytest.mark.parametrize(
    "line",
    [
        "Host: other.example",
        "hOST: other.example",
        "Proxy-Authorization: Basic eDp5",
        "Content-Length: 0",
        "Transfer-Encoding: chunked",
        "Connection: close",
        "X-Forwarded-Host: other.example",
        "Authorization: Bearer mine",
    ],
)
async def test_flow_refuses_owned_headers(
    hass: HomeAssistant, echo_entry: MockConfigEntry, line: str
) -> None:
    """The request step refuses them (failed on the old code: only Authorization)."""
    result = await preview(hass, echo_entry, headers=f"X-Api-Key: k\n{line}")
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"headers": "owned_header"}


async def test_flow_keeps_headers_that_are_the_users(
    hass: HomeAssistant, echo_entry: MockConfigEntry
) -> None:
    """A cookie, an API key, X-Forwarded-For: sent with the preview."""
    result = await preview(
        hass, echo_entry, headers="Cookie: session=1\nX-Forwarded-For: 10.0.0.1"
    )
    assert result["step_id"] == "preview"
    assert not result["errors"]


@pytest.mark.parametrize(
    "headers",
    [
        {"Host": "other.example"},
        {"authorization": "Bearer mine"},
        {"X-Forwarded-Host": "other.example"},
        {"Transfer-Encoding": "chunked"},
    ],
)
async def test_action_refuses_owned_headers(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    headers: dict[str, str],
) -> None:
    """Refused before anything is sent, the header named, with its translation.

    Failed on the old code: Host was sent with the token, Authorization silently
    replaced.
    """
    before = echo_servers.requests()
    with pytest.raises(ServiceValidationError) as err:
        await call(hass, echo_entry, url="/me", headers=headers)
    assert err.value.translation_key == "owned_header"
    assert err.value.translation_placeholders["header"] == next(iter(headers))
    assert echo_servers.requests() == before


@pytest.mark.parametrize(
    "echo_subentries",
    [[weather(headers={"X-Api-Key": "k", "Host": "other.example"})]],
)
async def test_stored_owned_header_is_never_sent(
    hass: HomeAssistant, echo_servers: Scripted, echo_entry: MockConfigEntry
) -> None:
    """An endpoint stored before the rule: its polls fail, translated, unsent.

    Failed on the old code: polled with ``Host: other.example`` and the token.
    """
    assert echo_servers.requests(path="/v1/weather") == 0
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    err = coordinator(echo_entry).last_exception
    assert isinstance(err, UpdateFailed)
    assert err.translation_key == "owned_header"


# -- rate limits -----------------------------------------------------------------


@pytest.mark.parametrize(
    "echo_subentries",
    [[weather(f"W{n}", url=f"/weather/{n}") for n in range(5)]],
)
async def test_nothing_left_waits_only_until_the_reset(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Five endpoints, nothing left for 10 minutes: each waits 10 minutes, not 50.

    Then they poll at their interval again. Failed on the old code (3000 s).
    """
    empty = {**JSON, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "600"}
    for n in range(5):
        echo_servers.answers["api", f"/v1/weather/{n}"] = Answer(headers=empty)
    await tick(hass, freezer, 61)
    endpoints = list(echo_entry.runtime_data.endpoints.values())
    assert {c.poll_interval for c in endpoints} == {timedelta(seconds=600)}
    echo_servers.answers.clear()  # the new window: no limit announced
    polled = echo_servers.requests()
    await tick(hass, freezer, 540)
    assert echo_servers.requests() == polled
    await tick(hass, freezer, 62)
    assert echo_servers.requests() == polled + 5
    await tick(hass, freezer, 61)
    assert echo_servers.requests() == polled + 10
    assert {c.poll_interval for c in endpoints} == {timedelta(seconds=60)}


async def test_rate_limit_of_another_origin_is_not_the_accounts(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
) -> None:
    """A redirect target that never got the token does not throttle the account.

    Failed on the old code: its "nothing left for an hour" stretched every poll.
    """
    echo_servers.answers["other", "/elsewhere"] = Answer(
        headers={**JSON, "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "3600"}
    )
    response = await call(
        hass,
        echo_entry,
        url="/redirect",
        params={"to": f"{echo_servers.other}/elsewhere"},
    )
    assert response["headers"]["X-RateLimit-Remaining"] == "0"
    assert echo_servers.seen[-1][0] == "other"
    assert echo_servers.seen[-1][3] is None  # no token went there
    assert coordinator(echo_entry).poll_interval == timedelta(seconds=60)
    assert echo_entry.runtime_data.account.data.rate_limit_remaining is None


@pytest.mark.parametrize(
    "headers",
    [
        {"X-RateLimit-Remaining": "٠", "X-RateLimit-Reset": "3600"},
        {"RateLimit": "r=0;t=1e3"},
        {"RateLimit": f"r={'9' * 5000};t=60"},
    ],
)
async def test_odd_rate_limit_numbers(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    headers: dict[str, str],
) -> None:
    """Non-ASCII zeros throttle nothing; 5000 digits crash nothing.

    Failed on the old code: "٠" was 0 (an hour's wait), 5000 digits a ValueError.
    """
    echo_servers.answers["api", "/v1/limits"] = Answer(headers={**JSON, **headers})
    response = await call(hass, echo_entry, url="/limits")
    assert response["status"] == 200
    assert coordinator(echo_entry).poll_interval == timedelta(seconds=60)


# -- Retry-After -----------------------------------------------------------------


@pytest.mark.parametrize("retry_after", ["²", "①", "٣", "1e3", "-5", "soon"])
async def test_odd_retry_after(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
    retry_after: str,
) -> None:
    """Not a Retry-After: the preview and polls say "rate limited", no more.

    Failed on the old code: "²" and "①" raised ValueError out of both.
    """
    limited = Answer(status=429, headers={"Retry-After": retry_after}, body=b"")
    echo_servers.answers["api", "/v1/weather"] = limited
    response = await call(hass, echo_entry, url="/weather")
    assert response["headers"]["Retry-After"] == retry_after
    result = await preview(hass, echo_entry)
    assert result["errors"] == {"base": "rate_limited"}
    caplog.clear()
    await tick(hass, freezer, 61)
    assert "Traceback" not in caplog.text
    err_poll = coordinator(echo_entry).last_exception
    assert isinstance(err_poll, UpdateFailed)
    assert err_poll.translation_key == "rate_limited"
    assert err_poll.retry_after is None


@pytest.mark.parametrize("retry_after", ["0", "past date"])
async def test_retry_after_never_polls_faster_than_configured(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    freezer: FrozenDateTimeFactory,
    retry_after: str,
) -> None:
    """A Retry-After of 0 or in the past: the next poll still waits its minute.

    Failed on the old code: the endpoint polled every second.
    """
    value = formatdate(time.time() - 3600, usegmt=True) if retry_after != "0" else "0"
    echo_servers.answers["api", "/v1/weather"] = Answer(
        status=503, headers={"Retry-After": value}, body=b""
    )
    await tick(hass, freezer, 61)
    polled = echo_servers.requests(path="/v1/weather")
    for _ in range(30):
        await tick(hass, freezer, 1)
    assert echo_servers.requests(path="/v1/weather") == polled
    await tick(hass, freezer, 31)
    assert echo_servers.requests(path="/v1/weather") == polled + 1


# -- charsets and encodings --------------------------------------------------------


@pytest.mark.parametrize("charset", ["undefined", "idna", "base64", "utf-7"])
async def test_charset_that_is_not_one(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
    charset: str,
) -> None:
    """The API's charset is ignored when it cannot decode: UTF-8 then.

    Failed on the old code: "undefined" raised UnicodeError out of the action,
    the preview and polls.
    """
    echo_servers.answers["api", "/v1/weather"] = Answer(
        headers={"Content-Type": f"text/plain; charset={charset}"},
        body='{"temperature": 21, "city": "Kraków"}'.encode(),
    )
    response = await call(hass, echo_entry, url="/weather")
    assert "Kraków" in response["content"]
    result = await preview(hass, echo_entry)
    assert result["step_id"] == "preview"
    caplog.clear()
    await tick(hass, freezer, 61)
    assert "Traceback" not in caplog.text
    assert hass.states.get("sensor.weather").state == "21"


@pytest.mark.parametrize("encoding", ["base64", "rot13", "zlib", "undefined", "idna"])
async def test_encoding_option_is_a_text_encoding(
    hass: HomeAssistant, echo_entry: MockConfigEntry, encoding: str
) -> None:
    """The form refuses codecs that crash every poll (failed on the old code)."""
    result = await preview(hass, echo_entry, encoding=encoding)
    assert result["errors"] == {"encoding": "invalid_encoding"}


@pytest.mark.parametrize(
    "echo_subentries", [[weather(encoding="base64")], [weather(encoding="undefined")]]
)
async def test_stored_encoding_that_is_not_text(
    hass: HomeAssistant,
    echo_servers: Scripted,
    echo_entry: MockConfigEntry,
    echo_subentries: list[ConfigSubentryData],
    caplog: pytest.LogCaptureFixture,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A poll fails with a translated error naming the encoding, no traceback.

    Failed on the old code: LookupError or UnicodeError escaped every poll.
    """
    caplog.set_level(logging.DEBUG)
    echo_servers.answers["api", "/v1/weather"] = Answer(
        headers={"Content-Type": "application/json"}
    )
    await tick(hass, freezer, 61)
    assert "Traceback" not in caplog.text
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    err = coordinator(echo_entry).last_exception
    assert isinstance(err, UpdateFailed)
    assert err.translation_key == "undecodable_body"
    encoding = echo_subentries[0]["data"]["encoding"]
    assert err.translation_placeholders == {"target": "Weather", "encoding": encoding}
