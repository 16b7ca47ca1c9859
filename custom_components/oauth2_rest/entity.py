"""Base entities: endpoint values rendered from coordinator data, account health, controls.

Entities never see a token and never call the network: coordinators poll, and a
control's entity asks its ``Control`` (``controls.py``) to send a command.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
import logging
from typing import Any, override

from homeassistant.const import EntityCategory
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.device_registry import DeviceEntryType, DeviceInfo
from homeassistant.helpers.dispatcher import async_dispatcher_connect
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.entity_platform import AddConfigEntryEntitiesCallback
from homeassistant.helpers.update_coordinator import (
    CoordinatorEntity,
    DataUpdateCoordinator,
)

from .const import DOMAIN
from .controls import Control, signal_control_added
from .coordinator import (
    AccountCoordinator,
    EndpointCoordinator,
    OAuth2RestConfigEntry,
    signal_endpoint_added,
)
from .endpoint import ValueConfig
from .redact import redact_text
from .values import EndpointData, Extras, ValueRenderer, extract_json_attributes

_NOTHING = object()
# No template failed (shared: an empty frozenset is an object of its own).
_NO_FAILURES: frozenset[str] = frozenset()

_LOGGER = logging.getLogger(__name__)


class WritesWhenChanged[CoordinatorT: DataUpdateCoordinator[Any]](
    CoordinatorEntity[CoordinatorT]
):
    """A coordinator entity that writes its state only when what it shows changed.

    Polls that bring nothing new (the same value, still unavailable) cost no
    state write, no state_reported event, no recorder work; unless the entity
    asks for a write at every update (``force_update``).
    """

    __slots__ = ("_written",)

    def __init__(self, coordinator: CoordinatorT, context: Any = None) -> None:
        """Nothing written yet."""
        super().__init__(coordinator, context)
        self._written: object = _NOTHING

    def _shown(self) -> object:
        """What the state shows (compared with ``==``)."""
        raise NotImplementedError

    @override
    async def async_added_to_hass(self) -> None:
        """The platform writes the state next: this is what it will show."""
        await super().async_added_to_hass()
        self._written = self._shown()

    @callback
    @override
    def _handle_coordinator_update(self) -> None:
        shown = self._shown()
        if shown != self._written or self.force_update:
            self._written = shown
            super()._handle_coordinator_update()


def endpoint_device_info(coordinator: EndpointCoordinator) -> DeviceInfo:
    """An endpoint's service device: its values' entities live there."""
    return DeviceInfo(
        identifiers={(DOMAIN, coordinator.subentry_id)},
        name=coordinator.endpoint.name,
        entry_type=DeviceEntryType.SERVICE,
    )


class EndpointValueEntity(WritesWhenChanged[EndpointCoordinator]):
    """A value read from an endpoint's last response."""

    # Its own attributes in slots: with Home Assistant's, they would no longer
    # fit the instance's inline values, which then become a dict of their own.
    # (Home Assistant keeps an entity's attributes, and every cached property
    # read, in its instance dict: what is read from the value config is a plain
    # property, what changes a slot.)
    __slots__ = (
        "_failed_templates",
        "_icon",
        "_picture",
        "_rendered",
        "_rendered_data",
        "_renderer",
        "_template_available",
        "_template_failed",
        "value",
    )

    _attr_has_entity_name = True

    def __init__(self, coordinator: EndpointCoordinator, value: ValueConfig) -> None:
        """Initialise for one value of the coordinator's endpoint."""
        super().__init__(coordinator)
        endpoint = coordinator.endpoint
        self.value = value
        self._renderer = ValueRenderer.shared(coordinator.hass, value)
        # A value named like its endpoint is the endpoint's main entity.
        self._attr_name = value.entity_name(endpoint.name)
        self._attr_entity_registry_enabled_default = value.enabled_by_default
        if value.entity_category:
            self._attr_entity_category = EntityCategory(value.entity_category)
        self._template_failed = False
        # The templates whose failure was logged (a set once there is one).
        self._failed_templates: frozenset[str] | set[str] = _NO_FAILURES
        self._template_available = True
        self._icon: str | None = None
        self._picture: str | None = None
        # The response last rendered, and what it rendered to.
        self._rendered_data: object = _NOTHING
        self._rendered: str | None = None

    @property
    @override
    def unique_id(self) -> str:
        """The value's unique id in its endpoint."""
        return self.value.unique_id(self.coordinator.subentry_id)

    @property
    @override
    def force_update(self) -> bool:
        """Whether every poll writes the state (the value's ``force_update``)."""
        return self.value.force_update

    @property
    @override
    def icon(self) -> str | None:
        """The icon template's last rendering, if it has one."""
        return self._icon

    @property
    @override
    def entity_picture(self) -> str | None:
        """The picture template's last rendering, if it has one."""
        return self._picture

    @property
    @override
    def device_info(self) -> DeviceInfo:
        """The endpoint's device (read when the entity is added: not kept)."""
        return endpoint_device_info(self.coordinator)

    def _log_failure(self, key: str, err: TemplateError) -> None:
        """Log a failing template once, until it renders again (redacted)."""
        if key not in self._failed_templates:
            _LOGGER.warning(
                "%s template of %s failed: %s",
                key,
                self.entity_id,
                redact_text(str(err), self.coordinator.secrets),
            )
            self._failed_templates = {*self._failed_templates, key}

    def _render_extras(self) -> None:
        """Availability, icon and picture over the last response (ValueRenderer).

        Rendered once per update (not at every state read); a failing template
        is logged once, until it renders again.
        """
        data: EndpointData | None = self.coordinator.data
        extras = (
            Extras()
            if data is None
            else self._renderer.extras(
                data.json, data.text, self.entity_id, self.coordinator.secrets
            )
        )
        for key, err in extras.outcomes.items():
            if err is None:
                if key in self._failed_templates:
                    self._failed_templates = self._failed_templates - {key}
            else:
                self._log_failure(key, err)
        self._template_available = extras.available
        self._icon = extras.icon
        self._picture = extras.picture

    @override
    @callback
    def _handle_coordinator_update(self) -> None:
        """Render the extras, then write the state."""
        self._render_extras()
        super()._handle_coordinator_update()

    @property
    @override
    def available(self) -> bool:
        """The last poll worked and the availability template, if any, says so."""
        return super().available and self._template_available

    @override
    async def async_added_to_hass(self) -> None:
        """Render the extras for the first state; be known to the coordinator.

        The coordinator takes its entities out when it stops.
        """
        self._render_extras()
        await super().async_added_to_hass()
        self.coordinator.entities.add(self)

    @override
    async def async_will_remove_from_hass(self) -> None:
        """No longer one of the coordinator's entities."""
        await super().async_will_remove_from_hass()
        self.coordinator.entities.discard(self)

    def render(self) -> str | None:
        """Render the value template over the last response, or None.

        An API may echo the request: the value and the template error that is
        logged are redacted (the account's secrets, ``secret=value`` pairs).
        Rendered once per response: the state and the write check share it.
        """
        data: EndpointData | None = self.coordinator.data
        if data is self._rendered_data:
            return self._rendered
        self._rendered_data = data
        self._rendered = None if data is None else self._render(data)
        return self._rendered

    def _render(self, data: EndpointData) -> str | None:
        secrets = self.coordinator.secrets
        try:
            rendered = self._renderer.value(data.json, data.text, secrets)
        except TemplateError as err:
            if not self._template_failed:
                _LOGGER.warning(
                    "Template of %s failed: %s",
                    self.entity_id,
                    redact_text(str(err), secrets),
                )
                self._template_failed = True
            return None
        self._template_failed = False
        return rendered

    @override
    def _shown(self) -> object:
        """Availability, the rendered value, attributes, icon and picture."""
        return (
            self.available,
            self.render(),
            self.extra_state_attributes,
            self._icon,
            self._picture,
        )

    @property
    @override
    def extra_state_attributes(self) -> dict[str, Any] | None:
        """The response's ``json_attributes`` (secret keys never included)."""
        data: EndpointData | None = self.coordinator.data
        if not self.value.json_attributes or data is None:
            return None
        return extract_json_attributes(
            data.json,
            self.value.json_attributes,
            self.value.json_attributes_path,
            self.coordinator.secrets,
        )


