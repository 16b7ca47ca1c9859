"""The one request path (poll, preview, action) against a real HTTP server on loopback.

Rendering, the TLS choice, sending and every way it fails: each failure carries
its translation key, and nothing is sent when the request could not be rendered.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
import shutil
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
import certifi
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers.template import Template
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from custom_components.oauth2_rest.client.auth import AbstractAuth, OriginPolicy
from custom_components.oauth2_rest.client.errors import (
    ApiForbiddenError,
    OriginNotAllowedError,
)
from custom_components.oauth2_rest.endpoint import EndpointConfig
from custom_components.oauth2_rest.errors import (
    RequestFailed,
    action_failed,
    update_failed,
)
from custom_components.oauth2_rest.request import (
    ActionRequest,
    StoredRequest,
    async_send,
    read_values,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass
class Seen:
    """What the server received: method, path and query, headers, body."""

    requests: list[tuple[str, str, dict[str, str], bytes]] = field(default_factory=list)


class TokenAuth(AbstractAuth):
    """Always the same token."""

    async def async_get_access_token(self) -> str:
        """The token."""
        return "the-token"

    async def async_force_refresh(self, rejected_token: str) -> str:
        """The same token again."""
        return "the-token"


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, Seen]]:
    """An API on loopback: ``/v1/echo`` answers what it got, ``/v1/forbidden`` 403."""
    seen = Seen()

    async def echo(request: web.Request) -> web.Response:
        body = await request.read()
        seen.requests.append(
            (request.method, request.path_qs, dict(request.headers), body)
        )
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.json_response(
            {"path": request.path_qs, "body": body.decode()},
            headers={"ETag": '"v1"'},
        )

    async def forbidden(request: web.Request) -> web.Response:
        seen.requests.append(("GET", request.path_qs, dict(request.headers), b""))
        return web.Response(status=403, text="no")

    async def missing(request: web.Request) -> web.Response:
        return web.Response(status=404, text="gone")

    async def raw(request: web.Request) -> web.Response:
        return web.Response(body=b"bytes", content_type="application/octet-stream")

    app = web.Application()
    app.router.add_route("*", "/v1/echo", echo)
    app.router.add_get("/v1/forbidden", forbidden)
    app.router.add_get("/v1/missing", missing)
    app.router.add_get("/v1/raw", raw)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        yield str(server.make_url("/v1")), seen
    finally:
        await server.close()


@pytest.fixture
async def auth(api: tuple[str, Seen]) -> AsyncIterator[TokenAuth]:
    """The account's client for the API."""
    async with ClientSession() as session:
        yield TokenAuth(session, OriginPolicy(api[0]))


def _endpoint(**changes: Any) -> EndpointConfig:
    return EndpointConfig(**({"name": "Echo", "url": "/echo"} | changes))


