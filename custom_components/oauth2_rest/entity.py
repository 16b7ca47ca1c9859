"""Base entities: endpoint values rendered from coordinator data, and account health.

Entities never see a token and never call the network; coordinators do.
"""

from __future__ import annotations

from collections.abc import Mapping
import logging
from typing import Any

from homeassistant.const import EntityCategory
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.template import Template
from homeassistant.helpers.update_coordinator import CoordinatorEntity
from jsonpath import ExprSyntaxError, JSONPathTypeError, search as jsonpath_search  # type: ignore[import-untyped]

from .const import DOMAIN
from .coordinator import AccountCoordinator, EndpointCoordinator, EndpointData
from .endpoint import ValueConfig

_LOGGER = logging.getLogger(__name__)

# Keys whose values are never shown: not in attributes, not in the flow's preview.
SECRET_KEYS = frozenset(
    {
        "access_token",
        "refresh_token",
        "id_token",
        "client_secret",
        "password",
        "token",
        "secret",
        "authorization",
        "api_key",
        "apikey",
    }
)
REDACTED = "**REDACTED**"


def is_secret_key(key: object) -> bool:
    """True for a key whose value must not be shown (case-insensitive)."""
    return isinstance(key, str) and key.lower() in SECRET_KEYS


def redact_secrets(value: Any) -> Any:
    """Return ``value`` with the values of secret keys replaced, recursively."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if is_secret_key(k) else redact_secrets(v)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [redact_secrets(v) for v in value]
    return value


def render_template(template: Template, json_data: Any, text: str | None) -> str:
    """Render a value template over a response. Raises TemplateError."""
    rendered = template.async_render(
        {"value_json": json_data, "value": text}, parse_result=False
    )
    return str(rendered)


def extract_json_attributes(
    json_data: Any, attributes: tuple[str, ...], path: str | None
) -> dict[str, Any]:
    """Pick ``attributes`` from the response, as core ``rest`` does.

    With a JSONPath, its first match is used; a list uses its first element.
    Secret keys are never returned.
    """
    if not attributes or json_data is None:
        return {}
    selected: Any = json_data
    if path:
        try:
            selected = jsonpath_search(path, json_data)
        except ExprSyntaxError, JSONPathTypeError, ValueError, TypeError:
            return {}
    if isinstance(selected, list) and selected:
        selected = selected[0]
    if not isinstance(selected, dict):
        return {}
    return {
        key: redact_secrets(selected[key])
        for key in attributes
        if key in selected and not is_secret_key(key)
    }


class EndpointValueEntity(CoordinatorEntity[EndpointCoordinator]):
    """A value read from an endpoint's last response."""

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
        self._attr_entity_registry_enabled_default = value.enabled_by_default
        if value.entity_category:
            self._attr_entity_category = EntityCategory(value.entity_category)
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, coordinator.subentry_id)},
            name=endpoint.name,
            entry_type=DeviceEntryType.SERVICE,
        )
        self._template_failed = False

    def render(self) -> str | None:
        """Render the value template over the last response, or None."""
        data: EndpointData | None = self.coordinator.data
        if data is None:
            return None
        try:
            rendered = render_template(self._template, data.json, data.text)
        except TemplateError as err:
            if not self._template_failed:
                _LOGGER.warning("Template of %s failed: %s", self.entity_id, err)
                self._template_failed = True
            return None
        self._template_failed = False
        return rendered

    @property
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The response's ``json_attributes`` (secret keys never included)."""
        data: EndpointData | None = self.coordinator.data
        if not self.value.json_attributes or data is None:
            return None
        return extract_json_attributes(
            data.json, self.value.json_attributes, self.value.json_attributes_path
        )


def account_device_info(coordinator: AccountCoordinator) -> DeviceInfo:
    """The account's own service device: its health entities live there."""
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        entry_type=DeviceEntryType.SERVICE,
    )


class AccountEntity(CoordinatorEntity[AccountCoordinator]):
    """An entity of the account's service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: AccountCoordinator, key: str) -> None:
        """Initialise one account entity."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{key}"
        self._attr_device_info = account_device_info(coordinator)
