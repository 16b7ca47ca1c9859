"""A running account is set up again once after a reauth or reconfigure, as HA wants.

Home Assistant logs (and from 2026.12 refuses) a flow that reloads an entry that
has an update listener; the listener is to schedule the reload.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
import time
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

import custom_components.oauth2_rest as integration

from .common import API_BASE, TOKEN_URL, USERINFO_URL, expire_token, token_requests

pytestmark = pytest.mark.usefixtures("current_request_with_host")

DEPRECATION = "has an update listener and should use it for scheduling a reload"
NEW_TOKEN = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}


def last_bearer(aioclient_mock: AiohttpClientMocker) -> str:
    """The access token of the last API request."""
    calls = [c for c in aioclient_mock.mock_calls if str(c[1]).startswith(API_BASE)]
    return str(calls[-1][3]["Authorization"])


async def grant_in_browser(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    result: dict[str, Any],
) -> dict[str, Any]:
    """The user logs in at the provider and comes back with a code."""
    assert result["type"] is FlowResultType.EXTERNAL_STEP, result
    state = URL(result["url"]).query["state"]
    client = await hass_client_no_auth()
    resp = await client.get(
        "/auth/external/callback", params={"state": state, "code": "the-code"}
    )
    assert resp.status == HTTPStatus.OK
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    return await hass.config_entries.flow.async_configure(result["flow_id"])


@pytest.mark.parametrize("change", ["reauth", "new scopes", "new name"])
async def test_relink_sets_up_once_without_deprecation(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
    change: str,
) -> None:
    """Reauth and reconfigure of a running account: one setup, no deprecation."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.update_listeners

    with patch.object(
        integration, "async_setup_entry", wraps=integration.async_setup_entry
    ) as setups:
        if change == "reauth":
            result = await config_entry.start_reauth_flow(hass)
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"], {}
            )
        else:
            result = await config_entry.start_reconfigure_flow(hass)
            result = await hass.config_entries.flow.async_configure(
                result["flow_id"],
                {
                    "name": "Work",
                    "scopes": "read write" if change == "new scopes" else "read",
                },
            )
        if change != "new name":
            result = await grant_in_browser(
                hass, hass_client_no_auth, aioclient_mock, result
            )
        await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] in ("reauth_successful", "reconfigure_successful")
    assert DEPRECATION not in caplog.text
    assert setups.call_count == 1
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.runtime_data.title == config_entry.title
    expected = "stored-access-token" if change == "new name" else "new-access-token"
    assert last_bearer(aioclient_mock) == f"Bearer {expected}"


@pytest.mark.parametrize("expires_at", [time.time() - 60])
async def test_reauth_of_a_failed_setup_sets_up_again(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    hass_client_no_auth: ClientSessionGenerator,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An account whose setup failed has no listener: the flow sets it up again."""
    aioclient_mock.post(
        TOKEN_URL, status=HTTPStatus.BAD_REQUEST, json={"error": "invalid_grant"}
    )
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.SETUP_ERROR
    assert not config_entry.update_listeners
    aioclient_mock.clear_requests()
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})

    with patch.object(
        integration, "async_setup_entry", wraps=integration.async_setup_entry
    ) as setups:
        result = await config_entry.start_reauth_flow(hass)
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        result = await grant_in_browser(
            hass, hass_client_no_auth, aioclient_mock, result
        )
        await hass.async_block_till_done()

    assert result["reason"] == "reauth_successful"
    assert DEPRECATION not in caplog.text
    assert setups.call_count == 1
    assert config_entry.state is ConfigEntryState.LOADED
    assert last_bearer(aioclient_mock) == "Bearer new-access-token"


async def test_token_refresh_and_options_do_not_set_up_again(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A refreshed token and new options are taken by the running account."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    with patch.object(
        integration, "async_setup_entry", wraps=integration.async_setup_entry
    ) as setups:
        aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
        expire_token(hass, config_entry)
        await hass.async_block_till_done()
        await config_entry.runtime_data.account.auth.async_get_access_token()
        hass.config_entries.async_update_entry(
            config_entry, options={"max_response_bytes": 4096}
        )
        await hass.async_block_till_done()
    assert len(token_requests(aioclient_mock)) == 1
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert setups.call_count == 0
    assert config_entry.runtime_data.account.auth.max_response_bytes == 4096
