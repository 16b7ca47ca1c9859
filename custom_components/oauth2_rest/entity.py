"""Base entity: one value of one endpoint, rendered from the coordinator's data."""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.exceptions import TemplateError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.template import Template
from homeassistant.helpers.update_coordinator import CoordinatorEntity

from .const import DOMAIN
from .coordinator import EndpointCoordinator, EndpointData
from .endpoint import ValueConfig

_LOGGER = logging.getLogger(__name__)


class EndpointValueEntity(CoordinatorEntity[EndpointCoordinator]):
    """A value read from an endpoint's last response. Never sees a token."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: EndpointCoordinator, value: ValueConfig) -> None:
        """Initialise for one value of the coordinator's endpoint."""
        super().__init__(coordinator)
        endpoint = coordinator.endpoint
        self.value = value
        self._template = Template(value.value_template, coordinator.hass)
        self._attr_unique_id = f"{coordinator.subentry_id}_{value.key}"
        # A value named like its endpoint is the endpoint's main entity.
        self._attr_name = None if value.name == endpoint.name else value.name
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, coordinator.subentry_id)},
            name=endpoint.name,
            entry_type=DeviceEntryType.SERVICE,
            configuration_url=None,
        )
        self._template_failed = False

    def render(self) -> str | None:
        """Render the value template over the last response, or None."""
        data: EndpointData | None = self.coordinator.data
        if data is None:
            return None
        variables: dict[str, Any] = {"value_json": data.json, "value": data.text}
        try:
            rendered = self._template.async_render(variables, parse_result=False)
        except TemplateError as err:
            if not self._template_failed:
                _LOGGER.warning("Template of %s failed: %s", self.entity_id, err)
                self._template_failed = True
            return None
        self._template_failed = False
        return str(rendered)
