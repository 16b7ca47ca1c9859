"""Reconfiguring an account: its name, its scopes, a new client secret."""

from __future__ import annotations

import base64
from unittest.mock import AsyncMock

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from ..common import (
    AUTHORIZE_URL,
    CLIENT_ID,
    ISSUER,
    NEW_TOKEN,
    ROTATED_DOMAIN,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    fields,
    stored_credentials,
    suggested,
    token_form,
)
from ..strings import assert_form_placeholders

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


# -- reconfigure -----------------------------------------------------------------------


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("name", "title"),
    [(" Work account ", "Work account"), ("  ", "Example (user@example.com)")],
)
async def test_reconfigure_name_only(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    name: str,
    title: str,
) -> None:
    """Same scopes: no new grant, only the title changes."""
    config_entry.add_to_hass(hass)
    data_before = dict(config_entry.data)
    result = await config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert_form_placeholders(result, "config")
    assert suggested(result, "name") == "Example (user@example.com)"
    assert suggested(result, "scopes") == "read"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": name, "scopes": " read "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.title == title
    assert dict(config_entry.data) == data_before
    assert aioclient_mock.call_count == 0


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("subject", "reason"),
    [("subject-1", "reconfigure_successful"), ("someone-else", "wrong_account")],
)
async def test_reconfigure_scopes(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    subject: str,
    reason: str,
) -> None:
    """New scopes need a new grant, of the same account."""
    config_entry.add_to_hass(hass)
    data_before = dict(config_entry.data)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Work", "scopes": "read, write"}
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == AUTHORIZE_URL
    assert url.query["scope"] == "read write"
    assert url.query["client_id"] == CLIENT_ID

    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": subject})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    if reason == "wrong_account":
        assert dict(config_entry.data) == data_before
        assert config_entry.title == "Example (user@example.com)"
        assert mock_setup_entry.call_count == 0
        return
    assert config_entry.title == "Work"
    assert config_entry.data["scopes"] == ["read", "write"]
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert config_entry.data["subject"] == "subject-1"
    assert config_entry.unique_id == f"{ISSUER}#subject-1"
    assert mock_setup_entry.call_count == 1


@pytest.mark.usefixtures("setup_credentials")
async def test_reconfigure_new_client_secret(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """A new secret with the same scopes still needs a grant, to prove it works."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    assert "client_secret" in fields(result)
    assert suggested(result, "client_secret") is None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Work", "scopes": "read", "client_secret": "rotated"},
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.title == "Work"
    assert config_entry.data["auth_implementation"] == ROTATED_DOMAIN
    assert config_entry.data["scopes"] == ["read"]
    assert await stored_credentials(hass) == {ROTATED_DOMAIN: (CLIENT_ID, "rotated")}
    expected = base64.b64encode(f"{CLIENT_ID}:rotated".encode()).decode()
    assert token_form(aioclient_mock, TOKEN_URL)[1]["Authorization"] == (
        f"Basic {expected}"
    )


async def test_reconfigure_scopes_without_credential(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
) -> None:
    """New scopes need the credential; when it is gone, say so."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Work", "scopes": "read write"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "credential_missing"
    assert config_entry.title == "Example (user@example.com)"
    assert config_entry.data["scopes"] == ["read"]
    assert aioclient_mock.call_count == 0
