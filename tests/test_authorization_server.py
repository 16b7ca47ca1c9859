"""Every POST to the authorization server goes one way, against a real server.

Token requests, revocation and device authorization share one POST
(``OAuth2RestImplementation.async_post_form``): the client authenticates the same
way, JSON is asked for, a redirect is never followed (it would replay the client
secret and refresh token elsewhere), and the answer is read within
``MAX_TOKEN_RESPONSE_BYTES``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
import json
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import OAuth2TokenRequestTransientError
import pytest

from custom_components.oauth2_rest.oauth.device import (
    DeviceFlowError,
    async_start_device_authorization,
)
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation
from custom_components.oauth2_rest.oauth.token_response import MAX_TOKEN_RESPONSE_BYTES

from .common import (
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    manual_profile,
    send_json_body,
)

PATHS = ("/token", "/revoke", "/device")
STORED = {
    "access_token": "stored-access-token",
    "refresh_token": "stored-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
    "expires_at": 0,
}


class AuthorizationServer:
    """A real server answering every POST with what a test chose; it records."""

    def __init__(self) -> None:
        """Answer nothing yet."""
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.redirected_to: list[str] = []
        self.answer: Callable[[web.Request], Awaitable[web.StreamResponse]]
        self.server: TestServer

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path == "/elsewhere":
            self.redirected_to.append(request.path)
            return web.json_response({"access_token": "stolen"})
        self.requests.append((request.path, dict(request.headers)))
        return await self.answer(request)

    def url(self, path: str) -> str:
        """The server's URL of ``path``."""
        return str(self.server.make_url(path))


@pytest.fixture
async def auth_server() -> AsyncIterator[AuthorizationServer]:
    """A running authorization server on loopback."""
    server = AuthorizationServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", server._handle)
    server.server = TestServer(app, host="127.0.0.1")
    await server.server.start_server()
    yield server
    await server.server.close()


def implementation(
    hass: HomeAssistant, server: AuthorizationServer
) -> OAuth2RestImplementation:
    """The test client at this server, with all three endpoints."""
    profile = manual_profile(
        token_url=server.url("/token"),
        revocation_url=server.url("/revoke"),
        device_authorization_url=server.url("/device"),
    )
    return OAuth2RestImplementation(
        hass, AUTH_DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), profile
    )


async def post_all_three(impl: OAuth2RestImplementation) -> dict[str, Any]:
    """Refresh, revoke and start a device login; what each ended in."""
    outcomes: dict[str, Any] = {}
    try:
        outcomes["/token"] = await impl.async_refresh_token(dict(STORED))
    except OAuth2TokenRequestTransientError as err:
        outcomes["/token"] = err
    outcomes["/revoke"] = await impl.async_revoke(STORED)
    try:
        outcomes["/device"] = await async_start_device_authorization(impl, "read")
    except DeviceFlowError as err:
        outcomes["/device"] = err
    return outcomes


@pytest.mark.usefixtures("socket_enabled")
async def test_one_post_never_follows_a_redirect(
    hass: HomeAssistant, auth_server: AuthorizationServer
) -> None:
    """All three authenticate the client alike, ask for JSON, stay at their URL."""

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPTemporaryRedirect(auth_server.url("/elsewhere"))

    auth_server.answer = redirect
    outcomes = await post_all_three(implementation(hass, auth_server))

    assert [path for path, _ in auth_server.requests] == list(PATHS)
    assert not auth_server.redirected_to
    authorizations = {headers["Authorization"] for _, headers in auth_server.requests}
    assert len(authorizations) == 1
    assert authorizations.pop().startswith("Basic ")
    assert {headers["Accept"] for _, headers in auth_server.requests} == {
        "application/json"
    }
    assert isinstance(outcomes["/token"], OAuth2TokenRequestTransientError)
    assert outcomes["/revoke"] is False
    assert isinstance(outcomes["/device"], DeviceFlowError)


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_one_post_reads_within_the_cap(
    hass: HomeAssistant, auth_server: AuthorizationServer, declared: bool
) -> None:
    """An answer over the cap: no token, no device login; revocation goes by status.

    The body is a valid answer padded past 1 MiB, its length declared or streamed.
    """
    body = json.dumps(
        {
            "access_token": "padded",
            "expires_in": 3600,
            "device_code": "d",
            "user_code": "U",
            "verification_uri": "https://example.com/device",
            "pad": "x" * (MAX_TOKEN_RESPONSE_BYTES + 1),
        }
    ).encode()

    async def padded(request: web.Request) -> web.StreamResponse:
        return await send_json_body(request, body, declared=declared)

    auth_server.answer = padded
    outcomes = await post_all_three(implementation(hass, auth_server))

    too_large = f"larger than {MAX_TOKEN_RESPONSE_BYTES} bytes"
    assert isinstance(outcomes["/token"], OAuth2TokenRequestTransientError)
    assert too_large in str(outcomes["/token"])
    assert outcomes["/revoke"] is True
    assert isinstance(outcomes["/device"], DeviceFlowError)
    assert too_large in outcomes["/device"].detail
