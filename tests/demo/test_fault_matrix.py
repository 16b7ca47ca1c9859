"""Token endpoint fault matrix against the real demo provider, over loopback.

The account is linked through the real flow (device grant), gets an endpoint,
then the provider answers one refresh with an injected fault (``/demo/faults``).
For each fault: the entry state, reauth flows, repair issues, token requests,
entity availability, the token on disk (unchanged or newer, never lost) and
whether the account recovers once the fault is gone. Transient faults must
recover without user action; faults that mean a dead grant must ask for reauth
once and send nothing more.

``FAULT_TABLE=path pytest tests/demo/test_fault_matrix.py`` appends the table rows.
"""

from __future__ import annotations

from dataclasses import dataclass
import json
import os
from pathlib import Path
from types import MappingProxyType
from typing import Any
from unittest.mock import patch

from aiohttp import ClientSession
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigSubentry
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import issue_registry as ir
import pytest

from custom_components.oauth2_rest.client.auth import (
    DEFAULT_MAX_RESPONSE_BYTES,
    MAX_REDIRECTS,
)

from ..common import endpoint_subentry, expire_token, reauth_flows
from .conftest import FakeClock, async_link_on_device

pytestmark = pytest.mark.usefixtures("socket_enabled", "current_request_with_host")

TRANSIENT, REAUTH = "retried", "reauth"


@dataclass(frozen=True)
class Fault:
    """One injected token endpoint answer and the outcome it must have."""

    name: str
    answer: dict[str, Any]
    outcome: str


def body(value: Any) -> str:
    """A JSON body."""
    return json.dumps(value)


FAULTS = [
    Fault(
        "400 invalid_grant",
        {"status": 400, "body": body({"error": "invalid_grant"})},
        REAUTH,
    ),
    Fault(
        "401 invalid_client",
        {"status": 401, "body": body({"error": "invalid_client"})},
        REAUTH,
    ),
    Fault(
        "400 unauthorized_client",
        {"status": 400, "body": body({"error": "unauthorized_client"})},
        REAUTH,
    ),
    Fault("403", {"status": 403, "body": body({"error": "access_denied"})}, REAUTH),
    Fault(
        "400 HTML error page",
        {"status": 400, "body": "<html>bad</html>", "content_type": "text/html"},
        REAUTH,
    ),
    Fault(
        "200 with error invalid_grant",
        {"body": body({"error": "invalid_grant"})},
        REAUTH,
    ),
    Fault(
        "200 token_type DPoP",
        {"body": body({"access_token": "a", "token_type": "DPoP"})},
        REAUTH,
    ),
    Fault(
        "429 Retry-After",
        {"status": 429, "body": body({"error": "slow_down"})},
        TRANSIENT,
    ),
    Fault("500", {"status": 500, "body": ""}, TRANSIENT),
    Fault(
        "502 HTML",
        {"status": 502, "body": "<html>gateway</html>", "content_type": "text/html"},
        TRANSIENT,
    ),
    Fault(
        "503 temporarily_unavailable",
        {"status": 503, "body": body({"error": "temporarily_unavailable"})},
        TRANSIENT,
    ),
    Fault(
        "200 with error server_error",
        {"body": body({"error": "server_error"})},
        TRANSIENT,
    ),
    Fault("timeout", {"delay": 2, "body": "{}"}, TRANSIENT),
    Fault("connection dropped", {"drop": True}, TRANSIENT),
    Fault(
        "200 HTML body",
        {"body": "<html>login</html>", "content_type": "text/html"},
        TRANSIENT,
    ),
    Fault("200 truncated JSON", {"body": '{"access_token": "abc", "token_'}, TRANSIENT),
    Fault("200 empty body", {"body": ""}, TRANSIENT),
    Fault("200 JSON array", {"body": "[]"}, TRANSIENT),
    Fault("200 access_token a number", {"body": body({"access_token": 5})}, TRANSIENT),
    Fault(
        "200 access_token with CRLF",
        {"body": body({"access_token": "a\r\nX: 1"})},
        TRANSIENT,
    ),
    Fault(
        "200 5 MB body",
        {"body": body({"access_token": "a"}), "size": 5 * 1024 * 1024},
        TRANSIENT,
    ),
]


