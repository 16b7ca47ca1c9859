"""The account config flow: provider sources, credentials, grant, entry."""

from __future__ import annotations

import base64
from typing import Any
from urllib.parse import parse_qs

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN

from .common import (
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    REDIRECT_URI,
    TOKEN_URL,
    USERINFO_URL,
)

pytestmark = pytest.mark.usefixtures("current_request_with_host")

TOKEN_RESPONSE = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}


@pytest.fixture(autouse=True)
async def setup_application_credentials(hass: HomeAssistant) -> None:
    """Application credentials is a dependency of the integration."""
    assert await async_setup_component(hass, "application_credentials", {})


async def start_manual_flow(
    hass: HomeAssistant,
    client_auth: str = "client_secret_basic",
    pkce: str = "supported",
) -> dict[str, Any]:
    """Walk the flow up to the credentials form with a manual provider."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    assert result["step_id"] == "manual"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Example",
            "authorize_url": AUTHORIZE_URL,
            "token_url": TOKEN_URL,
            "userinfo_url": USERINFO_URL,
            "api_base_url": "https://api.example.com/v1",
            "client_auth": client_auth,
            "pkce": pkce,
            "scopes": "read write",
            "scope_separator": " ",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["description_placeholders"]["redirect_uri"] == REDIRECT_URI
    return result


async def authorize(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    result: dict[str, Any],
) -> URL:
    """Check the external step and come back through the callback with a code."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = URL(result["url"])
    state = config_entry_oauth2_flow._encode_jwt(
        hass, {"flow_id": result["flow_id"], "redirect_uri": REDIRECT_URI}
    )
    client = await hass_client_no_auth()
    resp = await client.get(f"/auth/external/callback?code=the-code&state={state}")
    assert resp.status == 200
    return url


@pytest.mark.parametrize(
    ("client_auth", "pkce"),
    [
        ("client_secret_basic", "supported"),
        ("client_secret_basic", "no"),
        ("client_secret_post", "required"),
        ("client_secret_post", "no"),
        ("none", "required"),
    ],
)
async def test_manual_flow_creates_entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    client_auth: str,
    pkce: str,
) -> None:
    """The whole auth-code flow; assert what goes over the wire."""
    result = await start_manual_flow(hass, client_auth, pkce)
    secret = "" if client_auth == "none" else CLIENT_SECRET
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": secret, "scopes": "read write"},
    )
    url = await authorize(hass, hass_client_no_auth, result)
    query = url.query
    assert str(url.with_query(None)) == AUTHORIZE_URL
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "read write"
    if pkce == "no":
        assert "code_challenge" not in query
    else:
        assert query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
    aioclient_mock.get(USERINFO_URL, json={"sub": "user-42", "email": "me@example.com"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Example (me@example.com)"
    entry = result["result"]
    assert entry.unique_id == "https://auth.example.com#user-42"
    assert entry.data["token"]["access_token"] == "new-access-token"
    assert entry.data["scopes"] == ["read", "write"]
    assert entry.data["provider"]["token_url"] == TOKEN_URL

    # What was sent to the token endpoint.
    token_call = next(c for c in aioclient_mock.mock_calls if str(c[1]) == TOKEN_URL)
    _, _, body, headers = token_call
    form = body if isinstance(body, dict) else parse_qs(body)
    assert headers["Accept"] == "application/json"
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == REDIRECT_URI
    if client_auth == "client_secret_basic":
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        assert headers["Authorization"] == f"Basic {expected}"
        assert "client_secret" not in form
    else:
        assert "Authorization" not in headers
        assert form["client_id"] == CLIENT_ID
        if client_auth == "client_secret_post":
            assert form["client_secret"] == CLIENT_SECRET
        else:
            assert "client_secret" not in form
    if pkce == "no":
        assert "code_verifier" not in form
    else:
        verifier = form["code_verifier"]
        assert (
            config_entry_oauth2_flow.LocalOAuth2ImplementationWithPkce.compute_code_challenge(
                verifier
            )
            == url.query["code_challenge"]
        )


async def test_duplicate_account_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
) -> None:
    """The same account at the same provider is linked once."""
    config_entry.add_to_hass(hass)
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert len(hass.config_entries.async_entries(DOMAIN)) == 1
