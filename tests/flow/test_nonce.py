"""The OIDC nonce: sent with every authorization request that asks for openid.

A real token endpoint (aiohttp on 127.0.0.1) issues the id_token; the flow goes
through Home Assistant's callback view. OIDC Core 3.1.3.7 step 11: a nonce was
sent, so the id_token's ``nonce`` claim must be there and equal to it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
import logging
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.oauth2_rest.const import DOMAIN

from ..common import (
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_TOKEN,
    authorize,
    fake_id_token,
    start_manual_flow,
)

pytestmark = pytest.mark.usefixtures(
    "socket_enabled", "current_request_with_host", "setup_application_credentials"
)


class TokenEndpoint:
    """A token endpoint whose next answer carries ``id_token`` (or none)."""

    def __init__(self) -> None:
        """No answer yet, nothing received."""
        self.id_token: str | None = None
        self.forms: list[dict[str, str]] = []
        self.url = ""

    async def token(self, request: web.Request) -> web.Response:
        """Answer a code exchange."""
        self.forms.append(dict(await request.post()))  # type: ignore[arg-type]
        answer: dict[str, Any] = dict(NEW_TOKEN)
        if self.id_token is not None:
            answer["id_token"] = self.id_token
        return web.json_response(answer)


@pytest.fixture
async def endpoint() -> AsyncIterator[TokenEndpoint]:
    """The token endpoint, serving on 127.0.0.1."""
    endpoint = TokenEndpoint()
    app = web.Application()
    app.router.add_post("/token", endpoint.token)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    endpoint.url = str(server.make_url("/token"))
    yield endpoint
    await server.close()


def claims(nonce: Any) -> dict[str, Any]:
    """The id_token's claims, with ``nonce`` unless it is None."""
    found: dict[str, Any] = {
        "iss": "https://auth.example.com",
        "sub": "oidc-subject",
        "aud": CLIENT_ID,
        "email": "me@example.org",
    }
    if nonce is not None:
        found["nonce"] = nonce
    return found


async def login(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    endpoint: TokenEndpoint,
    scopes: str,
) -> tuple[dict[str, Any], str | None]:
    """Walk the manual flow to the browser and back; the flow and its nonce."""
    result = await start_manual_flow(
        hass, token_url=endpoint.url, userinfo_url=None, scopes=scopes
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": scopes},
    )
    url = await authorize(hass, hass_client_no_auth, result)
    return result, url.query.get("nonce")


@pytest.mark.parametrize(
    ("sent", "created"),
    [
        ("same", True),
        ("other", False),  # another login's id_token
        (None, False),  # a nonce was sent: the claim must be there
        (12345, False),
    ],
)
async def test_nonce_is_checked_in_the_id_token(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    endpoint: TokenEndpoint,
    caplog: pytest.LogCaptureFixture,
    sent: Any,
    created: bool,
) -> None:
    """The id_token links the account only with this login's nonce."""
    caplog.set_level(logging.DEBUG)
    result, nonce = await login(hass, hass_client_no_auth, endpoint, "openid email")
    assert nonce is not None
    assert len(nonce) >= 43  # 256 random bits, base64url
    endpoint.id_token = fake_id_token(
        claims({"same": nonce, "other": "another-login-nonce"}.get(sent, sent))
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert len(endpoint.forms) == 1
    assert "nonce" not in endpoint.forms[0]  # the authorize request's, not the token's
    if created:
        assert result["type"] is FlowResultType.CREATE_ENTRY
        assert result["result"].unique_id.endswith("#oidc-subject")
    else:
        assert result["type"] is FlowResultType.ABORT
        assert result["reason"] == "nonce_mismatch"
        assert not hass.config_entries.async_entries(DOMAIN)
    assert nonce not in caplog.text


async def test_each_login_has_its_own_nonce(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    endpoint: TokenEndpoint,
) -> None:
    """Two flows at once: two nonces; the first login's id_token fails the second."""
    first, first_nonce = await login(hass, hass_client_no_auth, endpoint, "openid")
    second, second_nonce = await login(hass, hass_client_no_auth, endpoint, "openid")
    assert first_nonce and second_nonce and first_nonce != second_nonce
    endpoint.id_token = fake_id_token(claims(first_nonce))
    result = await hass.config_entries.flow.async_configure(second["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "nonce_mismatch"
    result = await hass.config_entries.flow.async_configure(first["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY


async def test_no_nonce_without_openid(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    endpoint: TokenEndpoint,
) -> None:
    """Plain OAuth 2.0 scopes: no nonce sent, an id_token's nonce is not asked."""
    result, nonce = await login(hass, hass_client_no_auth, endpoint, "read openidx")
    assert nonce is None
    endpoint.id_token = fake_id_token(claims(None))
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
