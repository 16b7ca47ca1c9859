"""Binary sensors: endpoint values rendered to on/off as core ``rest`` does."""

from __future__ import annotations

from typing import override

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,  # re-exported there on every supported HA version
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import EndpointCoordinator, OAuth2RestConfigEntry
from .endpoint import PLATFORM_BINARY_SENSOR, ValueConfig
from .entity import EndpointValueEntity, async_setup_endpoint_entities
from .values import to_on_off

PARALLEL_UPDATES = 0


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one binary sensor per binary_sensor value of every endpoint."""
    async_setup_endpoint_entities(
        hass,
        entry,
        async_add_entities,
        lambda coordinator: (
            EndpointValueBinarySensor(coordinator, value)
            for value in coordinator.endpoint.values_for(PLATFORM_BINARY_SENSOR)
        ),
    )


class EndpointValueBinarySensor(EndpointValueEntity, BinarySensorEntity):
    """A binary sensor whose state is a template rendered over a response."""

    def __init__(self, coordinator: EndpointCoordinator, value: ValueConfig) -> None:
        """Initialise with the value's device class."""
        super().__init__(coordinator, value)
        if value.device_class:
            self._attr_device_class = BinarySensorDeviceClass(value.device_class)

    @property
    @override
    def is_on(self) -> bool | None:
        """On/off from the rendered value."""
        return to_on_off(self.render())
