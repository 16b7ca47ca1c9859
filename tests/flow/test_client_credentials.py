"""The client credentials grant (RFC 6749 section 4.4): link, renew, re-link."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Awaitable, Callable
from http import HTTPStatus
import time
from typing import Any
from urllib.parse import parse_qs

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.diagnostics import async_get_config_entry_diagnostics

from ..common import (
    API_BASE,
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    OIDC_DOC,
    OIDC_ISSUER,
    OIDC_METADATA,
    OIDC_OAUTH_DOC,
    TOKEN_URL,
    discover,
    endpoint_subentry,
    expire_token,
    manual_profile,
    reauth_flows,
    stored_credentials,
    token_requests,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)

CC_TOKEN = {"access_token": "cc-token-1", "token_type": "Bearer", "expires_in": 3600}
NEW_SECRET = "rotated-secret"


def basic(client_id: str, secret: str) -> str:
    """The Authorization header of client_secret_basic."""
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def token_forms(aioclient_mock: AiohttpClientMocker) -> list[dict[str, str]]:
    """The forms of every token request, in order."""
    forms = []
    for call in token_requests(aioclient_mock):
        body = call[2]
        forms.append(
            dict(body)
            if isinstance(body, dict)
            else {k: v[0] for k, v in parse_qs(body).items()}
        )
    return forms


async def manual_client_credentials_flow(
    hass: HomeAssistant, **changes: Any
) -> dict[str, Any]:
    """A provider entered by hand that only offers client credentials: credentials."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    user_input = {
        "name": "Machine API",
        "token_url": TOKEN_URL,
        "api_base_url": API_BASE,
        "client_auth": "client_secret_basic",
        "pkce": "supported",
        "scopes": "read",
        "extra_authorize_params": "audience=https://api.example.com\nprompt=none",
        "client_credentials": True,
        **changes,
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    return result


@pytest.mark.usefixtures("mock_setup_entry")
async def test_link_with_client_credentials(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No browser, no user: one token request, the account is the client."""
    result = await manual_client_credentials_flow(hass)
    aioclient_mock.post(TOKEN_URL, json={**CC_TOKEN, "refresh_token": "unwanted"})
    before = time.time()
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": "read",
            "extra_authorize_params": "audience=https://api.example.com\nprompt=none",
        },
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Machine API (test-client)"
    entry = result["result"]
    assert entry.unique_id == f"{ISSUER}#{CLIENT_ID}"
    assert entry.data["subject"] == CLIENT_ID
    assert entry.data["provider"]["client_credentials"] is True
    assert entry.data["provider"]["authorize_url"] == ""
    token = entry.data["token"]
    assert token["access_token"] == "cc-token-1"
    assert "refresh_token" not in token
    assert before + 3600 <= token["expires_at"] <= time.time() + 3600
    # The request to repeat: the scope and the audience, not the browser-only prompt.
    assert token["client_credentials"] == {
        "scope": "read",
        "audience": "https://api.example.com",
    }
    # On the wire: only the token endpoint, with the client's Basic credentials.
    assert [str(call[1]) for call in aioclient_mock.mock_calls] == [TOKEN_URL]
    assert token_forms(aioclient_mock) == [
        {
            "grant_type": "client_credentials",
            "scope": "read",
            "audience": "https://api.example.com",
        }
    ]
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == basic(
        CLIENT_ID, CLIENT_SECRET
    )
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


@pytest.mark.usefixtures("mock_setup_entry")
async def test_same_client_twice_is_one_account(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The client at this provider is the account: linking it again aborts."""
    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    for expected in (FlowResultType.CREATE_ENTRY, FlowResultType.ABORT):
        result = await manual_client_credentials_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
        )
        assert result["type"] is expected
    assert result["reason"] == "already_configured"


