"""Reading values out of a response: one set of rules.

The endpoint flow (preview, value forms), the coordinators and the entities use
the same functions (a request's templates are rendered in ``request.py``). A
value's templates are rendered by one :class:`ValueRenderer`, which the entity
and the preview both use with the same variables: what the preview shows is what
the entity will show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
import re
from typing import TYPE_CHECKING, Any, Final
from weakref import WeakValueDictionary
from xml.parsers.expat import ExpatError

from homeassistant.components.binary_sensor import (  # type: ignore[attr-defined]
    BinarySensorDeviceClass,  # re-exported there on every supported HA version
)
from homeassistant.components.sensor import SensorDeviceClass
from homeassistant.const import STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.json import json_dumps
from homeassistant.helpers.template import (
    Template,
    TemplateStateFromEntityId,
    result_as_boolean,
)
from homeassistant.util import dt as dt_util
from homeassistant.util.hass_dict import HassKey
from jsonpath import ExprSyntaxError, JSONPathTypeError, search as jsonpath_search  # type: ignore[import-untyped]
import xmltodict  # type: ignore[import-untyped]

from .client.response import ApiResponse, ConditionalState, check_json_depth, loads_json
from .const import DOMAIN
from .endpoint import ValueConfig
from .redact import NO_SECRETS, Secrets, is_secret_key, redact_data, redact_text

if TYPE_CHECKING:
    from .request import RenderedRequest

# Sensor device classes that fit a templated value (an enum needs its options).
SENSOR_DEVICE_CLASSES = sorted(
    c.value for c in SensorDeviceClass if c is not SensorDeviceClass.ENUM
)
BINARY_SENSOR_DEVICE_CLASSES = sorted(c.value for c in BinarySensorDeviceClass)

_ON_WORDS = frozenset({"true", "on", "open", "yes"})
_EMPTY_STATES = frozenset({"", STATE_UNKNOWN, "None"})

# Content types core ``rest`` converts from XML (its const.XML_MIME_TYPES).
XML_MIME_TYPES = (
    "application/rss+xml",
    "application/xhtml+xml",
    "application/xml",
    "text/xml",
)


def response_values(
    response: ApiResponse, encoding: str | None = None
) -> tuple[Any, str]:
    """What templates see of a response: ``(value_json, value)``, as core ``rest``.

    The body is decoded with its declared charset, else ``encoding`` (UTF-8 by
    default). An XML content type is converted with xmltodict, and ``value`` is
    then the converted JSON text (core's ``data_without_xml``); XML that does not
    parse stays text. ``value_json`` is None when the text is not JSON, or is
    nested deeper than ``MAX_JSON_DEPTH`` (what walks it would break).
    """
    text = response.decode(encoding)
    if response.content_type.startswith(XML_MIME_TYPES):
        try:
            converted = check_json_depth(xmltodict.parse(text))
        except ExpatError, ValueError:  # not XML, or nested too deep
            return None, text
        return converted, json_dumps(converted)
    return text_json(text), text


def text_json(text: str) -> Any:
    """``value_json`` of a text :func:`response_values` gave: its JSON, or None.

    A converted XML answer's text is its JSON: this gives the conversion again.
    """
    try:
        return loads_json(text)
    except ValueError:
        return None


# EndpointData.parsed when its JSON is not held.
UNPARSED: Any = object()


@dataclass(frozen=True, slots=True)
class EndpointData:
    """The last good response of an endpoint.

    Two responses are equal when their status and body are: an unchanged answer
    then notifies no entity (the coordinator's ``always_update=False``).

    Its parsed JSON is kept only while entities render it: once they have been
    told of it, it is let go (:meth:`release_json`) and parsed again from the
    text if it is ever read again, as core ``rest`` parses at every render.
    """

    status: int
    body: bytes
    text: str = field(compare=False)
    fetched_at: datetime = field(compare=False)
    conditional: ConditionalState = field(compare=False)
    # The rendered request it answers: validators only apply to the same one.
    request: RenderedRequest | None = field(default=None, compare=False)
    # ``value_json`` (None when the text is not usable JSON), or UNPARSED.
    parsed: Any = field(default=UNPARSED, compare=False, repr=False)

    @property
    def json(self) -> Any:
        """What templates see as ``value_json``."""
        parsed = self.parsed
        if parsed is UNPARSED:
            parsed = text_json(self.text)
            object.__setattr__(self, "parsed", parsed)
        return parsed

    def release_json(self) -> None:
        """Let the parsed JSON go; :attr:`json` parses the text again if read.

        The text is the JSON (an XML answer's is its conversion): parsing it
        again gives the same. None (no JSON) is kept: it costs nothing.
        """
        if self.parsed is not None:
            object.__setattr__(self, "parsed", UNPARSED)


def render_template(template: Template, json_data: Any, text: str | None) -> str:
    """Render a value template over a response with HA's engine. Raises TemplateError."""
    rendered = template.async_render(
        {"value_json": json_data, "value": text}, parse_result=False
    )
    return str(rendered)


def render_availability(template: Template, variables: Mapping[str, Any]) -> bool:
    """An availability template's verdict, as core's trigger template entities.

    Rendered strictly and parsed; HA's boolean rules apply. Raises TemplateError
    (core then keeps the entity available).
    """
    return result_as_boolean(
        template.async_render(dict(variables), parse_result=True, strict=True)
    )


def render_text(template: Template, variables: Mapping[str, Any]) -> str | None:
    """An icon or picture template's text; None when empty. Raises TemplateError."""
    rendered = str(template.async_render(dict(variables), parse_result=False))
    return rendered.strip() or None


# A plain lookup: ``{{ value_json.a.b }}``, ``{{ value_json['a'][0] }}``...
_NAME = r"[A-Za-z_][A-Za-z0-9_]*"
_STEP = (
    rf"\s*(?:\.(?P<name>{_NAME})|\[\s*(?:(?P<index>0|[1-9][0-9]*)"
    r"""|'(?P<single>[^'\\]*)'|"(?P<double>[^"\\]*)")\s*\])"""
)
_STEP_RE: Final = re.compile(_STEP)
_LOOKUP_RE: Final = re.compile(rf"\s*\{{\{{\s*value_json((?:{_STEP})+)\s*\}}\}}\s*")
# ``x.name`` is Jinja's getattr first: on a dict, a method of that name wins.
_DICT_ATTRIBUTES: Final = frozenset(dir(dict))
# Longer output goes through the engine, which enforces its own size limit.
_FAST_MAX_CHARS: Final = 4096

type _Step = tuple[bool, str | int]  # (by attribute, key or index)


def lookup_path(source: str) -> tuple[_Step, ...] | None:
    """The steps of a template that is a plain ``value_json`` lookup, else None."""
    if (match := _LOOKUP_RE.fullmatch(source)) is None:
        return None
    steps: list[_Step] = []
    for step in _STEP_RE.finditer(match.group(1)):
        if (name := step.group("name")) is not None:
            steps.append((True, name))
        elif (index := step.group("index")) is not None:
            steps.append((False, int(index)))
        else:
            key = step.group("single")
            steps.append((False, key if key is not None else step.group("double")))
    return tuple(steps)


def _fast_lookup(json_data: Any, steps: tuple[_Step, ...]) -> str | None:
    """What HA's engine renders for a plain lookup, or None to let the engine decide.

    Only unambiguous cases are answered here: dict keys that exist (by
    attribute only when no dict method has that name), list indexes in range,
    and a scalar result. Anything else (a missing key, which the engine renders
    empty with a warning; a container result; other types) goes to the engine.
    """
    node = json_data
    for by_attribute, key in steps:
        node_type = type(node)
        if node_type is dict:
            if type(key) is not str or key not in node:
                return None
            if by_attribute and key in _DICT_ATTRIBUTES:
                return None
            node = node[key]
        elif node_type is list and type(key) is int and not by_attribute:
            if key >= len(node):
                return None
            node = node[key]
        else:
            return None
    if node is None or type(node) in (str, int, float, bool):
        text = str(node)
        if len(text) <= _FAST_MAX_CHARS:
            return text.strip()
    return None


class ValueTemplate:
    """A value template: rendered by HA's engine, plain lookups without it.

    ``{{ value_json.a.b }}`` and ``{{ value_json['a'][0] }}`` are most of what
    users write; reading them directly gives the engine's result (tested
    against it) for a fraction of the CPU of a Jinja render.
    """

    __slots__ = ("_steps", "template")

    def __init__(self, source: str, hass: HomeAssistant) -> None:
        """Prepare ``source``; it is compiled only if the engine is ever needed."""
        self.template = Template(source, hass)
        self._steps = lookup_path(source)

    def render(self, json_data: Any, text: str | None) -> str:
        """Render over a response. Raises TemplateError."""
        if (
            self._steps is not None
            and (fast := _fast_lookup(json_data, self._steps)) is not None
        ):
            return fast
        return render_template(self.template, json_data, text)


@dataclass(frozen=True, slots=True)
class Extras:
    """What a value's availability, icon and picture templates rendered to.

    ``outcomes`` has each template that was rendered (``Availability``, ``Icon``,
    ``Picture``) with its error, or None when it rendered.
    """

    available: bool = True
    icon: str | None = None
    picture: str | None = None
    outcomes: dict[str, TemplateError | None] = field(default_factory=dict)


def _optional_template(text: str | None, hass: HomeAssistant) -> Template | None:
    return Template(text, hass) if text else None


# A value's templates (value, availability, icon, picture) -> its shared renderer.
_RENDERERS: HassKey[
    WeakValueDictionary[tuple[str, str | None, str | None, str | None], ValueRenderer]
] = HassKey(f"{DOMAIN}_value_renderers")


class ValueRenderer:
    """One value's templates over a response: what its entity shows.

    The entity and the endpoint flow's preview both render through this: the
    value template sees ``value`` and ``value_json`` (as core ``rest``);
    availability, icon and picture also ``this``, the state of the value's entity
    (as core's trigger template entities). What is rendered is redacted: an API
    may echo the request.
    """

    __slots__ = (
        "__weakref__",
        "_availability",
        "_hass",
        "_icon",
        "_picture",
        "_template",
    )

    def __init__(self, hass: HomeAssistant, value: ValueConfig) -> None:
        """Prepare the value's templates."""
        self._hass = hass
        self._template = ValueTemplate(value.value_template, hass)
        self._availability = _optional_template(value.availability_template, hass)
        self._icon = _optional_template(value.icon_template, hass)
        self._picture = _optional_template(value.picture_template, hass)

    @classmethod
    def shared(cls, hass: HomeAssistant, value: ValueConfig) -> ValueRenderer:
        """A renderer of ``value``'s templates, shared while in use.

        Values with the same templates (endpoints made from one recipe, one
        document read by many) use one renderer: it keeps nothing of a render.
        """
        renderers = hass.data.setdefault(_RENDERERS, WeakValueDictionary())
        key = (
            value.value_template,
            value.availability_template,
            value.icon_template,
            value.picture_template,
        )
        if (renderer := renderers.get(key)) is None:
            renderer = renderers[key] = cls(hass, value)
        return renderer

    @property
    def has_extras(self) -> bool:
        """The value has an availability, icon or picture template."""
        return any((self._availability, self._icon, self._picture))

    def value(self, json_data: Any, text: str | None, secrets: Secrets) -> str:
        """The value template rendered, redacted. Raises TemplateError."""
        return redact_text(self._template.render(json_data, text), secrets)

    def extras(
        self, json_data: Any, text: str | None, entity_id: str, secrets: Secrets
    ) -> Extras:
        """Availability, icon and picture, as core's template entities render them.

        Availability first, and icon and picture only while available. A failing
        availability template leaves the value available; a failing icon or
        picture is unset. ``this`` is the state of ``entity_id`` (unknown while it
        has none).
        """
        if not self.has_extras:
            return Extras()
        variables = {
            "this": TemplateStateFromEntityId(self._hass, entity_id),
            "value": text,
            "value_json": json_data,
        }
        outcomes: dict[str, TemplateError | None] = {}
        if self._availability is not None:
            try:
                available = render_availability(self._availability, variables)
            except TemplateError as err:
                outcomes["Availability"] = err
            else:
                outcomes["Availability"] = None
                if not available:
                    return Extras(available=False, outcomes=outcomes)
        icon, picture = (
            self._render_text(name, template, variables, secrets, outcomes)
            for name, template in (("Icon", self._icon), ("Picture", self._picture))
        )
        return Extras(icon=icon, picture=picture, outcomes=outcomes)

    @staticmethod
    def _render_text(
        name: str,
        template: Template | None,
        variables: Mapping[str, Any],
        secrets: Secrets,
        outcomes: dict[str, TemplateError | None],
    ) -> str | None:
        if template is None:
            return None
        try:
            rendered = render_text(template, variables)
        except TemplateError as err:
            outcomes[name] = err
            return None
        outcomes[name] = None
        return rendered and redact_text(rendered, secrets)


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
    json_data: Any,
    attributes: tuple[str, ...],
    path: str | None,
    secrets: Secrets = NO_SECRETS,
) -> dict[str, Any]:
    """Pick ``attributes`` from the response, as core ``rest`` does.

    With a JSONPath, its first match is used; a list uses its first element.
    Secret keys are never returned, nor secrets nested in what is returned (by
    name, and the account's ``secrets`` by value: an API may echo the request).
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
        key: redact_data(selected[key], secrets)
        for key in attributes
        if key in selected and not is_secret_key(key)
    }


# How many keys the attribute choice offers, and how long each may be (any other
# key can still be typed in).
MAX_ATTRIBUTE_SUGGESTIONS = 300
MAX_ATTRIBUTE_KEY_CHARS = 255


def attribute_suggestions(json_data: Any, secrets: Secrets = NO_SECRETS) -> list[str]:
    """Top-level keys of a response (its first item for a list), secrets left out.

    Keys with a secret name, or holding a secret (an account's value, a
    ``secret=value`` pair), are not offered; at most ``MAX_ATTRIBUTE_SUGGESTIONS``
    keys, none longer than ``MAX_ATTRIBUTE_KEY_CHARS``.
    """
    if isinstance(json_data, list) and json_data:
        json_data = json_data[0]
    if not isinstance(json_data, dict):
        return []
    found: list[str] = []
    for raw in json_data:
        key = str(raw)
        if len(key) > MAX_ATTRIBUTE_KEY_CHARS or is_secret_key(key):
            continue
        if redact_text(key, secrets) == key:
            found.append(key)
            if len(found) >= MAX_ATTRIBUTE_SUGGESTIONS:
                break
    return sorted(found)
