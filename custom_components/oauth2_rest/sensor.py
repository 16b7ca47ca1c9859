"""Sensors: endpoint values."""

from __future__ import annotations

from homeassistant.components.sensor import SensorEntity
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OAuth2RestConfigEntry
from .entity import EndpointValueEntity

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one sensor per sensor value of every endpoint."""
    for subentry_id, coordinator in entry.runtime_data.endpoints.items():
        async_add_entities(
            (
                EndpointValueSensor(coordinator, value)
                for value in coordinator.endpoint.values_for("sensor")
            ),
            config_subentry_id=subentry_id,
        )


class EndpointValueSensor(EndpointValueEntity, SensorEntity):
    """A sensor whose state is a template rendered over an endpoint's response."""

    @property
    def native_unit_of_measurement(self) -> str | None:
        """The unit the user gave."""
        return self.value.unit_of_measurement

    @property
    def native_value(self) -> str | int | float | None:
        """The rendered value; numeric when the sensor has a unit."""
        rendered = self.render()
        if rendered is None or rendered in ("", STATE_UNKNOWN, "None"):
            return None
        if self.value.unit_of_measurement is None:
            return rendered
        try:
            number = float(rendered)
        except ValueError:
            return None
        return int(number) if number.is_integer() and "." not in rendered else number
