"""Linking and re-linking an account with the device authorization grant."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from functools import partial
from http import HTTPStatus
import time
from typing import Any
from unittest.mock import AsyncMock, patch

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers.selector import QrCodeSelector
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.oauth.device import async_poll_device_token

from ..common import (
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE_RESPONSE,
    DEVICE_URL,
    ISSUER,
    OIDC_DOC,
    OIDC_ISSUER,
    OIDC_METADATA,
    OIDC_OAUTH_DOC,
    TOKEN_URL,
    USERINFO_URL,
    FakeTime,
    discover,
    manual_profile,
    posted_forms,
    respond_in_turn,
    stored_credentials,
    token_error,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)

OIDC_DEVICE_URL = f"{OIDC_ISSUER}/oauth2/device"
OIDC_TOKEN_URL = f"{OIDC_ISSUER}/oauth2/token"
OIDC_USERINFO_URL = f"{OIDC_ISSUER}/oauth2/userinfo"
TOKEN_RESPONSE = {
    "access_token": "device-access-token",
    "refresh_token": "device-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@pytest.fixture
def fake_time() -> Iterator[FakeTime]:
    """Device polling in the flow never waits for real."""
    fake = FakeTime()
    with patch(
        "custom_components.oauth2_rest.oauth.device.async_poll_device_token",
        partial(async_poll_device_token, sleep=fake.sleep, clock=fake.clock),
    ):
        yield fake


async def start_discovered_flow(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> dict[str, Any]:
    """Discover a provider with a device endpoint, enter the client: the menu."""
    aioclient_mock.get(OIDC_OAUTH_DOC, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(
        OIDC_DOC,
        json={**OIDC_METADATA, "device_authorization_endpoint": OIDC_DEVICE_URL},
    )
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "discovery"}
    )
    result = await discover(hass, result["flow_id"], OIDC_ISSUER)
    assert result["step_id"] == "credentials"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "openid"},
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"
    assert result["menu_options"] == ["auth", "device"]
    assert result["description_placeholders"] == {"provider": "id.example.org"}
    return result


async def on_device(
    hass: HomeAssistant, result: dict[str, Any], *, complete: str | None = None
) -> dict[str, Any]:
    """Pick the device login; check the code shown; let the polling run out."""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "device"}
    )
    if result["type"] is FlowResultType.ABORT:
        return result
    # A form: the code, the link, and a QR code of the link that fills in the code
    # (else of the page where the code is entered).
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "device"
    placeholders = result["description_placeholders"]
    assert placeholders["user_code"] == "WDJB-MJHT"
    assert placeholders["verification_uri"].endswith("/device")
    assert placeholders["direct_url"] == (complete or placeholders["verification_uri"])
    assert qr_data(result) == (complete or placeholders["verification_uri"])
    # Submitted once approved (or before): Home Assistant waits for the approval.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    if result["type"] is FlowResultType.SHOW_PROGRESS:
        assert result["step_id"] == "device_wait"
        assert result["progress_action"] == "device"
        for key in ("user_code", "verification_uri", "direct_url"):
            assert result["description_placeholders"][key] == placeholders[key]
        await hass.async_block_till_done()
    return await hass.config_entries.flow.async_configure(result["flow_id"])


def qr_data(result: dict[str, Any]) -> str:
    """The data of the form's QR code field (HA's QrCodeSelector)."""
    (key,) = result["data_schema"].schema
    assert str(key) == "qr_code"
    selector = result["data_schema"].schema[key]
    assert isinstance(selector, QrCodeSelector)
    serialized = selector.serialize()["selector"]["qr_code"]
    assert serialized["error_correction_level"] == "medium"
    return str(serialized["data"])


async def test_device_login_creates_the_entry(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    fake_time: FakeTime,
) -> None:
    """Code shown; pending, slow_down, token; the entry is as the code flow's."""
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(OIDC_DEVICE_URL, json=DEVICE_RESPONSE)
    respond_in_turn(
        aioclient_mock,
        OIDC_TOKEN_URL,
        [
            token_error("authorization_pending"),
            token_error("slow_down"),
            {"json": TOKEN_RESPONSE},
        ],
    )
    aioclient_mock.get(OIDC_USERINFO_URL, json={"sub": "dev-1", "name": "Dee"})
    before = time.time()
    result = await on_device(
        hass, result, complete=DEVICE_RESPONSE["verification_uri_complete"]
    )

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "id.example.org (Dee)"
    entry = result["result"]
    assert entry.unique_id == f"{OIDC_ISSUER}#dev-1"
    assert set(entry.data) == {
        "auth_implementation",
        "token",
        "provider",
        "scopes",
        "subject",
    }
    assert entry.data["auth_implementation"] == AUTH_DOMAIN
    assert entry.data["scopes"] == ["openid"]
    assert entry.data["subject"] == "dev-1"
    assert entry.data["provider"]["device_authorization_url"] == OIDC_DEVICE_URL
    token = entry.data["token"]
    assert token["access_token"] == "device-access-token"
    assert token["refresh_token"] == "device-refresh-token"
    assert token["expires_in"] == 3600
    assert before + 3600 <= token["expires_at"] <= time.time() + 3600
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}

    # On the wire: the discovered client_secret_post, the scope, the device code.
    (start,) = posted_forms(aioclient_mock, OIDC_DEVICE_URL)
    assert start == {
        "scope": "openid",
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }
    polls = posted_forms(aioclient_mock, OIDC_TOKEN_URL)
    assert (
        polls
        == [
            {
                "grant_type": DEVICE_GRANT,
                "device_code": "the-device-code",
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
            }
        ]
        * 3
    )
    assert fake_time.sleeps == [3, 3, 8]