@pytest.mark.usefixtures("mock_setup_entry")
async def test_discovery_offers_client_credentials(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """``grant_types_supported`` says so: the login menu has a third choice."""
    aioclient_mock.get(OIDC_OAUTH_DOC, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(
        OIDC_DOC,
        json={
            **OIDC_METADATA,
            "grant_types_supported": ["authorization_code", "client_credentials"],
            "device_authorization_endpoint": f"{OIDC_ISSUER}/oauth2/device",
        },
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "discovery"}
    )
    result = await discover(hass, result["flow_id"], OIDC_ISSUER)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "api"},
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"
    assert result["menu_options"] == ["auth", "device", "client_credentials"]
    aioclient_mock.post(f"{OIDC_ISSUER}/oauth2/token", json=CC_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "client_credentials"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"{OIDC_ISSUER}#{CLIENT_ID}"
    # The discovered client_secret_post; no userinfo lookup for a client.
    (call,) = [c for c in aioclient_mock.mock_calls if c[0] == "POST"]
    assert call[2] == {
        "grant_type": "client_credentials",
        "scope": "api",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    assert not [c for c in aioclient_mock.mock_calls if "userinfo" in str(c[1])]


@pytest.mark.parametrize(
    ("status", "body", "error", "placeholder"),
    [
        (401, {"error": "invalid_client"}, "invalid_client", "invalid_client"),
        (
            400,
            {"error": "invalid_scope"},
            "client_credentials_refused",
            "invalid_scope",
        ),
        (200, {"error": "unauthorized_client"}, "client_credentials_refused", None),
        (503, {}, "client_credentials_failed", "server_error"),
    ],
)
@pytest.mark.usefixtures("mock_setup_entry")
async def test_refused_client_credentials_keep_the_form(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    status: int,
    body: dict[str, Any],
    error: str,
    placeholder: str | None,
) -> None:
    """A refusal shows the credentials form again, with what the provider said."""
    result = await manual_client_credentials_flow(hass)
    aioclient_mock.post(TOKEN_URL, status=status, json=body)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": "wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["errors"] == {"base": error}
    shown = result["description_placeholders"]["error"]
    assert (
        shown == (placeholder or body["error"]) or error == "client_credentials_failed"
    )
    assert "wrong" not in str(result)
    assert await stored_credentials(hass) == {}

    # Fixed: linked, and only the working secret is stored.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


async def test_manual_needs_an_authorize_url_without_client_credentials(
    hass: HomeAssistant,
) -> None:
    """The authorization endpoint may only be left out for client credentials."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Machine API",
            "token_url": TOKEN_URL,
            "client_auth": "client_secret_basic",
            "pkce": "supported",
        },
    )
    assert result["errors"] == {"authorize_url": "authorize_url_required"}


# -- a linked client: renewal, re-link, reconfigure --------------------------------


@pytest.fixture
def token_data(expires_at: float) -> dict[str, Any]:
    """A token of the client credentials grant, with the request that renews it."""
    return {
        "access_token": "cc-token-0",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": expires_at,
        "client_credentials": {"scope": "read", "resource": "https://api.example.com"},
    }


@pytest.fixture
def config_entry(token_data: dict[str, Any]) -> MockConfigEntry:
    """A client linked with the client credentials grant."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Example (test-client)",
        unique_id=f"{ISSUER}#{CLIENT_ID}",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile(
                client_credentials=True,
                extra_authorize_params={"resource": "https://api.example.com"},
            ).as_dict(),
            "scopes": ["read"],
            "subject": CLIENT_ID,
        },
        subentries_data=[endpoint_subentry()],
    )


async def test_due_token_one_request_for_twenty_callers(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Twenty requests find the token due: one client credentials request, shared."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert not token_requests(aioclient_mock)
    expire_token(hass, config_entry, time.time() + 30)  # due, not yet expired
    aioclient_mock.clear_requests()

    gate = asyncio.Event()

    async def slow(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        await gate.wait()
        return AiohttpClientMockResponse(method, url, json=CC_TOKEN)

    aioclient_mock.post(TOKEN_URL, side_effect=slow)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 2})
    auth = config_entry.runtime_data.account.auth
    callers = [
        hass.async_create_task(auth.request("GET", "/weather")) for _ in range(20)
    ]
    for _ in range(5):
        await asyncio.sleep(0)
    gate.set()
    responses = await asyncio.gather(*callers)

    assert [r.status for r in responses] == [200] * 20
    assert token_forms(aioclient_mock) == [
        {
            "grant_type": "client_credentials",
            "scope": "read",
            "resource": "https://api.example.com",
        }
    ]
    api_calls = [c for c in aioclient_mock.mock_calls if c[0] == "GET"]
    assert len(api_calls) == 20
    assert {c[3]["Authorization"] for c in api_calls} == {"Bearer cc-token-1"}
    token = config_entry.data["token"]
    assert token["access_token"] == "cc-token-1"
    assert token["client_credentials"]["resource"] == "https://api.example.com"
    assert token["expires_at"] > time.time() + 3000

    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert diagnostics["entry"]["data"]["token"]["client_credentials"] == {
        "scope": "read",
        "resource": "https://api.example.com",
    }
    assert "cc-token-1" not in str(diagnostics)


