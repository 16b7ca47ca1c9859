"""What discovery leaves out: the user sees what was found and adds the rest.

Modelled on two servers people run: django-oauth-toolkit serves a device endpoint
that neither of its metadata documents names (its OIDC document has no
revocation endpoint nor ``grant_types_supported`` either), and Glewlwyd accepts
client credentials but leaves them out of ``grant_types_supported``.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.const import DOMAIN

from ..common import (
    AUTH_DOMAIN,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    OIDC_DOC,
    OIDC_ISSUER,
    OIDC_METADATA,
    OIDC_OAUTH_DOC,
    TOKEN_URL,
    manual_profile,
    requested,
    start_step,
    suggested,
)
from ..strings import assert_form_placeholders

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)

DEVICE_URL = f"{OIDC_ISSUER}/o/device-authorization/"
REVOKE_URL = f"{OIDC_ISSUER}/o/revoke_token/"
TOKEN = f"{OIDC_ISSUER}/oauth2/token"
CC_TOKEN = {"access_token": "cc-token-1", "token_type": "Bearer", "expires_in": 3600}
# What discovery found, by default: an authorization code server and nothing more.
FOUND = {
    "provider": "id.example.org",
    "authorize_url": f"`{OIDC_ISSUER}/oauth2/auth`",
    "token_url": f"`{TOKEN}`",
    "revocation_url": "—",
    "device_authorization_url": "—",
    "grant_auth": "✓",
    "grant_device": "—",
    "grant_client_credentials": "—",
}


async def discovered(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, **metadata: Any
) -> dict[str, Any]:
    """Discover a provider (OIDC_METADATA with ``metadata``): the summary."""
    aioclient_mock.get(OIDC_OAUTH_DOC, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(OIDC_DOC, json={**OIDC_METADATA, **metadata})
    result = await start_step(hass, "discovery")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"issuer_url": OIDC_ISSUER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "discovered"
    assert result["menu_options"] == ["credentials", "adjust_discovered"]
    assert_form_placeholders(result, "config")
    return result


async def adjust(hass: HomeAssistant, flow_id: str) -> dict[str, Any]:
    """Open the form for what discovery left out."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "adjust_discovered"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "adjust_discovered"
    assert_form_placeholders(result, "config")
    return result


async def to_login(hass: HomeAssistant, flow_id: str) -> dict[str, Any]:
    """Go on from the summary, enter the client: the grants offered."""
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "credentials"}
    )
    assert result["step_id"] == "credentials"
    return await hass.config_entries.flow.async_configure(
        flow_id,
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "read"},
    )


async def test_summary_shows_what_was_found(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Endpoints and grants as the metadata names them, missing ones marked."""
    result = await discovered(hass, aioclient_mock)
    assert result["description_placeholders"] == FOUND

    aioclient_mock.clear_requests()
    result = await discovered(
        hass,
        aioclient_mock,
        revocation_endpoint=REVOKE_URL,
        device_authorization_endpoint=DEVICE_URL,
        grant_types_supported=["authorization_code", "client_credentials"],
    )
    assert result["description_placeholders"] == {
        **FOUND,
        "revocation_url": f"`{REVOKE_URL}`",
        "device_authorization_url": f"`{DEVICE_URL}`",
        "grant_device": "✓",
        "grant_client_credentials": "✓",
    }
    # Going on as found: the grants discovery named.
    result = await to_login(hass, result["flow_id"])
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["auth", "device", "client_credentials"]


async def test_added_endpoints_and_grant_are_offered_and_stored(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """What the user adds is in the summary, the login menu and the entry."""
    result = await discovered(hass, aioclient_mock)
    result = await adjust(hass, result["flow_id"])
    # The form starts from what was found.
    assert suggested(result, "revocation_url") == ""
    assert suggested(result, "device_authorization_url") == ""
    assert suggested(result, "client_credentials") is False

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "revocation_url": f" {REVOKE_URL} ",
            "device_authorization_url": DEVICE_URL,
            "client_credentials": True,
        },
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "discovered"
    assert result["description_placeholders"] == {
        **FOUND,
        "revocation_url": f"`{REVOKE_URL}`",
        "device_authorization_url": f"`{DEVICE_URL}`",
        "grant_device": "✓",
        "grant_client_credentials": "✓",
    }
    result = await to_login(hass, result["flow_id"])
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"
    assert result["menu_options"] == ["auth", "device", "client_credentials"]

    aioclient_mock.post(TOKEN, json=CC_TOKEN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "client_credentials"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    provider = entry.data["provider"]
    assert provider["revocation_url"] == REVOKE_URL
    assert provider["device_authorization_url"] == DEVICE_URL
    assert provider["client_credentials"] is True
    assert provider["issuer"] == OIDC_ISSUER

    # Used after setup too: removing the account revokes at the added endpoint.
    aioclient_mock.clear_requests()
    aioclient_mock.post(REVOKE_URL, status=HTTPStatus.OK)
    assert await hass.config_entries.async_remove(entry.entry_id)
    await hass.async_block_till_done()
    assert requested(aioclient_mock) == [("POST", REVOKE_URL)]


async def test_corrected_endpoint_and_removed_grant(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A wrong endpoint is corrected, an empty field removes one, a grant goes."""
    result = await discovered(
        hass,
        aioclient_mock,
        device_authorization_endpoint=f"{OIDC_ISSUER}/wrong",
        revocation_endpoint=REVOKE_URL,
        grant_types_supported=["authorization_code", "client_credentials"],
    )
    result = await adjust(hass, result["flow_id"])
    assert suggested(result, "device_authorization_url") == f"{OIDC_ISSUER}/wrong"
    assert suggested(result, "revocation_url") == REVOKE_URL
    assert suggested(result, "client_credentials") is True
    # A cleared field is not sent at all.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"device_authorization_url": DEVICE_URL, "client_credentials": False},
    )
    assert result["description_placeholders"] == {
        **FOUND,
        "device_authorization_url": f"`{DEVICE_URL}`",
        "grant_device": "✓",
    }
    result = await to_login(hass, result["flow_id"])
    assert result["menu_options"] == ["auth", "device"]


