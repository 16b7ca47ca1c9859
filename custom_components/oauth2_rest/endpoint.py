"""An endpoint subentry's settings, typed: what to request and which values to read.

Stored shape of an ``endpoint`` subentry's data (JSON-serialisable; every key but
``url`` and each value's ``key``/``name``/``value_template`` is optional, so data
stored by earlier versions still loads)::

    {
      "method": "GET", "url": "/path or https://...", "params": {"q": "1"},
      "headers": {"Accept": "application/json"}, "body": "<JSON or template>" | None,
      "scan_interval": 60, "timeout": 30,
      "encoding": "ISO-8859-1" | None, "verify_ssl": true, "ca_file": "/ssl/ca.pem" | None,
      "values": [
        {"key": "temperature", "name": "Temperature", "platform": "sensor",
         "value_template": "{{ value_json.temp }}",
         "json_attributes": ["city"], "json_attributes_path": "$.location" | None,
         "unit_of_measurement": "°C" | None, "device_class": "temperature" | None,
         "state_class": "measurement" | None, "entity_category": "diagnostic" | None,
         "enabled_by_default": true, "force_update": false,
         "availability": "<template>" | None, "icon": "<template>" | None,
         "picture": "<template>" | None}
      ]
    }

The URL, each query parameter and each header value may be templates (core
``rest``'s ``resource_template`` and templated params/headers): they are rendered
at every request.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Self

from homeassistant.components.sensor import CONF_STATE_CLASS
from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    CONF_DEVICE_CLASS,
    CONF_ENTITY_CATEGORY,
    CONF_FORCE_UPDATE,
    CONF_HEADERS,
    CONF_ICON,
    CONF_METHOD,
    CONF_NAME,
    CONF_PARAMS,
    CONF_PLATFORM,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_URL,
    CONF_VALUE_TEMPLATE,
    CONF_VERIFY_SSL,
)
from homeassistant.helpers.trigger_template_entity import (
    CONF_AVAILABILITY,
    CONF_PICTURE,
)

SUBENTRY_TYPE_ENDPOINT = "endpoint"

# Our own keys; the others are Home Assistant's.
CONF_BODY = "body"
CONF_VALUES = "values"
CONF_KEY = "key"
CONF_JSON_ATTRS = "json_attributes"
CONF_JSON_ATTRS_PATH = "json_attributes_path"
CONF_ENABLED_BY_DEFAULT = "enabled_by_default"
CONF_ENCODING = "encoding"  # as core rest's
CONF_CA_FILE = "ca_file"

PLATFORM_SENSOR = "sensor"
PLATFORM_BINARY_SENSOR = "binary_sensor"
VALUE_PLATFORMS = (PLATFORM_SENSOR, PLATFORM_BINARY_SENSOR)

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")
DEFAULT_METHOD = "GET"
DEFAULT_SCAN_INTERVAL = 60
MIN_SCAN_INTERVAL = 10
MAX_SCAN_INTERVAL = 86400
DEFAULT_TIMEOUT = 30
MIN_TIMEOUT = 1
MAX_TIMEOUT = 300


def stored_interval(data: Mapping[str, Any]) -> timedelta:
    """A stored ``scan_interval`` (seconds; never under the minimum)."""
    return timedelta(
        seconds=max(
            MIN_SCAN_INTERVAL, data.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL)
        )
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class ValueConfig:
    """One value read from an endpoint's response: one entity."""

    key: str
    name: str
    platform: str = PLATFORM_SENSOR
    value_template: str
    json_attributes: tuple[str, ...] = ()
    json_attributes_path: str | None = None
    unit_of_measurement: str | None = None
    device_class: str | None = None
    state_class: str | None = None
    entity_category: str | None = None
    enabled_by_default: bool = True
    force_update: bool = False
    availability_template: str | None = None
    icon_template: str | None = None
    picture_template: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the subentry's stored value dict."""
        return cls(
            key=data[CONF_KEY],
            name=data[CONF_NAME],
            platform=data.get(CONF_PLATFORM) or PLATFORM_SENSOR,
            value_template=data[CONF_VALUE_TEMPLATE],
            json_attributes=tuple(data.get(CONF_JSON_ATTRS) or ()),
            json_attributes_path=data.get(CONF_JSON_ATTRS_PATH) or None,
            unit_of_measurement=data.get(CONF_UNIT_OF_MEASUREMENT) or None,
            device_class=data.get(CONF_DEVICE_CLASS) or None,
            state_class=data.get(CONF_STATE_CLASS) or None,
            entity_category=data.get(CONF_ENTITY_CATEGORY) or None,
            enabled_by_default=bool(data.get(CONF_ENABLED_BY_DEFAULT, True)),
            force_update=bool(data.get(CONF_FORCE_UPDATE, False)),
            availability_template=data.get(CONF_AVAILABILITY) or None,
            icon_template=data.get(CONF_ICON) or None,
            picture_template=data.get(CONF_PICTURE) or None,
        )

    def unique_id(self, subentry_id: str) -> str:
        """The unique id of this value's entity, in the endpoint ``subentry_id``."""
        return f"{subentry_id}_{self.key}"

    def entity_name(self, endpoint_name: str) -> str | None:
        """Its entity's name: None (the device's) for the endpoint's main value."""
        return None if self.name == endpoint_name else self.name

    def to_dict(self) -> dict[str, Any]:
        """The stored value dict (the inverse of :meth:`from_dict`)."""
        return {
            CONF_KEY: self.key,
            CONF_NAME: self.name,
            CONF_PLATFORM: self.platform,
            CONF_VALUE_TEMPLATE: self.value_template,
            CONF_JSON_ATTRS: list(self.json_attributes),
            CONF_JSON_ATTRS_PATH: self.json_attributes_path,
            CONF_UNIT_OF_MEASUREMENT: self.unit_of_measurement,
            CONF_DEVICE_CLASS: self.device_class,
            CONF_STATE_CLASS: self.state_class,
            CONF_ENTITY_CATEGORY: self.entity_category,
            CONF_ENABLED_BY_DEFAULT: self.enabled_by_default,
            CONF_FORCE_UPDATE: self.force_update,
            CONF_AVAILABILITY: self.availability_template,
            CONF_ICON: self.icon_template,
            CONF_PICTURE: self.picture_template,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class EndpointConfig:
    """One API endpoint, polled by its own coordinator."""

    name: str
    method: str = DEFAULT_METHOD
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None
    scan_interval: timedelta = timedelta(seconds=DEFAULT_SCAN_INTERVAL)
    timeout: float = DEFAULT_TIMEOUT
    # Used when the response declares no charset (or a wrong one), as core rest's.
    encoding: str | None = None
    # TLS: off only by the user's explicit choice; a CA file for self-hosted APIs.
    verify_ssl: bool = True
    ca_file: str | None = None
    values: tuple[ValueConfig, ...] = ()

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> Self:
        """Build from an ``endpoint`` subentry."""
        return cls.from_data(subentry.title, subentry.data)

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, Any]) -> Self:
        """Build from an endpoint's stored data."""
        return cls(
            name=name,
            method=data.get(CONF_METHOD) or DEFAULT_METHOD,
            url=data[CONF_URL],
            params=dict(data.get(CONF_PARAMS) or {}),
            headers=dict(data.get(CONF_HEADERS) or {}),
            body=data.get(CONF_BODY) or None,
            scan_interval=stored_interval(data),
            timeout=float(data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
            encoding=data.get(CONF_ENCODING) or None,
            verify_ssl=data.get(CONF_VERIFY_SSL) is not False,
            ca_file=data.get(CONF_CA_FILE) or None,
            values=tuple(ValueConfig.from_dict(v) for v in data.get(CONF_VALUES) or ()),
        )

    def to_data(self) -> dict[str, Any]:
        """The subentry's stored data (its name is the subentry's title)."""
        timeout = self.timeout
        return {
            CONF_METHOD: self.method,
            CONF_URL: self.url,
            CONF_PARAMS: dict(self.params),
            CONF_HEADERS: dict(self.headers),
            CONF_BODY: self.body,
            CONF_SCAN_INTERVAL: int(self.scan_interval.total_seconds()),
            CONF_TIMEOUT: int(timeout) if timeout.is_integer() else timeout,
            CONF_ENCODING: self.encoding,
            CONF_VERIFY_SSL: self.verify_ssl,
            CONF_CA_FILE: self.ca_file,
            CONF_VALUES: [value.to_dict() for value in self.values],
        }

    def values_for(self, platform: str) -> tuple[ValueConfig, ...]:
        """The values one entity platform creates entities for."""
        return tuple(v for v in self.values if v.platform == platform)
