"""Print the Python requirements of the integrations a Home Assistant config will load.

tests/e2e/run starts Home Assistant with --skip-pip (fast, no run-time installs). A fresh
.venv only has what requirements_test.txt pins, but HA always sets up its default
integrations (all base platforms: camera, conversation, tts, ...), and the frontend stays on
"Loading..." when some of them fail. So install what those need first.

    python ha_requirements.py CONFIG_DIR DOMAIN...
"""

from __future__ import annotations

import asyncio
import sys

from homeassistant import bootstrap, loader
from homeassistant.core import HomeAssistant


async def requirements(config_dir: str, domains: set[str]) -> list[str]:
    """Requirements of domains and all their dependencies (not after_dependencies)."""
    hass = HomeAssistant(config_dir)
    loader.async_setup(hass)
    todo = set(domains) | bootstrap.CORE_INTEGRATIONS | bootstrap.DEFAULT_INTEGRATIONS
    seen: set[str] = set()
    found: set[str] = set()
    while todo:
        batch = todo - seen
        seen |= batch
        todo = set()
        for domain, integration in (
            await loader.async_get_integrations(hass, batch)
        ).items():
            if isinstance(integration, Exception):
                print(f"# {domain}: {integration}", file=sys.stderr)
                continue
            found.update(integration.requirements)
            todo.update(integration.dependencies)
    await hass.async_stop(force=True)
    return sorted(found)


if __name__ == "__main__":
    for requirement in asyncio.run(requirements(sys.argv[1], set(sys.argv[2:]))):
        print(requirement)
