"""Setting Home Assistant up as a user would: YAML for core ``rest``, the UI flows for ours."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
import json
import time
from typing import Any

from aiohttp import ClientSession, ClientWebSocketResponse

from .ha import FlowError, HomeAssistant
from .server import FLOOR_TOKEN, STATIC_TOKEN

# The same values for everyone: (name, template, path in the document, unit). Core
# rest and ours render the template; the floor and the bare loop index the path.
VALUES: tuple[tuple[str, str, tuple[str | int, ...], str | None], ...] = (
    ("v1", "{{ value_json.current.temperature }}", ("current", "temperature"), "°C"),
    ("v2", "{{ value_json.current.humidity }}", ("current", "humidity"), None),
    ("v3", "{{ value_json.current.wind.speed }}", ("current", "wind", "speed"), None),
    ("v4", "{{ value_json['daily'][0]['max'] }}", ("daily", 0, "max"), None),
    ("v5", "{{ value_json.location.name }}", ("location", "name"), None),
)
INTERVAL = 10  # seconds between polls, for every integration


def rest_yaml(
    api_url: str,
    endpoints: int,
    values: int,
    interval: int = INTERVAL,
    *,
    unique_ids: bool = False,
) -> str:
    """Core ``rest``: ``endpoints`` resources with a static bearer header, ``values`` sensors each.

    ``unique_ids``: each sensor has one (as users give them to manage the sensors
    in the UI): they are then in the entity registry, as ours always are.
    """
    resources = []
    for index in range(1, endpoints + 1):
        sensors = []
        for name, template, _, unit in VALUES[:values]:
            sensor = {"name": f"r{index:04d} {name}", "value_template": template}
            if unique_ids:
                sensor["unique_id"] = f"bench-r{index:04d}-{name}"
            if unit:
                sensor["unit_of_measurement"] = unit
            sensors.append(sensor)
        resources.append(
            {
                "resource": f"{api_url}/api/data",
                "headers": {"Authorization": f"Bearer {STATIC_TOKEN}"},
                "scan_interval": interval,
                "timeout": 10,
                "sensor": sensors,
            }
        )
    # JSON is YAML.
    return json.dumps(resources, ensure_ascii=False)


def floor_yaml(
    api_url: str, endpoints: int, values: int, interval: int = INTERVAL
) -> str:
    """The floor (``bench_floor``): the same resources and values, one platform entry."""
    resources = [
        {
            "name": f"f{index:04d}",
            "url": f"{api_url}/api/data",
            "scan_interval": interval,
            "values": [
                {"name": name, "path": list(path), "unit": unit}
                for name, _, path, unit in VALUES[:values]
            ],
        }
        for index in range(1, endpoints + 1)
    ]
    platforms = [
        {"platform": "bench_floor", "token": FLOOR_TOKEN, "resources": resources}
    ]
    return json.dumps(platforms if endpoints else [], ensure_ascii=False)


def _expect(result: dict[str, Any], kind: str, step: str | None = None) -> None:
    if result.get("type") != kind or (step and result.get("step_id") != step):
        raise FlowError(f"expected {kind} {step or ''}, got {result}")


async def link_account(ha: HomeAssistant, server_url: str) -> str:
    """The config flow: manual provider, client, browser login, account name."""
    base = {"HA-Frontend-Base": ha.url}
    flow = "/api/config/config_entries/flow"
    result = await ha.api("POST", flow, {"handler": "oauth2_rest"}, base)
    flow_id = result["flow_id"]
    path = f"{flow}/{flow_id}"
    result = await ha.api("POST", path, {"next_step_id": "manual"}, base)
    _expect(result, "form", "manual")
    result = await ha.api(
        "POST",
        path,
        {
            "name": "Bench",
            "authorize_url": f"{server_url}/authorize",
            "token_url": f"{server_url}/token",
            "api_base_url": server_url,
            "client_auth": "client_secret_post",
            "pkce": "supported",
            "scopes": "read",
            "scope_separator": " ",
        },
        base,
    )
    _expect(result, "form", "credentials")
    result = await ha.api(
        "POST",
        path,
        {
            "client_id": "bench",
            "client_secret": "bench-secret",
            "scopes": "read",
            "api_base_url": server_url,
        },
        base,
    )
    _expect(result, "external")
    # The "browser": the provider consents at once and redirects to HA's callback.
    async with ClientSession() as browser, browser.get(result["url"]) as resp:
        if resp.status != 200:
            raise FlowError(f"login redirect ended in {resp.status}")
    result = await ha.api("GET", path)
    _expect(result, "form", "account_name")
    result = await ha.api("POST", path, {"account_name": "bench"})
    _expect(result, "create_entry")
    return str(result["result"]["entry_id"])


async def add_endpoint(
    ha: HomeAssistant, entry_id: str, index: int, values: int
) -> tuple[float, int]:
    """The endpoint subentry flow, then wait for its first value.

    Returns the seconds from starting the flow to the new entity having a state,
    and how many times the flow found the account still reloading.
    """
    started = time.monotonic()
    flow = "/api/config/config_entries/subentries/flow"
    name = f"b{index:04d}"
    retries = 0
    while True:
        result = await ha.api("POST", flow, {"handler": [entry_id, "endpoint"]})
        path = f"{flow}/{result['flow_id']}"
        # The first menu: the request typed in (not a recipe or YAML).
        result = await ha.api("POST", path, {"next_step_id": "request"})
        result = await ha.api(
            "POST",
            path,
            {
                "name": name,
                "method": "GET",
                "url": "/api/data",
                "scan_interval": INTERVAL,
                "timeout": 10,
            },
        )
        if result.get("type") == "abort" and result.get("reason") == "entry_not_loaded":
            retries += 1
            await asyncio.sleep(0.1)
            continue
        _expect(result, "form", "preview")
        break
    result = await ha.api("POST", path, {})
    _expect(result, "menu", "values")
    for value_name, template, _, unit in VALUES[:values]:
        result = await ha.api("POST", path, {"next_step_id": "add_sensor"})
        _expect(result, "form", "sensor_value")
        value: dict[str, Any] = {
            "name": value_name,
            "value_template": template,
            "diagnostic": False,
            "enabled_by_default": True,
        }
        if unit:
            value["unit_of_measurement"] = unit
        result = await ha.api("POST", path, value)
        _expect(result, "menu", "values")
    result = await ha.api("POST", path, {"next_step_id": "finish"})
    _expect(result, "create_entry")
    await ha.wait_state(f"sensor.{name}_v1")
    return time.monotonic() - started, retries


@asynccontextmanager
async def admin_websocket(ha: HomeAssistant) -> AsyncIterator[ClientWebSocketResponse]:
    """A websocket to Home Assistant, authenticated as the admin."""
    async with (
        ClientSession() as session,
        session.ws_connect(f"{ha.url}/api/websocket", max_msg_size=0) as ws,
    ):
        await ws.receive_json()
        await ws.send_json({"type": "auth", "access_token": ha.token})
        if (await ws.receive_json())["type"] != "auth_ok":
            raise FlowError("websocket auth failed")
        yield ws


async def websocket(ha: HomeAssistant, message: dict[str, Any]) -> Any:
    """One websocket command as the admin; its result."""
    async with admin_websocket(ha) as ws:
        await ws.send_json({"id": 1, **message})
        answer = await ws.receive_json()
        if not answer.get("success"):
            raise FlowError(f"{message['type']}: {answer}")
        return answer["result"]


async def reconfigure_endpoint(
    ha: HomeAssistant, entry_id: str, subentry_id: str, fields: dict[str, Any]
) -> None:
    """An endpoint's reconfigure flow as the frontend drives it.

    ``fields``: the first form (name, method, url, scan_interval, timeout); then
    the preview, and finish with the values unchanged.
    """
    flow = "/api/config/config_entries/subentries/flow"
    result = await ha.api(
        "POST", flow, {"handler": [entry_id, "endpoint"], "subentry_id": subentry_id}
    )
    path = f"{flow}/{result['flow_id']}"
    result = await ha.api("POST", path, fields)
    _expect(result, "form", "preview")
    result = await ha.api("POST", path, {})
    _expect(result, "menu", "values")
    result = await ha.api("POST", path, {"next_step_id": "finish"})
    _expect(result, "abort")


async def save_options(
    ha: HomeAssistant, entry_id: str, options: dict[str, Any]
) -> dict[str, Any]:
    """The account's options flow as the frontend drives it; the saved options."""
    flow = "/api/config/config_entries/options/flow"
    result = await ha.api("POST", flow, {"handler": entry_id})
    _expect(result, "form", "init")
    result = await ha.api("POST", f"{flow}/{result['flow_id']}", options)
    _expect(result, "create_entry")
    return dict(result.get("data") or options)