@pytest.mark.parametrize(
    "token_data",
    [
        {
            "access_token": "cc-token-0",
            "token_type": "Bearer",
            "expires_in": 315360000,
            "expires_at": time.time() + 315360000,
            "non_expiring": True,
            "client_credentials": {"scope": "read"},
        }
    ],
)
async def test_rejected_non_expiring_token_is_renewed(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A token without expiry that the API rejects: a new request, no reauth."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    aioclient_mock.clear_requests()
    calls = 0

    async def api(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        nonlocal calls
        calls += 1
        return AiohttpClientMockResponse(
            method, url, status=401 if calls == 1 else 200, json={"temperature": 2}
        )

    aioclient_mock.get(f"{API_BASE}/weather", side_effect=api)
    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    response = await config_entry.runtime_data.account.auth.request("GET", "/weather")
    assert response.status == 200
    assert len(token_requests(aioclient_mock)) == 1
    assert config_entry.data["token"]["access_token"] == "cc-token-1"
    assert not reauth_flows(hass)


async def test_invalid_client_asks_for_a_new_secret(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The secret was rotated: reauth asks for it, tries it, no browser."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    aioclient_mock.clear_requests()
    aioclient_mock.post(
        TOKEN_URL, status=HTTPStatus.UNAUTHORIZED, json={"error": "invalid_client"}
    )
    expire_token(hass, config_entry)
    await config_entry.runtime_data.account.async_refresh()
    await hass.async_block_till_done()
    (flow,) = reauth_flows(hass)
    assert len(token_requests(aioclient_mock)) == 1

    result = await hass.config_entries.flow.async_configure(flow["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_client_credentials"
    assert result["description_placeholders"]["account"] == "Example (test-client)"

    # A wrong secret: the same form, with the provider's answer.
    aioclient_mock.clear_requests()
    aioclient_mock.post(
        TOKEN_URL, status=HTTPStatus.UNAUTHORIZED, json={"error": "invalid_client"}
    )
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"client_secret": "still-wrong"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_client_credentials"
    assert result["errors"] == {"base": "invalid_client"}
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == basic(
        CLIENT_ID, "still-wrong"
    )
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}

    # The new secret works: stored, the entry reloaded with a fresh token.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 5})
    result = await hass.config_entries.flow.async_configure(
        flow["flow_id"], {"client_secret": NEW_SECRET}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    await hass.async_block_till_done()
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == basic(
        CLIENT_ID, NEW_SECRET
    )
    assert token_forms(aioclient_mock)[0]["grant_type"] == "client_credentials"
    stored = await stored_credentials(hass)
    assert list(stored.values()) == [(CLIENT_ID, NEW_SECRET)]
    assert config_entry.data["auth_implementation"] in stored
    assert config_entry.data["token"]["access_token"] == "cc-token-1"
    assert config_entry.state is ConfigEntryState.LOADED
    assert hass.states.get("sensor.weather").state == "5"
    api_call = next(c for c in aioclient_mock.mock_calls if c[0] == "GET")
    assert api_call[3]["Authorization"] == "Bearer cc-token-1"


@pytest.mark.usefixtures("setup_credentials", "mock_setup_entry")
async def test_reconfigure_a_client_renews_without_browser(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """New scopes for a client: a client credentials request, never the login menu."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    aioclient_mock.post(TOKEN_URL, status=400, json={"error": "invalid_scope"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Machines",
            "scopes": "read admin",
            "extra_authorize_params": "resource=https://api.example.com",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"base": "client_credentials_refused"}
    assert result["description_placeholders"]["error"] == "invalid_scope"

    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Machines",
            "scopes": "read write",
            "extra_authorize_params": "resource=https://api.example.com",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.title == "Machines"
    assert config_entry.data["scopes"] == ["read", "write"]
    assert token_forms(aioclient_mock) == [
        {
            "grant_type": "client_credentials",
            "scope": "read write",
            "resource": "https://api.example.com",
        }
    ]


@pytest.mark.usefixtures("mock_setup_entry")
async def test_reauth_of_a_client_whose_credential_was_deleted(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """No stored credential: the credentials form, then a token for the same client."""
    config_entry.add_to_hass(hass)  # its credential is not stored (deleted)
    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_client_credentials"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"

    aioclient_mock.post(TOKEN_URL, json=CC_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": CLIENT_ID,
            "client_secret": NEW_SECRET,
            "scopes": "read",
            "extra_authorize_params": "resource=https://api.example.com",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert token_forms(aioclient_mock) == [
        {
            "grant_type": "client_credentials",
            "scope": "read",
            "resource": "https://api.example.com",
        }
    ]
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, NEW_SECRET)}
