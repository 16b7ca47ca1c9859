"""A lamp and a message box behind bearer tokens, on loopback: what controls act on.

- ``GET /v1/lamp``: ``{"on": bool, "brightness": int}``;
- ``PUT /v1/lamp`` (JSON ``{"on": bool}``): the new state, unless ``stuck`` (the
  API accepts the command but the lamp does not change, as a slow device does);
- ``POST /v1/lamp/toggle``: toggles it;
- ``POST /v1/messages``: stores what came (JSON, form or query), answers 201;
- ``/v1/status/<code>``: that status;
- ``POST /token``: a new access token each time (``token-1``, ``token-2``…), its
  refresh token kept; ``refuse_refresh`` answers ``invalid_grant`` instead.

Only ``Bearer <current token>`` is accepted (401 otherwise); ``seen`` lists every
request with its method, path and query, headers and body.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from .echo import EchoServers, async_load_echo_entry

FIRST_TOKEN = "stored-access-token"


@dataclass(slots=True)
class Seen:
    """One request the lamp API received."""

    method: str
    path_qs: str
    headers: dict[str, str]
    body: str

    @property
    def json(self) -> Any:
        """The body as JSON."""
        return json.loads(self.body)


@dataclass(slots=True)
class LampApi:
    """The lamp API's origin, its state and what it saw."""

    origin: str = ""
    on: bool = False
    stuck: bool = False
    refuse_refresh: bool = False
    token: str = FIRST_TOKEN
    issued: int = 0
    seen: list[Seen] = field(default_factory=list)
    messages: list[dict[str, Any]] = field(default_factory=list)

    def requests(self, method: str, path: str) -> list[Seen]:
        """The requests with ``method`` to ``path`` (query excluded)."""
        return [
            r
            for r in self.seen
            if r.method == method and r.path_qs.split("?")[0] == path
        ]

    def app(self) -> web.Application:
        """The aiohttp application."""
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        return app

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = (await request.read()).decode()
        self.seen.append(
            Seen(request.method, request.path_qs, dict(request.headers), body)
        )
        if request.path == "/token":
            return self._token()
        if request.headers.get("Authorization") != f"Bearer {self.token}":
            return web.json_response(
                {"error": "invalid_token"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
            )
        path, method = request.path, request.method
        if path.startswith("/v1/status/"):
            return web.json_response(
                {"error": "nope", "echo": dict(request.headers)},
                status=int(path.rsplit("/", 1)[1]),
            )
        if path == "/v1/lamp" and method == "PUT":
            if not self.stuck:
                self.on = bool(json.loads(body)["on"])
        elif path == "/v1/lamp/toggle" and method == "POST":
            self.on = not self.on
        elif path == "/v1/messages" and method == "POST":
            message: dict[str, Any] = dict(request.query)
            if request.content_type == "application/json":
                message.update(json.loads(body))
            elif request.content_type == "application/x-www-form-urlencoded":
                message.update(dict(await request.post()))
            self.messages.append(message)
            return web.json_response(message, status=201)
        elif path != "/v1/lamp":
            return web.json_response({"error": "not_found"}, status=404)
        return web.json_response({"on": self.on, "brightness": 80})

    def _token(self) -> web.Response:
        if self.refuse_refresh:
            return web.json_response({"error": "invalid_grant"}, status=400)
        self.issued += 1
        self.token = f"token-{self.issued}"
        return web.json_response(
            {
                "access_token": self.token,
                "refresh_token": "stored-refresh-token",
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        )


@pytest.fixture
async def lamp(socket_enabled: None) -> AsyncIterator[LampApi]:
    """Start the lamp API on 127.0.0.1."""
    api = LampApi()
    server = TestServer(api.app(), host="127.0.0.1")
    await server.start_server(access_log=None)
    api.origin = str(server.make_url("")).rstrip("/")
    yield api
    await server.close()


def lamp_endpoint() -> ConfigSubentryData:
    """An endpoint reading the lamp: a binary sensor ``on``."""
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": "/lamp",
            "scan_interval": 60,
            "values": [
                {
                    "key": "on",
                    "name": "On",
                    "platform": "binary_sensor",
                    "value_template": "{{ value_json.on }}",
                }
            ],
        },
        subentry_id="lamp_endpoint",
        subentry_type="endpoint",
        title="Lamp state",
        unique_id=None,
    )


def request(
    url: str, method: str = "POST", body: str | None = None, **fields: Any
) -> dict[str, Any]:
    """A control's stored request."""
    return {
        "method": method,
        "url": url,
        "params": fields.get("params", {}),
        "headers": fields.get("headers", {}),
        "body": body,
    }


def control(title: str, subentry_id: str, kind: str, **data: Any) -> ConfigSubentryData:
    """A control subentry."""
    return ConfigSubentryData(
        data={"kind": kind, **data},
        subentry_id=subentry_id,
        subentry_type="control",
        title=title,
        unique_id=None,
    )


def lamp_switch(state_source: str = "endpoint", **data: Any) -> ConfigSubentryData:
    """The lamp's switch: PUT ``{"on": …}``; its state from ``state_source``."""
    requests = {
        "turn_on": request("/lamp", "PUT", '{"on": true}'),
        "turn_off": request("/lamp", "PUT", '{"on": false}'),
    }
    state: dict[str, Any] = {"state_source": state_source}
    if state_source == "endpoint":
        state |= {
            "state_endpoint": "lamp_endpoint",
            "is_on_template": "{{ value_json.on }}",
        }
    elif state_source == "request":
        requests["state"] = request("/lamp", "GET")
        state |= {"is_on_template": "{{ value_json.on }}", "scan_interval": 60}
    return control("Lamp", "lamp_switch", "switch", requests=requests, **state, **data)


async def async_load_lamp_entry(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    subentries: list[ConfigSubentryData],
) -> MockConfigEntry:
    """The test account, loaded, with its API and token endpoint at the lamp API."""
    return await async_load_echo_entry(
        hass, EchoServers(api=lamp.origin, other=""), token_data, subentries
    )