@callback
def async_setup_endpoint_entities(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    entities_of: Callable[[EndpointCoordinator], Iterable[Entity]],
) -> None:
    """Add a platform's entities for every endpoint, now and whenever one starts."""

    @callback
    def add(coordinator: EndpointCoordinator) -> None:
        async_add_entities(
            entities_of(coordinator), config_subentry_id=coordinator.subentry_id
        )

    for coordinator in entry.runtime_data.endpoints.values():
        add(coordinator)
    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_endpoint_added(entry.entry_id), add)
    )


@callback
def async_setup_control_entities(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    async_add_entities: AddConfigEntryEntitiesCallback,
    kind: str,
    entity_of: Callable[[Control], Entity],
) -> None:
    """Add a platform's entity for every control of ``kind``, now and as they start."""

    @callback
    def add(control: Control) -> None:
        if control.config.kind == kind:
            async_add_entities(
                [entity_of(control)], config_subentry_id=control.subentry_id
            )

    for control in entry.runtime_data.controls.values():
        add(control)
    entry.async_on_unload(
        async_dispatcher_connect(hass, signal_control_added(entry.entry_id), add)
    )


class ControlEntity(Entity):
    """The one entity of a control: its device's main entity, named after it."""

    _attr_has_entity_name = True
    _attr_name = None

    def __init__(self, control: Control, *args: Any) -> None:
        """Initialise for ``control`` (``args``: for the next base, a coordinator's)."""
        super().__init__(*args)
        self.control = control
        self._attr_unique_id = control.subentry_id
        self._attr_device_info = DeviceInfo(
            identifiers={(DOMAIN, control.subentry_id)},
            name=control.config.name,
            entry_type=DeviceEntryType.SERVICE,
        )

    @override
    async def async_added_to_hass(self) -> None:
        """Be known to the control, which takes its entity out when it stops."""
        await super().async_added_to_hass()
        self.control.entities.add(self)
        self.async_on_remove(lambda: self.control.entities.discard(self))


def account_device_info(coordinator: AccountCoordinator) -> DeviceInfo:
    """The account's own service device: its health entities live there."""
    entry = coordinator.config_entry
    return DeviceInfo(
        identifiers={(DOMAIN, entry.entry_id)},
        name=entry.title,
        entry_type=DeviceEntryType.SERVICE,
    )


class AccountEntity(WritesWhenChanged[AccountCoordinator]):
    """An entity of the account's service device."""

    _attr_has_entity_name = True

    def __init__(self, coordinator: AccountCoordinator, key: str) -> None:
        """Initialise one account entity."""
        super().__init__(coordinator)
        self._attr_unique_id = f"{coordinator.config_entry.entry_id}_{key}"
        self._attr_device_info = account_device_info(coordinator)
