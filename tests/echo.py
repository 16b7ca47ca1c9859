"""An API that echoes every request, and a foreign origin that records who came.

The echo server answers any path with JSON holding the request's method, URL, every
header (``Authorization`` included) and the body, as debug endpoints, httpbin-style
services and error pages that quote the request do. A few paths shape the answer:

- ``/status/<code>``: the echo with that status (an error page quoting the request);
- ``/redirect?to=<url>&code=<code>``: a redirect (302 unless ``code``) to ``to``;
- ``/text``: the echo as plain text, ``key=value`` lines;
- ``POST /token``: the account's token endpoint, re-issuing the same token (a
  401 from the API makes the client refresh once).
- ``/whoami``: the account's credentials under ordinary keys, as a debug endpoint
  may answer: the bearer token it was sent, the refresh token and the client
  secret as plain values, as the id of a listed object and as a key.

Both servers run on 127.0.0.1 (real sockets); ``seen`` lists what each received.
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

from custom_components.oauth2_rest.const import DOMAIN

from .common import AUTH_DOMAIN, CLIENT_SECRET, ISSUER, manual_profile

REISSUED_TOKEN = {
    "access_token": "stored-access-token",
    "refresh_token": "stored-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}


@dataclass(slots=True)
class Received:
    """One request a server received."""

    server: str
    method: str
    path_qs: str
    headers: dict[str, str]
    body: str


@dataclass(slots=True)
class EchoServers:
    """The echo API (allowed origin) and a foreign origin, with what they saw."""

    api: str  # origin of the echo API
    other: str  # origin of the foreign server
    seen: list[Received] = field(default_factory=list)

    def received_by(self, server: str) -> list[Received]:
        """The requests one server received."""
        return [r for r in self.seen if r.server == server]


def _echo_app(name: str, servers: EchoServers) -> web.Application:
    async def echo(request: web.Request) -> web.StreamResponse:
        body = (await request.read()).decode("utf-8", errors="replace")
        headers = dict(request.headers)
        servers.seen.append(
            Received(name, request.method, request.path_qs, headers, body)
        )
        try:
            body_json: Any = json.loads(body) if body else None
        except ValueError:
            body_json = None
        echoed = {
            "server": name,
            "method": request.method,
            "url": str(request.url),
            "args": dict(request.query),
            "headers": headers,
            "body": body,
            "json": body_json,
            # The request as an error page or a debug endpoint quotes it.
            "dump": "\n".join(f"{key}: {value}" for key, value in headers.items()),
        }
        path = request.path
        if path == "/token" and request.method == "POST":
            return web.json_response(REISSUED_TOKEN)
        if path.endswith("/redirect") and "to" in request.query:
            return web.Response(
                status=int(request.query.get("code", "302")),
                headers={"Location": request.query["to"]},
            )
        if path.endswith("/whoami"):
            bearer = headers.get("Authorization", "").removeprefix("Bearer ")
            return web.json_response(_whoami(bearer))
        if path.endswith("/text"):
            lines = [f"{key}={value}" for key, value in headers.items()]
            return web.Response(text="\n".join([*lines, f"body={body}"]))
        status = 200
        if "/status/" in path:
            try:
                status = int(path.rsplit("/", 1)[1])
            except ValueError:
                status = 400
            if not 200 <= status <= 599 or status in (204, 304):
                status = 400
        return web.json_response(echoed, status=status)

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


def _whoami(bearer: str) -> dict[str, Any]:
    """The caller's credentials under keys no name rule knows."""
    return {
        "user": "me",
        "session": {
            "bearer": bearer,
            "grant": REISSUED_TOKEN["refresh_token"],
            "app": CLIENT_SECRET,
            "header": f"Authorization: Bearer {bearer}",
            "expires": 3600,
        },
        "sessions": [{"id": bearer, "active": True}, {"id": "s2", "active": False}],
        "by_credential": {bearer: {"scopes": "read"}},
    }


@pytest.fixture
async def echo_servers(socket_enabled: None) -> AsyncIterator[EchoServers]:
    """Start the echo API and the foreign server on 127.0.0.1."""
    servers = EchoServers(api="", other="")
    api = TestServer(_echo_app("api", servers), host="127.0.0.1")
    other = TestServer(_echo_app("other", servers), host="127.0.0.1")
    await api.start_server(access_log=None)
    await other.start_server(access_log=None)
    servers.api = str(api.make_url("")).rstrip("/")
    servers.other = str(other.make_url("")).rstrip("/")
    yield servers
    await api.close()
    await other.close()


@pytest.fixture
def echo_subentries() -> list[ConfigSubentryData]:
    """The echo account's endpoints (a module may override this)."""
    return [echo_subentry()]


@pytest.fixture
async def echo_entry(
    hass: HomeAssistant,
    echo_servers: EchoServers,
    setup_credentials: None,
    token_data: dict[str, Any],
    echo_subentries: list[ConfigSubentryData],
) -> MockConfigEntry:
    """The test account, loaded, with its API at the echo server.

    By default its endpoint ``Echo`` polls ``/v1/data`` and keeps the echoed
    request as a sensor with every key of the response as ``json_attributes``.
    """
    return await async_load_echo_entry(hass, echo_servers, token_data, echo_subentries)


async def async_load_echo_entry(
    hass: HomeAssistant,
    echo_servers: EchoServers,
    token_data: dict[str, Any],
    subentries: list[ConfigSubentryData],
    token_path: str = "/token",
) -> MockConfigEntry:
    """Set up the test account with its API (and token endpoint) at the echo server."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Echo (user@example.com)",
        unique_id=f"{ISSUER}#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile(
                api_base_url=f"{echo_servers.api}/v1",
                token_url=f"{echo_servers.api}{token_path}",
            ).as_dict(),
            "scopes": ["read"],
            "subject": "subject-1",
        },
        subentries_data=subentries,
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


ECHO_ATTRIBUTES = ["server", "url", "headers", "body", "args", "json", "dump"]


def echo_subentry(
    title: str = "Echo",
    values: list[dict[str, Any]] | None = None,
    **request: Any,
) -> ConfigSubentryData:
    """An endpoint reading the echo.

    By default the method is the state and every key of the echo an attribute;
    ``request`` overrides the method, URL, body...
    """
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": "/data",
            "scan_interval": 60,
            "timeout": 10,
            **request,
            "values": values
            or [
                {
                    "key": "method",
                    "name": title,
                    "platform": "sensor",
                    "value_template": "{{ value_json.method }}",
                    "json_attributes": ECHO_ATTRIBUTES,
                }
            ],
        },
        subentry_id=f"endpoint_{title.lower()}",
        subentry_type="endpoint",
        title=title,
        unique_id=None,
    )
