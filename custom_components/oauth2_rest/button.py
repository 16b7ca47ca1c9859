"""Buttons: a control whose press sends one request with the account's token."""

from __future__ import annotations

from typing import override

from homeassistant.components.button import ButtonEntity
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import KIND_BUTTON, PRESS
from .coordinator import OAuth2RestConfigEntry
from .entity import ControlEntity, async_setup_control_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a button for every button control."""
    async_setup_control_entities(
        hass, entry, async_add_entities, KIND_BUTTON, ControlButton
    )


class ControlButton(ControlEntity, ButtonEntity):
    """Sends the control's request when pressed; a failure is a translated error."""

    @override
    async def async_press(self) -> None:
        """Send the press request."""
        await self.control.async_send(PRESS)
