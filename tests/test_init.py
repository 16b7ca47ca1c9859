"""Setting up an account: tokens, endpoints, errors."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from .common import API_BASE


async def test_setup_reads_endpoint_into_sensor(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A loaded account polls its endpoint with the stored token."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == "21.5"
    assert state.attributes["unit_of_measurement"] == "°C"
    _, url, _, headers = aioclient_mock.mock_calls[-1]
    assert str(url) == f"{API_BASE}/weather"
    assert headers["Authorization"] == "Bearer stored-access-token"

    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert config_entry.state is ConfigEntryState.NOT_LOADED
    assert HTTPStatus.OK
