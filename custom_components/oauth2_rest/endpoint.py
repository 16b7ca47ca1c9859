"""An endpoint subentry's settings, typed: what to request and which values to read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Self

from homeassistant.config_entries import ConfigSubentry

SUBENTRY_TYPE_ENDPOINT = "endpoint"

CONF_METHOD = "method"
CONF_URL = "url"
CONF_PARAMS = "params"
CONF_HEADERS = "headers"
CONF_SCAN_INTERVAL = "scan_interval"
CONF_TIMEOUT = "timeout"
CONF_VALUES = "values"
CONF_KEY = "key"
CONF_NAME = "name"
CONF_PLATFORM = "platform"
CONF_VALUE_TEMPLATE = "value_template"
CONF_UNIT = "unit_of_measurement"

DEFAULT_METHOD = "GET"
DEFAULT_SCAN_INTERVAL = 60
MIN_SCAN_INTERVAL = 10
DEFAULT_TIMEOUT = 30


@dataclass(frozen=True, kw_only=True, slots=True)
class ValueConfig:
    """One value read from an endpoint's response: one entity."""

    key: str
    name: str
    platform: str = "sensor"
    value_template: str
    unit_of_measurement: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from the subentry's stored value dict."""
        return cls(
            key=data[CONF_KEY],
            name=data[CONF_NAME],
            platform=data.get(CONF_PLATFORM, "sensor"),
            value_template=data[CONF_VALUE_TEMPLATE],
            unit_of_measurement=data.get(CONF_UNIT) or None,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class EndpointConfig:
    """One API endpoint, polled by its own coordinator."""

    name: str
    method: str = DEFAULT_METHOD
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    scan_interval: timedelta = timedelta(seconds=DEFAULT_SCAN_INTERVAL)
    timeout: float = DEFAULT_TIMEOUT
    values: tuple[ValueConfig, ...] = ()

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> Self:
        """Build from an ``endpoint`` subentry."""
        data = subentry.data
        return cls(
            name=subentry.title,
            method=data.get(CONF_METHOD, DEFAULT_METHOD),
            url=data[CONF_URL],
            params=dict(data.get(CONF_PARAMS) or {}),
            headers=dict(data.get(CONF_HEADERS) or {}),
            scan_interval=timedelta(
                seconds=max(
                    MIN_SCAN_INTERVAL,
                    data.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
                )
            ),
            timeout=float(data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
            values=tuple(ValueConfig.from_dict(v) for v in data.get(CONF_VALUES, ())),
        )

    def values_for(self, platform: str) -> tuple[ValueConfig, ...]:
        """The values one entity platform creates entities for."""
        return tuple(v for v in self.values if v.platform == platform)