@pytest.mark.parametrize(
    ("responses", "reason"),
    [
        (
            [token_error("authorization_pending"), token_error("access_denied")],
            "device_denied",
        ),
        ([token_error("expired_token")], "device_expired"),
        ([token_error("invalid_client", HTTPStatus.UNAUTHORIZED)], "device_failed"),
        (  # Transient until the code's lifetime (1800 s, every 3 s) is over.
            [token_error("server_error", HTTPStatus.BAD_GATEWAY)] * 600,
            "device_failed",
        ),
    ],
)
async def test_device_login_ends_without_token(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    fake_time: FakeTime,
    responses: list[dict[str, Any]],
    reason: str,
) -> None:
    """Denied, expired and failed logins abort; nothing is stored."""
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(
        OIDC_DEVICE_URL,
        json={**DEVICE_RESPONSE, "verification_uri_complete": None},
    )
    respond_in_turn(aioclient_mock, OIDC_TOKEN_URL, responses)
    result = await on_device(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert result["description_placeholders"]["error"]
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert await stored_credentials(hass) == {}


async def test_device_login_transient_then_success(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    fake_time: FakeTime,
) -> None:
    """Failures on the way are polled through."""
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(OIDC_DEVICE_URL, json=DEVICE_RESPONSE)
    respond_in_turn(
        aioclient_mock,
        OIDC_TOKEN_URL,
        [
            token_error("temporarily_unavailable", HTTPStatus.SERVICE_UNAVAILABLE),
            token_error("authorization_pending"),
            {"json": TOKEN_RESPONSE},
        ],
    )
    aioclient_mock.get(OIDC_USERINFO_URL, json={"sub": "dev-1"})
    result = await on_device(
        hass, result, complete=DEVICE_RESPONSE["verification_uri_complete"]
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"{OIDC_ISSUER}#dev-1"


async def test_device_login_cannot_start(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    fake_time: FakeTime,
) -> None:
    """The provider refuses the device authorization request: abort."""
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(
        OIDC_DEVICE_URL,
        status=HTTPStatus.BAD_REQUEST,
        json={"error": "unauthorized_client"},
    )
    result = await on_device(hass, result)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "device_failed"
    assert "unauthorized_client" in result["description_placeholders"]["error"]
    assert fake_time.sleeps == []


async def test_browser_login_still_offered(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The other menu option is the authorization-code flow."""
    result = await start_discovered_flow(hass, aioclient_mock)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "auth"}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    assert result["url"].startswith(f"{OIDC_ISSUER}/oauth2/auth?")


async def test_no_device_endpoint_no_choice(hass: HomeAssistant) -> None:
    """Without a device endpoint the flow goes straight to the browser login."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Example",
            "authorize_url": f"{ISSUER}/authorize",
            "token_url": TOKEN_URL,
            "client_auth": "client_secret_basic",
            "pkce": "supported",
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP


# -- reauth and reconfigure --------------------------------------------------------


@pytest.fixture
def config_entry(token_data: dict[str, Any]) -> MockConfigEntry:
    """A linked account at a provider with a device endpoint."""
    return MockConfigEntry(
        domain=DOMAIN,
        title="Example (user@example.com)",
        unique_id=f"{ISSUER}#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile(device_authorization_url=DEVICE_URL).as_dict(),
            "scopes": ["read"],
            "subject": "subject-1",
        },
    )


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("subject", "reason"),
    [("subject-1", "reauth_successful"), ("someone-else", "wrong_account")],
)
async def test_reauth_on_device(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    fake_time: FakeTime,
    subject: str,
    reason: str,
) -> None:
    """Re-linking on another device: the same account updates the entry."""
    data_before = dict(config_entry.data)
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    result = await config_entry.start_reauth_flow(hass)
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"

    aioclient_mock.post(DEVICE_URL, json=DEVICE_RESPONSE)
    respond_in_turn(
        aioclient_mock,
        TOKEN_URL,
        [token_error("authorization_pending"), {"json": TOKEN_RESPONSE}],
    )
    aioclient_mock.get(USERINFO_URL, json={"sub": subject})
    result = await on_device(
        hass, result, complete=DEVICE_RESPONSE["verification_uri_complete"]
    )
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    # The profile's client_secret_basic, on every request.
    for url in (DEVICE_URL, TOKEN_URL):
        calls = [c for c in aioclient_mock.mock_calls if str(c[1]) == url]
        assert calls
        assert all(c[3]["Authorization"].startswith("Basic ") for c in calls)
    # The client id in the body too (servers that read the client from it alone).
    assert posted_forms(aioclient_mock, DEVICE_URL) == [
        {"client_id": CLIENT_ID, "scope": "read"}
    ]
    assert posted_forms(aioclient_mock, TOKEN_URL)[-1] == {
        "grant_type": DEVICE_GRANT,
        "device_code": "the-device-code",
    }
    if reason == "wrong_account":
        assert dict(config_entry.data) == data_before
        assert mock_setup_entry.call_count == 1
        return
    assert set(config_entry.data) == set(data_before)
    assert config_entry.data["token"]["access_token"] == "device-access-token"
    assert config_entry.data["token"]["expires_at"] > time.time()
    assert config_entry.data["subject"] == "subject-1"
    assert mock_setup_entry.call_count == 2


@pytest.mark.usefixtures("setup_credentials", "mock_setup_entry")
async def test_reconfigure_offers_the_device_login(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """New scopes need a new grant: the same choice is offered."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    # The form shows the entry's device endpoint; submitted as shown.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Example",
            "scopes": "read write",
            "device_authorization_url": DEVICE_URL,
        },
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"
    assert result["menu_options"] == ["auth", "device"]


async def test_closing_the_qr_form_stops_the_polling(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The user closes the dialog while the code is shown: nothing keeps polling."""
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(OIDC_DEVICE_URL, json=DEVICE_RESPONSE)
    never = asyncio.Event()

    async def wait_forever(seconds: float) -> None:
        await never.wait()

    with patch(
        "custom_components.oauth2_rest.oauth.device.async_poll_device_token",
        partial(async_poll_device_token, sleep=wait_forever, clock=time.monotonic),
    ):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "device"}
        )
    assert result["step_id"] == "device"
    flow = hass.config_entries.flow._progress[result["flow_id"]]
    task = flow._device.task
    await asyncio.sleep(0)
    assert not task.done()
    hass.config_entries.flow.async_abort(result["flow_id"])
    await hass.async_block_till_done()
    assert task.cancelled()
    assert not posted_forms(aioclient_mock, OIDC_TOKEN_URL)


