"""The demo provider's recipe controls, saved as the control flow saves them, against it.

An account linked to the running demo provider (client credentials, ``api:read
api:write``) gets one control subentry per demo recipe control, its data exactly
``RecipeControl.control_data``; each entity then acts on the demo API over loopback.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.notify import (
    ATTR_MESSAGE,
    ATTR_TITLE,
    DOMAIN as NOTIFY_DOMAIN,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigSubentry
from homeassistant.const import (
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import entity_registry as er
from homeassistant.setup import async_setup_component
import pytest

from custom_components.oauth2_rest.control import SUBENTRY_TYPE_CONTROL
from custom_components.oauth2_rest.oauth.discovery import DISCOVERY_KEY
from custom_components.oauth2_rest.recipes import load_recipes, missing_scopes

from .conftest import FakeClock
from .test_integration_with_demo import start_discovered

pytestmark = pytest.mark.usefixtures("socket_enabled", "current_request_with_host")

SCOPES = ["api:read", "api:write"]


async def _link(hass: HomeAssistant, issuer: str) -> ConfigEntry:
    """An account at the demo provider that may read and write its API."""
    assert await async_setup_component(hass, "application_credentials", {})
    result = await start_discovered(hass, issuer)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": "home-assistant",
            "client_secret": "demo-secret",
            "scopes": " ".join(SCOPES),
            "api_base_url": issuer,
        },
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "client_credentials"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry: ConfigEntry = result["result"]
    await hass.async_block_till_done()
    return entry


async def _get(hass: HomeAssistant, entry: ConfigEntry, url: str) -> Any:
    """The demo API's answer to GET ``url``, through the action."""
    response = await hass.services.async_call(
        "oauth2_rest",
        "request",
        {"config_entry_id": entry.entry_id, "url": url},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["status"] == 200
    return response["json"]


async def test_demo_recipe_controls_act_on_the_demo_provider(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> None:
    """The lamp switch, the toggle and counter buttons, the message box's notify."""
    entry = await _link(hass, issuer)
    controls = load_recipes().controls_for(DISCOVERY_KEY)
    assert {c.id for _, c in controls} >= {
        "demo_lamp_switch",
        "demo_lamp_toggle",
        "demo_message",
        "demo_counter_add",
    }
    for _, control in controls:
        assert missing_scopes(control, SCOPES) == []
        hass.config_entries.async_add_subentry(
            entry,
            ConfigSubentry(
                data=control.control_data({}),
                subentry_id=control.id,
                subentry_type=SUBENTRY_TYPE_CONTROL,
                title=control.title,
                unique_id=None,
            ),
        )
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    registry = er.async_get(hass)
    entity = {
        e.config_subentry_id: e.entity_id
        for e in er.async_entries_for_config_entry(registry, entry.entry_id)
        if e.config_subentry_id
    }

    # The switch reads the lamp from its own state request: off, as the demo starts.
    switch = entity["demo_lamp_switch"]
    assert hass.states.get(switch).state == STATE_OFF
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert (await _get(hass, entry, "/api/lamp"))["on"] is True
    assert hass.states.get(switch).state == STATE_ON

    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity["demo_lamp_toggle"]},
        blocking=True,
    )
    assert (await _get(hass, entry, "/api/lamp"))["on"] is False
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_ON, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    await hass.services.async_call(
        SWITCH_DOMAIN, SERVICE_TURN_OFF, {ATTR_ENTITY_ID: switch}, blocking=True
    )
    assert (await _get(hass, entry, "/api/lamp"))["on"] is False
    assert hass.states.get(switch).state == STATE_OFF

    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {
            ATTR_ENTITY_ID: entity["demo_message"],
            ATTR_MESSAGE: "The washing machine is done",
            ATTR_TITLE: "Laundry",
        },
        blocking=True,
    )
    newest = (await _get(hass, entry, "/api/messages"))["messages"][0]
    assert (newest["message"], newest["title"], newest["source"]) == (
        "The washing machine is done",
        "Laundry",
        "json",
    )

    before = (await _get(hass, entry, "/api/counter"))["value"]
    await hass.services.async_call(
        BUTTON_DOMAIN,
        SERVICE_PRESS,
        {ATTR_ENTITY_ID: entity["demo_counter_add"]},
        blocking=True,
    )
    assert (await _get(hass, entry, "/api/counter"))["value"] == before + 1