async def set_interval(ha: HomeAssistant, entry_id: str, seconds: int) -> int:
    """Set every endpoint of the account to poll every ``seconds``.

    Through each endpoint's reconfigure flow, as a user would; returns how many.
    """
    subentries = await websocket(
        ha, {"type": "config_entries/subentries/list", "entry_id": entry_id}
    )
    for subentry in subentries:
        await reconfigure_endpoint(
            ha,
            entry_id,
            subentry["subentry_id"],
            {
                "name": subentry["title"],
                "method": "GET",
                "url": "/api/data",
                "scan_interval": seconds,
                "timeout": 10,
            },
        )
    return len(subentries)


async def reload_entry(ha: HomeAssistant, entry_id: str) -> float:
    """Reload the account; seconds until its setup (all endpoints fetched) returned."""
    started = time.monotonic()
    await ha.api("POST", f"/api/config/config_entries/entry/{entry_id}/reload")
    return time.monotonic() - started


async def concurrent_requests(
    ha: HomeAssistant, entry_id: str, calls: int
) -> tuple[int, float]:
    """``calls`` concurrent ``oauth2_rest.request`` actions over one websocket.

    Returns how many succeeded (status 200) and the seconds until all answered.
    """
    async with admin_websocket(ha) as ws:
        started = time.monotonic()
        for msg_id in range(1, calls + 1):
            await ws.send_json(
                {
                    "id": msg_id,
                    "type": "call_service",
                    "domain": "oauth2_rest",
                    "service": "request",
                    "service_data": {"config_entry_id": entry_id, "url": "/api/data"},
                    "return_response": True,
                }
            )
        ok = 0
        for _ in range(calls):
            msg = await ws.receive_json()
            if msg.get("success") and msg["result"]["response"].get("status") == 200:
                ok += 1
        return ok, time.monotonic() - started