@pytest.mark.parametrize(
    "uri",
    [
        "javascript:alert(document.cookie)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "vbscript:msgbox(1)",
        "http://id.example.org/device",
    ],
)
async def test_device_login_without_a_safe_link_shows_only_the_code(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    fake_time: FakeTime,
    uri: str,
) -> None:
    """No https page: no link and no QR code, the code and a plain message; it links.

    Failed on the old code (the URI was the dialog's link and its QR code).
    """
    result = await start_discovered_flow(hass, aioclient_mock)
    aioclient_mock.post(
        OIDC_DEVICE_URL,
        json={
            **DEVICE_RESPONSE,
            "verification_uri": uri,
            "verification_uri_complete": uri,
        },
    )
    respond_in_turn(
        aioclient_mock,
        OIDC_TOKEN_URL,
        [token_error("authorization_pending"), {"json": TOKEN_RESPONSE}],
    )
    aioclient_mock.get(OIDC_USERINFO_URL, json={"sub": "dev-1"})
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "device"}
    )
    # Straight to the wait: there is no QR code form to show.
    assert result["type"] is FlowResultType.SHOW_PROGRESS
    assert result["step_id"] == "device_wait"
    assert result["progress_action"] == "device_no_link"
    assert result["description_placeholders"] == {
        "provider": "id.example.org",
        "user_code": "WDJB-MJHT",
    }
    assert uri not in str(result)
    await hass.async_block_till_done()
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == f"{OIDC_ISSUER}#dev-1"
