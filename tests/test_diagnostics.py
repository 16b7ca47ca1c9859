"""Diagnostics: useful, and without tokens, secrets or account ids."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
import json

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from syrupy.assertion import SnapshotAssertion

from custom_components.oauth2_rest.diagnostics import async_get_config_entry_diagnostics

from .common import (
    API_BASE,
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    TOKEN_URL,
    endpoint_subentry,
)

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
NEW_TOKEN = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "id_token": "header.payload.signature",
    "token_type": "Bearer",
    "expires_in": 3600,
    "user_id": "provider-user-42",
    # Account details some providers put in the token response.
    "name": "Jane Account",
    "email": "jane@example.org",
    "session_state": "session-state-1",
    "athlete": {"id": 777, "firstname": "Jane"},
}
SENSITIVE = (
    "stored-access-token",
    "stored-refresh-token",
    "new-access-token",
    "new-refresh-token",
    "header.payload.signature",
    "provider-user-42",
    "Jane",
    "jane@example.org",
    "session-state-1",
    "777",
    "query-api-key",
    CLIENT_SECRET,
    CLIENT_ID,
    "subject-1",
    "user@example.com",
    # The credential's auth domain is slugify("oauth2_rest.<client id>").
    AUTH_DOMAIN,
)


@pytest.fixture
def snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.mark.freeze_time(NOW)
@pytest.mark.parametrize("expires_at", [(NOW - timedelta(minutes=1)).timestamp()])
@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint_subentry(url="/weather?key=query-api-key"),
            ConfigSubentryData(
                data={
                    "kind": "switch",
                    "requests": {
                        "turn_on": {
                            "method": "PUT",
                            "url": "/lamp?key=query-api-key",
                            "headers": {"X-Api-Key": "query-api-key"},
                        },
                        "turn_off": {"method": "PUT", "url": "/lamp"},
                    },
                    "state_source": "endpoint",
                    "state_endpoint": "endpoint_weather",
                    "is_on_template": "{{ value_json.on }}",
                },
                subentry_id="control_lamp",
                subentry_type="control",
                title="Lamp",
                unique_id=None,
            ),
        ]
    ],
    ids=["query"],
)
async def test_diagnostics(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    snapshot: SnapshotAssertion,
) -> None:
    """Diagnostics after a refresh: health shown, every secret redacted."""
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(
        f"{API_BASE}/weather?key=query-api-key",
        json={"temperature": 21.5},
        headers={"X-RateLimit-Remaining": "99"},
    )
    await setup_integration()
    assert config_entry.data["token"]["access_token"] == "new-access-token"

    diagnostics = await get_diagnostics_for_config_entry(
        hass, hass_client, config_entry
    )
    assert diagnostics == snapshot

    dump = json.dumps(diagnostics)
    for value in SENSITIVE:
        assert value not in dump, value
    assert diagnostics["entry"]["data"]["token"]["access_token"] == "**REDACTED**"
    assert diagnostics["entry"]["data"]["subject"] == "**REDACTED**"
    assert diagnostics["account"]["last_refresh"] == NOW.isoformat()
    assert diagnostics["account"]["rate_limit_remaining"] == 99
    assert diagnostics["endpoints"][0]["last_status"] == 200
    assert diagnostics["endpoints"][0]["url"] == "/weather?**REDACTED**"
    assert diagnostics["endpoints"][0]["name"] == "Weather"
    (lamp,) = diagnostics["controls"]
    assert lamp["requests"]["turn_on"] == {
        "method": "PUT",
        "url": "/lamp?**REDACTED**",
        "header_names": ["X-Api-Key"],
    }
    assert (lamp["kind"], lamp["state_source"]) == ("switch", "endpoint")


async def test_diagnostics_of_an_entry_not_loaded(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An entry that is not loaded has no runtime data: the entry part only."""
    config_entry.add_to_hass(hass)
    diagnostics = await async_get_config_entry_diagnostics(hass, config_entry)
    assert diagnostics["loaded"] is False
    assert set(diagnostics) == {"entry", "loaded"}
    assert diagnostics["entry"]["data"]["token"]["access_token"] == "**REDACTED**"
    assert "stored-access-token" not in json.dumps(diagnostics)
