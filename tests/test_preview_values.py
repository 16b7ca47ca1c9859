"""The preview (a test request) shows each value as its entity will show it.

Value and availability are rendered by the entity's own renderer with the
entity's variables, ``this`` included: a new value's entity does not exist yet
(``this`` is the entity id it will get, with no state), an edited value's entity
does (``this`` is its state).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from .common import API_BASE, start_endpoint_flow


async def _set_up(
    hass: HomeAssistant,
    setup: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The account with its Weather endpoint (sensor.weather = 21.5) and a forecast."""
    for path, answer in (
        ("weather", {"temperature": 21.5}),
        ("forecast", {"temp": 18.25}),
    ):
        aioclient_mock.get(f"{API_BASE}/{path}", json=answer)
    await setup()
    assert hass.states.get("sensor.weather").state == "21.5"


async def _step(
    hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any]
) -> FlowResult:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


def _request(name: str) -> dict[str, Any]:
    """The request form: ``name`` asking for the forecast."""
    return {
        "name": name,
        "method": "GET",
        "url": "/forecast",
        "scan_interval": 120,
        "timeout": 10,
    }


def _value(name: str, availability: str) -> dict[str, Any]:
    return {
        "name": name,
        "value_template": "{{ value_json.temp }}",
        "availability": availability,
    }


@pytest.mark.parametrize(
    ("availability", "shown"),
    [
        ("{{ this.entity_id == 'sensor.forecast_temperature' }}", "18.25"),
        ("{{ this.entity_id != 'sensor.forecast_temperature' }}", "unavailable"),
        ("{{ this.state == 'unknown' }}", "18.25"),
    ],
)
async def test_new_value_sees_the_entity_it_will_be(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    availability: str,
    shown: str,
) -> None:
    """A new value's ``this``: the entity id it gets, still without a state.

    The preview lacked ``this`` before: its availability failed to render and the
    value showed as available whatever the entity would show.
    """
    await _set_up(hass, setup_integration, aioclient_mock)
    result = await start_endpoint_flow(hass, config_entry)
    result = await _step(hass, result, _request("Forecast"))
    result = await _step(hass, result, {})
    result = await _step(hass, result, {"next_step_id": "add_sensor"})
    result = await _step(hass, result, _value("Temperature", availability))
    assert result["type"] is FlowResultType.MENU
    values = result["description_placeholders"]["values"]
    assert values == f"- **Temperature** (sensor): `{shown}`"

    result = await _step(hass, result, {"next_step_id": "finish"})
    await hass.async_block_till_done()
    # The entity shows what the preview showed (its first state: ``this`` unknown).
    assert hass.states.get("sensor.forecast_temperature").state == shown


async def test_edited_value_sees_its_entity(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Editing an endpoint: ``this`` is the value's entity, with its current state."""
    await _set_up(hass, setup_integration, aioclient_mock)
    result = await config_entry.start_subentry_reconfigure_flow(
        hass, "endpoint_weather"
    )
    result = await _step(hass, result, _request("Weather"))
    result = await _step(hass, result, {})
    result = await _step(hass, result, {"next_step_id": "edit_value"})
    result = await _step(hass, result, {"value": "value"})
    result = await _step(
        hass,
        result,
        _value(
            "Weather",
            "{{ this.entity_id == 'sensor.weather' and this.state != '21.5' }}",
        ),
    )
    values = result["description_placeholders"]["values"]
    assert values == "- **Weather** (sensor): `unavailable`"