async def _events(issuer: str, after: int) -> tuple[list[dict[str, Any]], int]:
    async with (
        ClientSession() as http,
        http.get(f"{issuer}/demo/events", params={"after": after}) as resp,
    ):
        data = await resp.json()
    return data["events"], data["seq"]


def _append(table: Path, row: str) -> None:
    with table.open("a") as out:
        out.write(row + "\n")


def _token_file(hass: HomeAssistant, entry_id: str) -> dict[str, Any]:
    path = Path(hass.config.path(".storage", f"oauth2_rest.token.{entry_id}"))
    return json.loads(path.read_text())["token"]


async def _linked_account(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> ConfigEntry[Any]:
    """An account linked through the real flow, with a weather endpoint."""
    result = await async_link_on_device(hass, issuer, clock)
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    subentry = endpoint_subentry(url="/api/weather", scan_interval=3600)
    subentry["data"]["timeout"] = 1
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=MappingProxyType(subentry["data"]),
            subentry_type="endpoint",
            title="Weather",
            unique_id=None,
        ),
    )
    await hass.async_block_till_done(wait_background_tasks=True)
    assert entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.weather").state != STATE_UNAVAILABLE
    return entry


@pytest.mark.parametrize("fault", FAULTS, ids=[f.name for f in FAULTS])
async def test_token_endpoint_fault(
    hass: HomeAssistant, issuer: str, clock: FakeClock, fault: Fault
) -> None:
    """One fault on a refresh: the right state, nothing lost, recovery."""
    entry = await _linked_account(hass, issuer, clock)
    before_disk = _token_file(hass, entry.entry_id)
    _, seq = await _events(issuer, 0)

    async with ClientSession() as http:
        await http.post(f"{issuer}/demo/faults", json={"token": [fault.answer]})
    expire_token(hass, entry)
    account = entry.runtime_data.account
    (endpoint,) = entry.runtime_data.endpoints.values()
    with patch(
        "custom_components.oauth2_rest.oauth.implementation.TOKEN_REQUEST_TIMEOUT", 0.5
    ):
        await account.async_refresh()
        await endpoint.async_refresh()
        await hass.async_block_till_done(wait_background_tasks=True)
    available = hass.states.get("sensor.weather").state != STATE_UNAVAILABLE
    flows = len(reauth_flows(hass))
    issues = sum(
        1 for (domain, _) in ir.async_get(hass).issues if domain == "oauth2_rest"
    )
    disk = _token_file(hass, entry.entry_id)
    # Asked again: a dead grant sends nothing more, a transient fault is retried.
    await account.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    events, seq_after = await _events(issuer, seq)
    token_requests = sum(e["kind"] in ("fault", "rotation") for e in events)
    kept = disk["generation"] >= before_disk["generation"] and (
        disk["generation"] > before_disk["generation"]
        or disk["refresh_token"] == before_disk["refresh_token"]
    )

    # The fault is gone (it answered once): does the account come back by itself?
    await account.async_refresh()
    await endpoint.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    recovered = hass.states.get("sensor.weather").state != STATE_UNAVAILABLE
    events_after, _ = await _events(issuer, seq_after)
    reused = any(e["kind"] == "reuse" for e in events + events_after)

    row = (
        f"| {fault.name} | {entry.state.value} | {flows} | {issues} | {token_requests} "
        f"| {'available' if available else 'unavailable'} "
        f"| {'unchanged or newer' if kept else 'LOST'} "
        f"| {'yes' if recovered else 're-link' if fault.outcome == REAUTH else 'NO'} |"
    )
    if table := os.environ.get("FAULT_TABLE"):
        _append(Path(table), row)

    assert kept, row
    assert not reused, row
    assert entry.state is ConfigEntryState.LOADED, row
    if fault.outcome == REAUTH:
        assert flows == 1, row
        assert token_requests == 1, row  # no retry storm
        assert not recovered, row  # nothing is sent until re-linked
    else:
        assert flows == 0, row
        assert recovered, row
        assert token_requests == 2, (row, events)  # the fault, then a retry that worked
        after = _token_file(hass, entry.entry_id)
        assert after["generation"] > before_disk["generation"], row


@dataclass(frozen=True)
class ApiFault:
    """Injected API answers (one per request) and what they must lead to."""

    name: str
    answers: list[dict[str, Any]]
    reauth: bool = False
    issue: bool = False
    token_requests: int = 0


