"""Sensors: endpoint values, and the account's health (diagnostic)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
import logging
from typing import override

from homeassistant.components.sensor import (
    SensorDeviceClass,
    SensorEntity,
    SensorEntityDescription,
    SensorStateClass,
)
from homeassistant.const import MAX_LENGTH_STATE_STATE, EntityCategory, UnitOfTime
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback

from .coordinator import (
    AccountCoordinator,
    AccountHealth,
    EndpointCoordinator,
    OAuth2RestConfigEntry,
)
from .endpoint import PLATFORM_SENSOR, ValueConfig
from .entity import AccountEntity, EndpointValueEntity, async_setup_endpoint_entities
from .values import to_sensor_value

_LOGGER = logging.getLogger(__name__)

PARALLEL_UPDATES = 0


@dataclass(frozen=True, kw_only=True)
class AccountSensorEntityDescription(SensorEntityDescription):
    """An account health sensor: how to read it from AccountHealth."""

    value_fn: Callable[[AccountHealth], datetime | float | None]


ACCOUNT_SENSORS: tuple[AccountSensorEntityDescription, ...] = (
    AccountSensorEntityDescription(
        key="access_token_expires",
        translation_key="access_token_expires",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.access_token_expires_at,
    ),
    AccountSensorEntityDescription(
        key="last_token_refresh",
        translation_key="last_token_refresh",
        device_class=SensorDeviceClass.TIMESTAMP,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.last_refresh,
    ),
    AccountSensorEntityDescription(
        key="refresh_failures",
        translation_key="refresh_failures",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        value_fn=lambda health: health.consecutive_refresh_failures,
    ),
    AccountSensorEntityDescription(
        key="rate_limit_remaining",
        translation_key="rate_limit_remaining",
        state_class=SensorStateClass.MEASUREMENT,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda health: health.rate_limit_remaining,
    ),
    AccountSensorEntityDescription(
        key="poll_interval",
        translation_key="poll_interval",
        device_class=SensorDeviceClass.DURATION,
        native_unit_of_measurement=UnitOfTime.SECONDS,
        entity_category=EntityCategory.DIAGNOSTIC,
        entity_registry_enabled_default=False,
        value_fn=lambda health: (
            None
            if health.poll_interval is None
            else health.poll_interval.total_seconds()
        ),
    ),
)


async def async_setup_entry(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
) -> None:
    """Add the account's health sensors and one sensor per endpoint sensor value."""
    account = entry.runtime_data.account
    async_add_entities(
        AccountHealthSensor(account, description) for description in ACCOUNT_SENSORS
    )
    async_setup_endpoint_entities(
        hass,
        entry,
        async_add_entities,
        lambda coordinator: (
            EndpointValueSensor(coordinator, value)
            for value in coordinator.endpoint.values_for(PLATFORM_SENSOR)
        ),
    )


class AccountHealthSensor(AccountEntity, SensorEntity):
    """A diagnostic sensor telling why the account's sensors might have stopped."""

    entity_description: AccountSensorEntityDescription

    def __init__(
        self,
        coordinator: AccountCoordinator,
        description: AccountSensorEntityDescription,
    ) -> None:
        """Initialise from its description."""
        super().__init__(coordinator, description.key)
        self.entity_description = description

    @property
    @override
    def available(self) -> bool:
        """Health is worth showing even when the last refresh failed."""
        return self.coordinator.data is not None

    @property
    @override
    def native_value(self) -> datetime | float | None:
        """The value from the account's health."""
        return self.entity_description.value_fn(self.coordinator.data)

    @override
    def _shown(self) -> object:
        return (self.available, self.native_value)


class EndpointValueSensor(EndpointValueEntity, SensorEntity):
    """A sensor whose state is a template rendered over an endpoint's response."""

    __slots__ = ("_truncation_logged",)

    def __init__(self, coordinator: EndpointCoordinator, value: ValueConfig) -> None:
        """Initialise with the value's unit and classes."""
        super().__init__(coordinator, value)
        value = self.value
        if value.device_class:
            self._attr_device_class = SensorDeviceClass(value.device_class)
        if value.state_class:
            self._attr_state_class = SensorStateClass(value.state_class)
        self._truncation_logged = False

    @property
    @override
    def native_unit_of_measurement(self) -> str | None:
        """The value's unit."""
        return self.value.unit_of_measurement

    @property
    def _numeric(self) -> bool:
        return (
            self.value.unit_of_measurement is not None
            or self.value.state_class is not None
            or self.value.device_class is not None
        )

    @property
    @override
    def native_value(self) -> str | int | float | datetime | date | None:
        """The rendered value, typed as the device class / unit require."""
        value = to_sensor_value(self.render(), self.value.device_class, self._numeric)
        return self._fitted(value) if isinstance(value, str) else value

    def _fitted(self, text: str) -> str:
        """Text cut to the longest state Home Assistant accepts (logged once)."""
        if len(text) <= MAX_LENGTH_STATE_STATE:
            return text
        if not self._truncation_logged:
            _LOGGER.debug(
                "%s: the rendered value has %d characters; state cut to %d",
                self.entity_id,
                len(text),
                MAX_LENGTH_STATE_STATE,
            )
            self._truncation_logged = True
        return text[:MAX_LENGTH_STATE_STATE]
