"""Plain sensors polled the cheapest way Home Assistant allows.

One YAML platform entry lists every resource (as core ``rest``'s)::

    sensor:
      - platform: bench_floor
        token: <bearer token>
        resources:
          - name: f0001
            url: http://127.0.0.1:8000/api/data
            scan_interval: 10
            values:
              - {name: v1, path: [current, temperature], unit: "°C"}
              - {name: v4, path: [daily, 0, max]}

What it does, and nothing more: Home Assistant's shared aiohttp session; one timer
per interval for all resources polling at it (as ``oauth2_rest``'s shared ticks), at
most 16 requests in flight; the body parsed with HA's ``json_loads`` (orjson); each
value read with plain dict/list indexing; each entity's state written only when its
value or availability changed. No device, no unique id, no registry entry, no
template, no coordinator.

A reload (``bench_floor.reload``) sets the platform up again: the previous
timers are cancelled then (a reload to no resources at all would leave them: the
bench never does that).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout
from homeassistant.components.sensor import (
    PLATFORM_SCHEMA as SENSOR_PLATFORM_SCHEMA,
    SensorEntity,
)
from homeassistant.core import CALLBACK_TYPE, HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity_platform import AddEntitiesCallback
from homeassistant.helpers.event import async_track_time_interval
from homeassistant.helpers.typing import ConfigType, DiscoveryInfoType
from homeassistant.util.hass_dict import HassKey
from homeassistant.util.json import json_loads
import voluptuous as vol

from . import DOMAIN

MAX_IN_FLIGHT = 16  # as oauth2_rest's polls of one account
TIMEOUT = ClientTimeout(total=10)
_TIMERS: HassKey[list[CALLBACK_TYPE]] = HassKey(DOMAIN)

PLATFORM_SCHEMA = SENSOR_PLATFORM_SCHEMA.extend(
    {vol.Required("token"): str, vol.Required("resources"): list}
)


class FloorSensor(SensorEntity):
    """A value of a resource: set by the poll, written only when it changed."""

    _attr_should_poll = False

    def __init__(
        self, name: str, path: tuple[str | int, ...], unit: str | None
    ) -> None:
        """Name it (its entity id follows) and remember where its value is."""
        self._attr_name = name
        self._attr_native_unit_of_measurement = unit
        self.path = path

    def show(self, value: Any, available: bool) -> None:
        """Take a polled value; write the state only when something changed."""
        if value == self._attr_native_value and available == self._attr_available:
            return
        self._attr_native_value = value
        self._attr_available = available
        if self.hass is not None:  # added (the first poll runs before)
            self.async_write_ha_state()


@dataclass(slots=True)
class Resource:
    """One polled URL and the sensors reading its document."""

    url: str
    headers: dict[str, str]
    sensors: list[FloorSensor]

    async def poll(self, session: ClientSession) -> None:
        """GET, parse, read every value."""
        try:
            async with session.get(
                self.url, headers=self.headers, timeout=TIMEOUT
            ) as resp:
                resp.raise_for_status()
                data = json_loads(await resp.read())
        except ClientError, TimeoutError, ValueError:
            for sensor in self.sensors:
                sensor.show(None, available=False)
            return
        for sensor in self.sensors:
            node = data
            try:
                for key in sensor.path:
                    node = node[key]
            except KeyError, IndexError, TypeError:
                node = None
            sensor.show(node, available=True)


async def poll_all(session: ClientSession, resources: list[Resource]) -> None:
    """Poll every resource, at most MAX_IN_FLIGHT at a time."""
    queue: Iterator[Resource] = iter(resources)

    async def worker() -> None:
        for resource in queue:
            await resource.poll(session)

    await asyncio.gather(*(worker() for _ in range(min(MAX_IN_FLIGHT, len(resources)))))


async def async_setup_platform(
    hass: HomeAssistant,
    config: ConfigType,
    async_add_entities: AddEntitiesCallback,
    discovery_info: DiscoveryInfoType | None = None,
) -> None:
    """Build the resources, poll them once, add their sensors, start one timer per interval."""
    for cancel in hass.data.pop(_TIMERS, []):  # a reload: the old timers go
        cancel()
    session = async_get_clientsession(hass)
    headers = {"Authorization": f"Bearer {config['token']}"}
    groups: dict[int, list[Resource]] = {}
    for item in config["resources"]:
        sensors = [
            FloorSensor(
                f"{item['name']} {value['name']}",
                tuple(value["path"]),
                value.get("unit"),
            )
            for value in item["values"]
        ]
        groups.setdefault(int(item["scan_interval"]), []).append(
            Resource(item["url"], headers, sensors)
        )
    everything = [resource for group in groups.values() for resource in group]
    await poll_all(session, everything)
    async_add_entities(sensor for resource in everything for sensor in resource.sensors)

    def ticker(resources: list[Resource]) -> Any:
        async def tick(now: datetime) -> None:
            await poll_all(session, resources)

        return tick

    hass.data[_TIMERS] = [
        async_track_time_interval(
            hass, ticker(resources), timedelta(seconds=seconds), name=DOMAIN
        )
        for seconds, resources in groups.items()
    ]