async def test_endpoint_request_rendered_and_sent(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """URL, params, headers and body templates rendered; a body of JSON sent as JSON."""
    hass.states.async_set("input_text.room", "kitchen")
    endpoint = _endpoint(
        method="POST",
        url="/echo",
        params={"room": "{{ states('input_text.room') }}", "on": "{{ true }}"},
        headers={"X-Room": "{{ states('input_text.room') | upper }}"},
        body='{"room": "{{ states(\'input_text.room\') }}"}',
    )
    sent = await async_send(auth, StoredRequest(hass, endpoint))
    method, path, headers, body = api[1].requests[-1]
    assert (method, path) == ("POST", "/v1/echo?room=kitchen&on=true")
    assert headers["X-Room"] == "KITCHEN"
    assert headers["Authorization"] == "Bearer the-token"
    assert headers["Content-Type"] == "application/json"
    assert body == b'{"room": "kitchen"}'
    assert sent.request.target.params == {"room": "kitchen", "on": "true"}
    assert sent.request.json == {"room": "kitchen"}
    assert read_values(sent.response, None)[0]["path"] == path


async def test_conditional_request_of_the_same_target(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """The earlier answer's validators go with the rendered request they belong to."""
    request = StoredRequest(hass, _endpoint())
    first = await async_send(auth, request)
    asked: list[Any] = []

    def conditional(target: Any) -> Any:
        asked.append(target)
        return first.response.conditional_state

    second = await async_send(auth, request, conditional=conditional)
    assert asked == [first.request.target]
    assert second.response.not_modified
    assert api[1].requests[-1][2]["If-None-Match"] == '"v1"'


@pytest.mark.parametrize(
    ("changes", "key"),
    [
        ({"url": "/echo/{{ 1 / 0 }}"}, "invalid_request_template"),
        ({"params": {"q": "{{ 1 / 0 }}"}}, "invalid_request_template"),
        ({"headers": {"X-A": "{{ 'a\\nb' }}"}}, "invalid_request_template"),
        ({"method": "POST", "body": "{{ 1 / 0 }}"}, "invalid_body"),
        ({"ca_file": "/nonexistent/ca.pem"}, "invalid_ca_file"),
        ({"ca_file": "/"}, "ca_file_not_regular"),
    ],
)
async def test_endpoint_request_not_sent(
    hass: HomeAssistant,
    api: tuple[str, Seen],
    auth: TokenAuth,
    changes: dict[str, Any],
    key: str,
) -> None:
    """A template or CA file that fails: its key, nothing sent, nothing to blame."""
    with pytest.raises(RequestFailed) as raised:
        await async_send(auth, StoredRequest(hass, _endpoint(**changes)))
    assert raised.value.failure.key == key
    assert raised.value.error is None
    assert raised.value.url is None
    assert not raised.value.caller_error
    assert not api[1].requests
    # A poll says which endpoint; the placeholders have nothing else.
    failed = update_failed(raised.value, "Echo")
    assert isinstance(failed, UpdateFailed)
    assert failed.translation_key == key
    assert failed.translation_placeholders == {"target": "Echo"}


async def test_ca_file_read_once(
    hass: HomeAssistant, auth: TokenAuth, tmp_path: Path
) -> None:
    """A request reads its CA file at its first send only (polls keep the context)."""
    ca_file = tmp_path / "ca.pem"
    shutil.copyfile(certifi.where(), ca_file)
    request = StoredRequest(hass, _endpoint(ca_file=str(ca_file)))
    first = await request.async_ssl()
    ca_file.unlink()
    assert await request.async_ssl() is first
    assert (await async_send(auth, request)).response.status == 200
    with pytest.raises(RequestFailed):
        await StoredRequest(hass, _endpoint(ca_file=str(ca_file))).async_ssl()


async def test_verification_off(hass: HomeAssistant) -> None:
    """Verification off is aiohttp's ``ssl=False``; no CA file is read then."""
    request = StoredRequest(
        hass, _endpoint(verify_ssl=False, ca_file="/nonexistent/ca.pem")
    )
    assert await request.async_ssl() is False


async def test_failed_request_keeps_its_error(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """A 403: its key, the error itself (a poll raises a repair issue) and the URL."""
    with pytest.raises(RequestFailed) as raised:
        await async_send(auth, StoredRequest(hass, _endpoint(url="/forbidden")))
    assert raised.value.failure.key == "forbidden"
    assert isinstance(raised.value.error, ApiForbiddenError)
    assert isinstance(raised.value.__cause__, ApiForbiddenError)
    assert raised.value.url == "/forbidden"
    assert not raised.value.caller_error
    assert not isinstance(action_failed(raised.value, "x"), ServiceValidationError)


async def test_refused_origin_is_the_callers_mistake(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """A URL the token may not go to is refused before connecting."""
    with pytest.raises(RequestFailed) as raised:
        await async_send(
            auth, StoredRequest(hass, _endpoint(url="https://other.example/x"))
        )
    assert raised.value.failure.key == OriginNotAllowedError.translation_key
    assert raised.value.caller_error
    assert isinstance(action_failed(raised.value, "x"), ServiceValidationError)
    assert not api[1].requests


async def test_undecodable_answer(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """An encoding that is not text (stored before it was refused): its own key."""
    sent = await async_send(auth, StoredRequest(hass, _endpoint(url="/raw")))
    with pytest.raises(RequestFailed) as raised:
        read_values(sent.response, "rot13")
    assert raised.value.failure.key == "undecodable_body"


def _action(hass: HomeAssistant, **changes: Any) -> ActionRequest:
    fields: dict[str, Any] = {
        "params": None,
        "headers": {},
        "json": None,
        "data": None,
        "content_type": None,
        "variables": {},
        "verify_ssl": True,
        "timeout": 10.0,
    } | changes
    return ActionRequest(hass, "POST", Template("/echo", hass), **fields)


async def test_action_request_rendered_as_rest_command(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """Variables in the header and the text body; the content type replaces a header."""
    request = _action(
        hass,
        params={"n": "1"},
        headers={
            "X-Room": Template("{{ room }}", hass),
            "content-type": Template("text/html", hass),
        },
        data=Template('{"room": "{{ room }}"}', hass),
        content_type="text/plain",
        variables={"room": "hall"},
    )
    sent = await async_send(auth, request)
    method, path, headers, body = api[1].requests[-1]
    assert (method, path) == ("POST", "/v1/echo?n=1")
    assert headers["X-Room"] == "hall"
    assert headers["Content-Type"] == "text/plain"
    assert body == b'{"room": "hall"}'  # a text body stays text
    assert sent.request.data == '{"room": "hall"}'


async def test_action_error_status_returned(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth
) -> None:
    """The action asks for the answer whatever its status."""
    request = ActionRequest(
        hass,
        "GET",
        Template("/missing", hass),
        params=None,
        headers={},
        json=None,
        data=None,
        content_type=None,
        variables={},
        verify_ssl=False,
        timeout=10.0,
    )
    assert await request.async_ssl() is False
    sent = await async_send(auth, request, raise_for_status=False)
    assert sent.response.status == 404


@pytest.mark.parametrize("field_name", ["headers", "data"])
async def test_action_template_fails(
    hass: HomeAssistant, api: tuple[str, Seen], auth: TokenAuth, field_name: str
) -> None:
    """A field that fails to render is the caller's mistake, named; nothing sent."""
    broken = Template("{{ 1 / 0 }}", hass)
    changes: dict[str, Any] = (
        {"headers": {"X-A": broken}} if field_name == "headers" else {"data": broken}
    )
    with pytest.raises(RequestFailed) as raised:
        await async_send(auth, _action(hass, **changes))
    assert raised.value.failure.key == "invalid_action_template"
    assert raised.value.failure.placeholders["field"] == field_name
    assert "division by zero" in raised.value.failure.placeholders["error"]
    assert raised.value.caller_error
    error = action_failed(raised.value, "/echo")
    assert isinstance(error, ServiceValidationError)
    assert isinstance(error, HomeAssistantError)
    assert error.translation_key == "invalid_action_template"
    assert not api[1].requests
