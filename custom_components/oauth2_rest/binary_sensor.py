"""Binary sensors: endpoint values rendered to on/off as core ``rest`` does."""

from __future__ import annotations

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,  # re-exported there on every supported HA version
    BinarySensorEntity,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from . import OAuth2RestConfigEntry
from .coordinator import EndpointCoordinator
from .endpoint import PLATFORM_BINARY_SENSOR, ValueConfig
from .entity import EndpointValueEntity

PARALLEL_UPDATES = 0

BINARY_SENSOR_DEVICE_CLASSES = sorted(c.value for c in BinarySensorDeviceClass)
_ON_WORDS = frozenset({"true", "on", "open", "yes"})


def to_on_off(rendered: str | None) -> bool | None:
    """Core ``rest``'s rule: a non-zero integer or true/on/open/yes is on.

    Anything else is off; only "nothing rendered" (no data yet, a failing
    template) is unknown.
    """
    if rendered is None:
        return None
    text = rendered.strip()
    try:
        return bool(int(text))
    except ValueError:
        return text.lower() in _ON_WORDS


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add one binary sensor per binary_sensor value of every endpoint."""
    for subentry_id, coordinator in entry.runtime_data.endpoints.items():
        async_add_entities(
            (
                EndpointValueBinarySensor(coordinator, value)
                for value in coordinator.endpoint.values_for(PLATFORM_BINARY_SENSOR)
            ),
            config_subentry_id=subentry_id,
        )


class EndpointValueBinarySensor(EndpointValueEntity, BinarySensorEntity):
    """A binary sensor whose state is a template rendered over a response."""

    def __init__(self, coordinator: EndpointCoordinator, value: ValueConfig) -> None:
        """Initialise with the value's device class."""
        super().__init__(coordinator, value)
        if value.device_class:
            self._attr_device_class = BinarySensorDeviceClass(value.device_class)

    @property
    def is_on(self) -> bool | None:
        """On/off from the rendered value."""
        return to_on_off(self.render())