@pytest.mark.parametrize(
    ("metadata", "user_input", "errors"),
    [
        (
            {},
            {"device_authorization_url": "device-authorization"},
            {"device_authorization_url": "invalid_url"},
        ),
        (
            {},
            {"revocation_url": "ftp://id.example.org/revoke"},
            {"revocation_url": "invalid_url"},
        ),
        # The issuer is https: no secret goes to a plain http endpoint.
        (
            {},
            {"device_authorization_url": "http://id.example.org/device"},
            {"device_authorization_url": "insecure_endpoint"},
        ),
        (
            {},
            {"revocation_url": "http://id.example.org/revoke"},
            {"revocation_url": "insecure_endpoint"},
        ),
        # A client credentials only server: unticking it leaves no grant.
        (
            {
                "authorization_endpoint": None,
                "grant_types_supported": ["client_credentials"],
            },
            {"client_credentials": False},
            {"base": "no_grant"},
        ),
    ],
)
async def test_bad_additions_are_refused(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    metadata: dict[str, Any],
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A bad URL or no grant left: the form again, with what was entered."""
    result = await discovered(hass, aioclient_mock, **metadata)
    before = result["description_placeholders"]
    result = await adjust(hass, result["flow_id"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_credentials": True, **user_input}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "adjust_discovered"
    assert result["errors"] == errors
    for key, value in user_input.items():
        assert suggested(result, key) == value
    # Nothing of it was taken: the summary is as found.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_credentials": True}
    )
    assert result["step_id"] == "discovered"
    assert result["description_placeholders"] == {
        **before,
        "grant_client_credentials": "✓",
    }


async def test_loopback_http_endpoint_allowed_for_local_issuer(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A provider on this machine may use plain http, as discovery allows."""
    issuer = "http://127.0.0.1:8000"
    metadata = {
        **OIDC_METADATA,
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/o/authorize/",
        "token_endpoint": f"{issuer}/o/token/",
    }
    aioclient_mock.get(
        f"{issuer}/.well-known/oauth-authorization-server", json=metadata
    )
    result = await start_step(hass, "discovery")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"issuer_url": issuer}
    )
    result = await adjust(hass, result["flow_id"])
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"device_authorization_url": f"{issuer}/o/device/"}
    )
    assert result["step_id"] == "discovered"
    assert result["description_placeholders"]["device_authorization_url"] == (
        f"`{issuer}/o/device/`"
    )


