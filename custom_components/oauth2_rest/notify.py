"""Notify entities: a control that sends a message in a request, as core ``rest`` notify.

Home Assistant's entity-based notify (``notify.send_message``): the message and
title go where the control says (``request.MessageRequest``).
"""

from __future__ import annotations

from typing import override

from homeassistant.components.notify import (  # type: ignore[attr-defined]
    NotifyEntity,
    NotifyEntityFeature,  # re-exported there on every supported HA version
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .control import KIND_NOTIFY, SEND
from .controls import Control
from .coordinator import OAuth2RestConfigEntry
from .entity import ControlEntity, async_setup_control_entities

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a notify entity for every notify control."""
    async_setup_control_entities(
        hass, entry, async_add_entities, KIND_NOTIFY, ControlNotify
    )


class ControlNotify(ControlEntity, NotifyEntity):
    """Sends each message in the control's request; a failure is a translated error."""

    def __init__(self, control: Control) -> None:
        """A title is offered when the control names a parameter for it."""
        super().__init__(control)
        if control.config.title_param:
            self._attr_supported_features = NotifyEntityFeature.TITLE

    @override
    async def async_send_message(self, message: str, title: str | None = None) -> None:
        """Send the message (and title)."""
        await self.control.async_send(SEND, message=message, title=title)
