"""Removing an account revokes its grant at the provider (RFC 7009)."""

from __future__ import annotations

from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from .common import CLIENT_ID, manual_profile

REVOKE_URL = "https://auth.example.com/revoke"


@pytest.fixture
def config_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """The test account, at a provider with a revocation endpoint."""
    profile = manual_profile(
        revocation_url=REVOKE_URL, client_auth="client_secret_post"
    )
    data = {**config_entry.data, "provider": profile.as_dict()}
    return MockConfigEntry(
        domain=config_entry.domain,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data=data,
    )


async def test_remove_revokes_refresh_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_credentials: None,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The refresh token is revoked, with client authentication."""
    config_entry.add_to_hass(hass)
    aioclient_mock.post(REVOKE_URL, status=200)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 1
    _, _, form, headers = aioclient_mock.mock_calls[0]
    assert form == {
        "token": "stored-refresh-token",
        "token_type_hint": "refresh_token",
        "client_id": CLIENT_ID,
        "client_secret": "test-secret",
    }
    assert headers["Accept"] == "application/json"


@pytest.mark.parametrize(
    "mock", [{"status": 503}, {"exc": aiohttp.ClientError()}, {"exc": TimeoutError()}]
)
async def test_remove_survives_revocation_failure(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_credentials: None,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
    mock: dict[str, Any],
) -> None:
    """The account is removed even when the provider can't be told."""
    config_entry.add_to_hass(hass)
    aioclient_mock.post(REVOKE_URL, **mock)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not hass.config_entries.async_entries("oauth2_rest")
    assert "revoke" in caplog.text.lower() or "Revocation" in caplog.text
    assert "stored-refresh-token" not in caplog.text


async def test_remove_without_credential_or_endpoint(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """No stored credential: nothing is sent (nothing could authenticate it)."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert aioclient_mock.call_count == 0


async def test_no_revocation_endpoint(
    hass: HomeAssistant, setup_credentials: None, aioclient_mock: AiohttpClientMocker
) -> None:
    """A provider without a revocation endpoint is not contacted."""
    entry = MockConfigEntry(
        domain="oauth2_rest",
        unique_id="x#1",
        data={
            "auth_implementation": "oauth2_rest_test_client",
            "token": {"access_token": "a", "expires_at": 0, "expires_in": 1},
            "provider": manual_profile().as_dict(),
            "scopes": [],
            "subject": "1",
        },
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_remove(entry.entry_id)
    assert aioclient_mock.call_count == 0
