"""Reading values out of a response, and writing request bodies: one set of rules.

The endpoint flow (preview, value forms) and the entities use the same functions,
so what the preview shows is what the entity will show.
"""

from __future__ import annotations

from datetime import date, datetime
import json
from typing import Any

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,  # re-exported there on every supported HA version
)
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
from homeassistant.util import dt as dt_util
from jsonpath import ExprSyntaxError, JSONPathTypeError, search as jsonpath_search  # type: ignore[import-untyped]

from .redact import is_secret_key, redact_data

# Sensor device classes that fit a templated value (an enum needs its options).
SENSOR_DEVICE_CLASSES = sorted(
    c.value for c in SensorDeviceClass if c is not SensorDeviceClass.ENUM
)
BINARY_SENSOR_DEVICE_CLASSES = sorted(c.value for c in BinarySensorDeviceClass)

_ON_WORDS = frozenset({"true", "on", "open", "yes"})
_EMPTY_STATES = frozenset({"", STATE_UNKNOWN, "None"})


def render_body(hass: HomeAssistant, body: str | None) -> tuple[Any, str | None]:
    """Render an endpoint's body template: ``(json, None)`` or ``(None, text)``.

    A body that renders to JSON is sent as JSON, anything else as text.
    Raises TemplateError when the template fails.
    """
    if not body:
        return None, None
    rendered = Template(body, hass).async_render(parse_result=False)
    try:
        return json.loads(rendered), None
    except ValueError:
        return None, rendered


def render_template(template: Template, json_data: Any, text: str | None) -> str:
    """Render a value template over a response. Raises TemplateError."""
    rendered = template.async_render(
        {"value_json": json_data, "value": text}, parse_result=False
    )
    return str(rendered)


def to_on_off(rendered: str | None) -> bool | None:
    """Core ``rest``'s rule: a non-zero integer or true/on/open/yes is on.

    Anything else is off; only "nothing rendered" (no data yet, a failing
    template) is unknown.
    """
    if rendered is None:
        return None
    text = rendered.strip()
    try:
        return bool(int(text))
    except ValueError:
        return text.lower() in _ON_WORDS


def to_sensor_value(
    rendered: str | None, device_class: str | None, numeric: bool
) -> str | int | float | datetime | date | None:
    """A rendered value typed as a sensor of ``device_class`` needs it.

    Timestamps and dates are parsed (a naive timestamp is in HA's time zone);
    a numeric sensor (one with a unit, state class or device class) gets a
    number, or None when the text is not one; others keep the text.
    """
    if rendered is None or rendered.strip() in _EMPTY_STATES:
        return None
    rendered = rendered.strip()
    if device_class == SensorDeviceClass.TIMESTAMP:
        parsed = dt_util.parse_datetime(rendered)
        if parsed is not None and parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=dt_util.get_default_time_zone())
        return parsed
    if device_class == SensorDeviceClass.DATE:
        return dt_util.parse_date(rendered)
    if not numeric:
        return rendered
    try:
        number = float(rendered)
    except ValueError:
        return None
    return int(number) if number.is_integer() and "." not in rendered else number


def extract_json_attributes(
    json_data: Any, attributes: tuple[str, ...], path: str | None
) -> dict[str, Any]:
    """Pick ``attributes`` from the response, as core ``rest`` does.

    With a JSONPath, its first match is used; a list uses its first element.
    Secret keys are never returned, nor secrets nested in what is returned.
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
        key: redact_data(selected[key])
        for key in attributes
        if key in selected and not is_secret_key(key)
    }


def attribute_suggestions(json_data: Any) -> list[str]:
    """Top-level keys of a response (its first item for a list), secrets left out."""
    if isinstance(json_data, list) and json_data:
        json_data = json_data[0]
    if not isinstance(json_data, dict):
        return []
    return sorted(str(key) for key in json_data if not is_secret_key(str(key)))
