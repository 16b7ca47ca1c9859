"""Switches: a control with a turn-on and a turn-off request, as core ``rest``'s switch.

Its state is read with its ``is_on`` template (core ``rest``'s rule of on/off, as
binary sensors) over one of the account's endpoints' answers or over its own
state request's; after a command the switch shows the state it sent until the
poll it asks for (at once) or any later poll says otherwise: the polled state
wins. With no state source the switch has an assumed state: what it last sent,
kept across restarts.
"""

from __future__ import annotations

import logging
from typing import Any, override

from homeassistant.components.switch import SwitchEntity
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.restore_state import RestoreEntity

from .control import KIND_SWITCH, TURN_OFF, TURN_ON
from .controls import Control
from .coordinator import EndpointCoordinator, OAuth2RestConfigEntry
from .entity import ControlEntity, WritesWhenChanged, async_setup_control_entities
from .redact import redact_text
from .values import EndpointData, ValueTemplate, to_on_off

PARALLEL_UPDATES = 0

_LOGGER = logging.getLogger(__name__)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add a switch for every switch control."""
    async_setup_control_entities(
        hass,
        entry,
        async_add_entities,
        KIND_SWITCH,
        lambda control: (
            AssumedSwitch(control) if control.state is None else PolledSwitch(control)
        ),
    )


class PolledSwitch(ControlEntity, WritesWhenChanged[EndpointCoordinator], SwitchEntity):
    """A switch whose state a poll reads: an endpoint's, or its own state request's."""

    def __init__(self, control: Control) -> None:
        """Read the state with the control's ``is_on`` template."""
        assert control.state is not None
        super().__init__(control, control.state)
        self._is_on = ValueTemplate(control.config.is_on_template or "", control.hass)
        # What the last command sent, until a poll says what the API has.
        self._sent: bool | None = None
        self._template_failed = False

    def _polled(self) -> bool | None:
        """On/off as the last answer says; None before one, or when the template fails."""
        data: EndpointData | None = self.coordinator.data
        if data is None:
            return None
        try:
            rendered = self._is_on.render(data.json, data.text)
        except TemplateError as err:
            if not self._template_failed:
                _LOGGER.warning(
                    "State template of %s failed: %s",
                    self.entity_id,
                    redact_text(str(err), self.control.secrets),
                )
                self._template_failed = True
            return None
        self._template_failed = False
        return to_on_off(rendered)

    @property
    @override
    def is_on(self) -> bool | None:
        """What was sent until a poll confirms it, then what the poll read."""
        return self._polled() if self._sent is None else self._sent

    @override
    def _shown(self) -> object:
        return (self.available, self.is_on)

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        """A poll answered: its state wins over what was sent."""
        self._sent = None
        super()._handle_coordinator_update()

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Send the turn-on request."""
        await self._async_command(TURN_ON, True)

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Send the turn-off request."""
        await self._async_command(TURN_OFF, False)

    async def _async_command(self, which: str, on: bool) -> None:
        """Send; show the state sent; poll the state again at once.

        A command that fails raises before anything changes.
        """
        await self.control.async_send(which)
        self._sent = on
        self._written = self._shown()
        self.async_write_ha_state()
        self.control.entry.async_create_task(
            self.hass,
            self.control.async_poll_state(),
            name=f"{self.control.config.name} state after {which}",
        )


class AssumedSwitch(ControlEntity, SwitchEntity, RestoreEntity):
    """A switch with no state source: it shows what it last sent."""

    _attr_assumed_state = True
    _attr_is_on: bool | None = None

    @override
    async def async_added_to_hass(self) -> None:
        """Start from the state it had before a restart."""
        await super().async_added_to_hass()
        if (last := await self.async_get_last_state()) is not None:
            self._attr_is_on = last.state == STATE_ON

    @override
    async def async_turn_on(self, **kwargs: Any) -> None:
        """Send the turn-on request; on once it was accepted."""
        await self.control.async_send(TURN_ON)
        self._attr_is_on = True
        self.async_write_ha_state()

    @override
    async def async_turn_off(self, **kwargs: Any) -> None:
        """Send the turn-off request; off once it was accepted."""
        await self.control.async_send(TURN_OFF)
        self._attr_is_on = False
        self.async_write_ha_state()
