"""The bench's floor: the least a Home Assistant integration can do for the same polls.

Not shipped: the bench (``bench/``) loads it into a real Home Assistant beside core
``rest`` and ``oauth2_rest`` to measure what Home Assistant itself costs. Its only
platform is ``sensor`` (YAML; see sensor.py). ``bench_floor:`` in the configuration
registers ``bench_floor.reload`` before any platform exists, as the bench starts
with none.
"""

from __future__ import annotations

from homeassistant.const import Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.reload import async_setup_reload_service
from homeassistant.helpers.typing import ConfigType

DOMAIN = "bench_floor"
CONFIG_SCHEMA = cv.empty_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register ``bench_floor.reload`` (it re-reads the YAML platform entries)."""
    await async_setup_reload_service(hass, DOMAIN, [Platform.SENSOR])
    return True
