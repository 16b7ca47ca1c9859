"""What the endpoint flow's preview (a test request) shows of each value.

Each value is rendered by the entity's own :class:`~..values.ValueRenderer`, with
the entity's variables: ``value``, ``value_json`` and ``this``. ``this`` is the
state of the value's entity: the one in the registry when the value has one
(editing an endpoint), else the entity id the new entity will get, which has no
state yet; so the preview sees what a new entity sees at its first render (a
state ``unknown``), and an existing entity's current state.
"""

from __future__ import annotations

from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers import entity_registry as er

from ..const import DOMAIN
from ..endpoint import ValueConfig
from ..redact import Secrets, redact_text
from ..values import ValueRenderer

# How much of a rendered value the preview shows.
VALUE_MAX_CHARS = 200


def value_entity_id(
    hass: HomeAssistant, subentry_id: str | None, endpoint_name: str, value: ValueConfig
) -> str:
    """The entity id of a value's entity: its registered one, or the one it will get."""
    registry = er.async_get(hass)
    if subentry_id is not None and (
        entity_id := registry.async_get_entity_id(
            value.platform, DOMAIN, value.unique_id(subentry_id)
        )
    ):
        return entity_id
    name = value.entity_name(endpoint_name)
    return registry.async_get_available_entity_id(
        value.platform, endpoint_name if name is None else f"{endpoint_name} {name}"
    )


def shown_value(
    hass: HomeAssistant,
    value: ValueConfig,
    data: tuple[Any, str],
    entity_id: str,
    secrets: Secrets,
) -> str:
    """A value over the preview response: ``unavailable``, its value, or its error."""
    renderer = ValueRenderer(hass, value)
    json_data, text = data
    if not renderer.extras(json_data, text, entity_id, secrets).available:
        return STATE_UNAVAILABLE
    try:
        rendered = renderer.value(json_data, text, secrets)
    except TemplateError as err:
        rendered = redact_text(f"⚠ {err}", secrets)
    return rendered[:VALUE_MAX_CHARS]