UNAUTHORIZED = {
    "status": 401,
    "body": body({"error": "invalid_token"}),
    "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
}
API_FAULTS = [
    ApiFault("API 401 once", [UNAUTHORIZED], token_requests=1),
    ApiFault("API 401 always", [UNAUTHORIZED, UNAUTHORIZED], True, token_requests=1),
    ApiFault(
        "API 403 insufficient_scope",
        [
            {
                "status": 403,
                "body": body({"error": "insufficient_scope"}),
                "headers": {"WWW-Authenticate": 'Bearer error="insufficient_scope"'},
            }
        ],
        issue=True,
    ),
    ApiFault("API 404", [{"status": 404, "body": "{}"}]),
    ApiFault("API 429 Retry-After", [{"status": 429, "headers": {"Retry-After": "5"}}]),
    ApiFault("API 500", [{"status": 500}]),
    ApiFault(
        "API 503 HTML", [{"status": 503, "body": "<html>", "content_type": "text/html"}]
    ),
    ApiFault("API timeout", [{"delay": 2, "body": "{}"}]),
    ApiFault("API connection dropped", [{"drop": True}]),
    ApiFault(
        "API redirect loop",
        [{"status": 302, "headers": {"Location": "/api/weather"}}]
        * (MAX_REDIRECTS + 1),
    ),
    ApiFault(
        "API cross-origin redirect",
        [{"status": 302, "headers": {"Location": "{other_origin}/api/weather"}}],
    ),
    ApiFault(
        "API oversized body",
        [{"body": "{}", "size": DEFAULT_MAX_RESPONSE_BYTES + 1}],
    ),
    ApiFault("API non-JSON", [{"body": "<html>", "content_type": "text/html"}]),
    ApiFault("API deeply nested JSON", [{"body": "[" * 100_000 + "]" * 100_000}]),
]


@pytest.mark.parametrize("fault", API_FAULTS, ids=[f.name for f in API_FAULTS])
async def test_api_fault(
    hass: HomeAssistant, issuer: str, clock: FakeClock, fault: ApiFault
) -> None:
    """One API fault on a poll: the right state, the token kept, recovery."""
    entry = await _linked_account(hass, issuer, clock)
    before_disk = _token_file(hass, entry.entry_id)
    _, seq = await _events(issuer, 0)
    other_origin = issuer.replace("127.0.0.1", "localhost")
    answers = [
        json.loads(json.dumps(a).replace("{other_origin}", other_origin))
        for a in fault.answers
    ]
    async with ClientSession() as http:
        await http.post(f"{issuer}/demo/faults", json={"api": answers})
    (endpoint,) = entry.runtime_data.endpoints.values()
    await endpoint.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    available = hass.states.get("sensor.weather").state != STATE_UNAVAILABLE
    flows = len(reauth_flows(hass))
    issues = sum(
        1 for (domain, _) in ir.async_get(hass).issues if domain == "oauth2_rest"
    )
    events, seq_after = await _events(issuer, seq)
    token_requests = sum(e["kind"] == "rotation" for e in events)
    disk = _token_file(hass, entry.entry_id)
    kept = disk["generation"] >= before_disk["generation"] and (
        disk["generation"] > before_disk["generation"]
        or disk["refresh_token"] == before_disk["refresh_token"]
    )
    # The faults are used up: the next poll works again (or the entry waits for
    # its re-link).
    await endpoint.async_refresh()
    await hass.async_block_till_done(wait_background_tasks=True)
    recovered = hass.states.get("sensor.weather").state != STATE_UNAVAILABLE
    events_after, _ = await _events(issuer, seq_after)
    row = (
        f"| {fault.name} | {entry.state.value} | {flows} | {issues} | {token_requests} "
        f"| {'available' if available else 'unavailable'} "
        f"| {'unchanged or newer' if kept else 'LOST'} "
        f"| {'yes' if recovered else 'NO'} |"
    )
    if table := os.environ.get("FAULT_TABLE"):
        _append(Path(table), row)

    assert kept, row
    assert not any(e["kind"] == "reuse" for e in events + events_after), row
    assert entry.state is ConfigEntryState.LOADED, row
    assert flows == int(fault.reauth), row
    assert issues == int(fault.issue), row
    assert token_requests == fault.token_requests, row
    # The API works again: polls resume even where the rejection asked for reauth.
    assert recovered, row
