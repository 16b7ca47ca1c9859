"""Soak probe: the event loop's lag and task count, for the soak test only.

Loaded only in the soak's Home Assistant (``soak_probe:`` in its configuration.yaml,
copied into its ``custom_components``); never shipped. Every 100 ms a timer notes
how late the loop ran it; ``GET /api/soak_probe`` (admin token) answers those
latenesses since the last read (ms, rounded to 0.1) and the number of asyncio tasks
now, then starts a new window. Cheap: one timer handle, a list of floats.
"""

from __future__ import annotations

import asyncio

from aiohttp import web
from homeassistant.components.http import HomeAssistantView
from homeassistant.core import HomeAssistant
from homeassistant.helpers.typing import ConfigType

DOMAIN = "soak_probe"
PERIOD = 0.1


class LagMeter:
    """A timer that re-arms itself and notes how late each run came."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        """Arm the first run."""
        self.loop = loop
        self.late: list[float] = []
        self.due = loop.time() + PERIOD
        self.handle = loop.call_at(self.due, self.tick)

    def tick(self) -> None:
        """Note the lateness, arm the next run."""
        now = self.loop.time()
        self.late.append(now - self.due)
        self.due = now + PERIOD
        self.handle = self.loop.call_at(self.due, self.tick)

    def take(self) -> list[float]:
        """The latenesses (ms) since the last take; a new window starts."""
        late, self.late = self.late, []
        return [round(seconds * 1000, 1) for seconds in late]


class ProbeView(HomeAssistantView):
    """GET /api/soak_probe."""

    url = "/api/soak_probe"
    name = "api:soak_probe"

    def __init__(self, meter: LagMeter) -> None:
        """Keep the meter."""
        self.meter = meter

    async def get(self, request: web.Request) -> web.Response:
        """Lag since the last read and the task count now."""
        return self.json(
            {
                "late_ms": self.meter.take(),
                "tasks": len(asyncio.all_tasks(self.meter.loop)),
            }
        )


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Start measuring."""
    meter = LagMeter(hass.loop)
    hass.http.register_view(ProbeView(meter))
    return True