async def test_device_only_server_goes_straight_to_the_code(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No authorization endpoint, a device endpoint: the code is shown at once."""
    result = await discovered(
        hass,
        aioclient_mock,
        authorization_endpoint=None,
        device_authorization_endpoint=DEVICE_URL,
    )
    assert result["description_placeholders"]["authorize_url"] == "—"
    assert result["description_placeholders"]["grant_auth"] == "—"
    aioclient_mock.post(
        DEVICE_URL,
        json={
            "device_code": "dc",
            "user_code": "WDJB-MJHT",
            "verification_uri": f"{OIDC_ISSUER}/device",
            "expires_in": 600,
        },
    )
    result = await to_login(hass, result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "device"
    assert result["description_placeholders"]["user_code"] == "WDJB-MJHT"
    hass.config_entries.flow.async_abort(result["flow_id"])


# -- the manual form's device endpoint ---------------------------------------------------

MANUAL = {
    "name": "Example",
    "token_url": TOKEN_URL,
    "client_auth": "client_secret_basic",
    "pkce": "supported",
}


async def test_manual_device_endpoint_is_offered(hass: HomeAssistant) -> None:
    """Entered by hand, the device endpoint gives the login on another device."""
    result = await start_step(hass, "manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **MANUAL,
            "authorize_url": AUTHORIZE_URL,
            "device_authorization_url": "https://auth.example.com/device",
        },
    )
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["auth", "device"]


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        (
            {"authorize_url": AUTHORIZE_URL, "device_authorization_url": "device"},
            {"device_authorization_url": "invalid_url"},
        ),
        ({}, {"authorize_url": "authorize_url_required"}),
    ],
)
async def test_manual_device_endpoint_errors(
    hass: HomeAssistant, user_input: dict[str, str], errors: dict[str, str]
) -> None:
    """The device endpoint follows the URL rule; some grant must be possible."""
    result = await start_step(hass, "manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**MANUAL, **user_input}
    )
    assert result["step_id"] == "manual"
    assert result["errors"] == errors


async def test_manual_device_endpoint_alone_is_enough(hass: HomeAssistant) -> None:
    """Without an authorization endpoint, the device endpoint is the way in."""
    result = await start_step(hass, "manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**MANUAL, "device_authorization_url": "https://auth.example.com/device"},
    )
    assert result["step_id"] == "credentials"


# -- reconfigure: endpoints without a new grant ------------------------------------------


@pytest.fixture
def linked(token_data: dict[str, Any]) -> MockConfigEntry:
    """An account linked (by a login) before any endpoint was added."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Example (user@example.com)",
        unique_id="https://auth.example.com#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile(issuer="https://auth.example.com").as_dict(),
            "scopes": ["read"],
            "subject": "subject-1",
        },
    )


@pytest.mark.usefixtures("setup_credentials", "mock_setup_entry")
async def test_reconfigure_adds_endpoints_without_a_new_grant(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, linked: MockConfigEntry
) -> None:
    """Revocation and device endpoints are stored; no login, the same token."""
    linked.add_to_hass(hass)
    token = dict(linked.data["token"])
    result = await linked.start_reconfigure_flow(hass)
    assert suggested(result, "revocation_url") == ""
    assert suggested(result, "device_authorization_url") == ""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Example (user@example.com)",
            "scopes": "read",
            "revocation_url": "https://auth.example.com/revoke",
            "device_authorization_url": "http://auth.example.com/device",
        },
    )
    # Plain http under an https issuer: refused, nothing changed.
    assert result["step_id"] == "reconfigure"
    assert result["errors"] == {"device_authorization_url": "insecure_endpoint"}
    assert "revocation_url" not in linked.data["provider"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Example (user@example.com)",
            "scopes": "read",
            "revocation_url": "https://auth.example.com/revoke",
            "device_authorization_url": "https://auth.example.com/device",
        },
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert linked.data["provider"]["revocation_url"] == (
        "https://auth.example.com/revoke"
    )
    assert linked.data["provider"]["device_authorization_url"] == (
        "https://auth.example.com/device"
    )
    assert linked.data["token"] == token
    assert aioclient_mock.call_count == 0

    # Re-linking now offers the login on another device.
    result = await linked.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["auth", "device"]


@pytest.mark.usefixtures("setup_credentials", "mock_setup_entry")
async def test_reconfigure_of_a_client_has_no_device_endpoint(
    hass: HomeAssistant, token_data: dict[str, Any]
) -> None:
    """An account that is the client itself: only its revocation endpoint."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Example (test-client)",
        unique_id=f"https://auth.example.com#{CLIENT_ID}",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": CC_TOKEN | {"expires_at": 2e9, "client_credentials": {}},
            "provider": manual_profile(
                client_credentials=True,
                device_authorization_url="https://auth.example.com/device",
            ).as_dict(),
            "scopes": [],
            "subject": CLIENT_ID,
        },
    )
    entry.add_to_hass(hass)
    result = await entry.start_reconfigure_flow(hass)
    assert "device_authorization_url" not in [
        str(key) for key in result["data_schema"].schema
    ]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Example", "revocation_url": "https://auth.example.com/revoke"},
    )
    assert result["reason"] == "reconfigure_successful"
    assert entry.data["provider"]["revocation_url"] == "https://auth.example.com/revoke"
    # Not in the form, so not removed.
    assert entry.data["provider"]["device_authorization_url"] == (
        "https://auth.example.com/device"
    )
