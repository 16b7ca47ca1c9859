"""Import from core ``rest``, ``rest_command`` and the RESTful platforms' YAML.

:func:`parse_rest_yaml` reads pasted YAML and returns what it maps to here, as
the README's "Coming from core ``rest`` / ``rest_command``" table says, row by
row. It reads nothing but the text: no file, no secret, no environment.

What is read:

- a core ``rest:`` list (or one resource mapping) with its ``sensor:`` and
  ``binary_sensor:`` lists: one endpoint per resource;
- ``sensor:`` and ``binary_sensor:`` lists of ``- platform: rest`` entries: one
  endpoint per entry, and one for all entries that make the very same request
  (one request for all, as core's ``rest:`` would);
- ``switch:`` lists of ``- platform: rest`` entries: *switch candidates*;
- ``notify:`` lists of ``- platform: rest`` entries: *notify candidates*;
- a ``rest_command:`` mapping (name → command): *command candidates*. A command
  is an action (a button), not a polled endpoint, so it never becomes one;
- the same without their top-level key where the shape says which it is: a
  resource or a platform entry (``resource``/``resource_template``), a list of
  them, a command (``url``), a mapping of commands (name → ``url``...);
  ``sensor 2:``-style keys count as their domain. A platform entry without its
  domain is a switch when it has a switch's options, a notifier when it has a
  notifier's (or the method ``POST_JSON``), a binary sensor when its device
  class is only a binary sensor's, a sensor otherwise (said so when nothing
  told).

The result (:class:`ImportResult`) holds the endpoints, each with its data in
the stored shape (:meth:`EndpointConfig.to_data`, values as
:meth:`ValueConfig.to_dict`, keys from their names as the endpoint flow derives
them), the switch, notify and command candidates (plain dicts, see
:data:`SWITCH_FIELDS`, :data:`NOTIFY_FIELDS` and :data:`COMMAND_FIELDS`; made
controls by :func:`switch_control`, :func:`notify_control` and
:func:`command_control`), and what was not taken as it was written, each with
its path and line. Paths name the keys from the top
(``rest[0].ssl_cipher_list``, ``["sensor 2"][0]``); an entry pasted alone,
without its key, is ``$`` and its options are named bare (``resource``).

- :attr:`ImportResult.notes`, one :class:`ImportNote` each:

  ``dropped``
      ``account_auth``: ``authentication``/``username``/``password``, a static
      ``Authorization`` header, user info in a URL: the account does that now.
      ``owned_header`` (``header``): another header the integration or the
      transport owns (``client/headers.py``). ``automatic``: ``unique_id``.
  ``unsupported``
      ``no_equivalent``: an option with nothing like it here
      (``ssl_cipher_list``, ``insecure_cipher``, ``skip_url_encoding``,
      ``entity_namespace``, a switch's entity options, a notifier's
      ``target_param_name``, a notifier's field holding a list or a mapping).
      ``unknown_option``: an option core does not know either.
      ``other_platform``: a platform entry that is not ``rest``.
      ``other_integration``: a top-level key of another integration.
  ``adjusted``
      ``clamped`` (``value``, ``used``): ``scan_interval`` or ``timeout`` out
      of the range allowed here. ``renamed`` (``name``, ``used``): a value
      named like another of its endpoint. ``merged``: platform entries making
      the same request, now one endpoint. ``assumed_sensor``: a platform entry
      without its domain taken for a sensor. ``static_payload``: a core
      ``payload`` (never a template there) holding template characters,
      wrapped in ``{% raw %}``. ``static_text``: the same for a notifier's
      header or query parameter (core sends them as written). ``name_template``:
      a core ``name`` that is a template, kept as plain text.
  ``invalid``
      ``invalid_template``: a template that does not compile.
      ``invalid_value``: a value core would refuse too, or one the endpoint's
      form cannot hold (a line break in a header or parameter...).
      ``conflict``: both of ``resource``/``resource_template`` (or of
      ``payload``/``payload_template``): the first is used.
      ``url_missing``: a resource with no usable URL: the endpoint's URL is
      empty, to be entered in the form.

  A field that is invalid or unresolved is left out (an invalid value
  template leaves its value out); nothing is guessed.
- :attr:`ImportResult.references`: each ``!secret``, ``!include*``,
  ``!env_var`` and ``!input`` met, with its name (the secret's, file's or
  variable's, never a value) and where: none of them is resolved, the field
  holding it is left out.

Options left out take core's defaults, not ours: the import keeps what the
YAML did (``scan_interval`` 30 s, ``timeout`` 10 s, core's default names).
Absolute URLs stay absolute (the flow checks their origin against the
account's); an endpoint whose URL is missing or unresolved has ``url`` ``""``.

Values are checked as the endpoint flow checks them: templates compile in Home
Assistant's engine (the flow's template selector), device and state classes
are the form's choices, names and the JSON attributes path pass the value
form's validation (:func:`validate_value`), and the value is built by the form's
own :func:`value_from_input` with :func:`value_key`. Templates compile with the
running Home Assistant: call this from the event loop, as a flow step is.

YAML tags other than those references (``!!int``, ``!custom``...) are
refused as invalid YAML: Home Assistant's configuration uses none.

Untrusted text: at most :data:`MAX_YAML_CHARS` characters, nested at most
:data:`MAX_DEPTH` levels, :data:`MAX_ALIASES` aliases; at most
:data:`MAX_ENTRIES` resources, entries and commands and :data:`MAX_VALUES`
values; the walk stops after :data:`MAX_WORK` nodes and characters (aliases
included), so the time taken is linear in the text. Beyond any of these,
:class:`RestImportError` ``yaml_too_large``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
import json
import math
import re
from typing import Any, Final

from annotatedyaml import YAMLException
from annotatedyaml.loader import FastSafeLoader
from homeassistant.components.sensor import CONF_STATE_CLASS, SensorStateClass
from homeassistant.const import (
    CONF_DEVICE_CLASS,
    CONF_FORCE_UPDATE,
    CONF_ICON,
    CONF_NAME,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_VALUE_TEMPLATE,
)
from homeassistant.helpers import config_validation as cv
from homeassistant.helpers.selector import TemplateSelector
from homeassistant.helpers.template import is_template_string
from homeassistant.helpers.trigger_template_entity import (
    CONF_AVAILABILITY,
    CONF_PICTURE,
)
import voluptuous as vol
import yaml  # type: ignore[import-untyped]

from .client.errors import InvalidHeaderError, OwnedHeaderError
from .client.headers import check_headers
from .client.response import text_encoding
from .control import (
    COMMAND_METHODS,
    DEFAULT_MESSAGE_PARAM,
    KIND_BUTTON,
    KIND_NOTIFY,
    KIND_SWITCH,
    PRESS,
    SEND,
    SEND_AS_FORM,
    SEND_AS_JSON,
    SEND_AS_QUERY,
    STATE,
    STATE_FROM_REQUEST,
    STATE_UNKNOWN,
    TURN_OFF,
    TURN_ON,
    ControlConfig,
    RequestConfig,
)
from .endpoint import (
    CONF_ENABLED_BY_DEFAULT,
    CONF_JSON_ATTRS,
    CONF_JSON_ATTRS_PATH,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    METHODS,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    PLATFORM_BINARY_SENSOR,
    PLATFORM_SENSOR,
    EndpointConfig,
    ValueConfig,
)
from .flow.endpoint_forms import (
    CONF_DIAGNOSTIC,
    validate_value,
    value_from_input,
    value_key,
)
from .values import BINARY_SENSOR_DEVICE_CLASSES, SENSOR_DEVICE_CLASSES

MAX_YAML_CHARS: Final = 100_000
MAX_DEPTH: Final = 20
MAX_ALIASES: Final = 100
MAX_ENTRIES: Final = 100
MAX_VALUES: Final = 300
MAX_WORK: Final = 1_000_000
# The path of what was pasted as a whole (a single entry without its key).
ROOT: Final = "$"
# Characters of a key or name shown in a path or placeholder.
MAX_SHOWN: Final = 64

# Core's defaults where ours differ (the import keeps what the YAML did).
CORE_SCAN_INTERVAL: Final = 30
CORE_TIMEOUT: Final = 10
CORE_SENSOR_NAME: Final = "REST Sensor"
CORE_BINARY_SENSOR_NAME: Final = "REST Binary Sensor"
CORE_SWITCH_NAME: Final = "REST Switch"
# A notifier without a name is core's ``notify.rest`` (its integration's name).
CORE_NOTIFY_NAME: Final = "rest"
# An endpoint of several values (or none) whose URL says nothing.
FALLBACK_ENDPOINT_NAME: Final = "REST"

# A switch candidate's keys (core's ``switch: - platform: rest``, core's defaults
# filled in; ``method`` upper-case; ``scan_interval`` in seconds).
SWITCH_FIELDS: Final = (
    "name",
    "resource",
    "state_resource",
    "method",
    "body_on",
    "body_off",
    "is_on_template",
    "headers",
    "params",
    "timeout",
    "verify_ssl",
    "scan_interval",
)
# A notify candidate's keys (core's ``notify: - platform: rest``, core's defaults
# filled in; ``method`` upper-case: GET, POST or POST_JSON). ``data`` and
# ``data_template`` are ``name → text`` (core renders both as templates; a number
# or boolean is a template of its value in a JSON body, so it stays typed).
NOTIFY_FIELDS: Final = (
    "name",
    "resource",
    "method",
    "message_param_name",
    "title_param_name",
    "data",
    "data_template",
    "headers",
    "params",
    "timeout",
    "verify_ssl",
)
NOTIFY_METHODS: Final = ("GET", "POST", "POST_JSON")
# A command candidate's keys (core's ``rest_command``, core's defaults filled in;
# ``method`` upper-case).
COMMAND_FIELDS: Final = (
    "name",
    "url",
    "method",
    "headers",
    "payload",
    "content_type",
    "timeout",
    "verify_ssl",
)

# Home Assistant's loader tags that read files, secrets, the environment or
# blueprint inputs: reported, never resolved.
REFERENCE_TAGS: Final = (
    "!secret",
    "!include",
    "!include_dir_list",
    "!include_dir_merge_list",
    "!include_dir_named",
    "!include_dir_merge_named",
    "!env_var",
    "!input",
)


class RestImportError(Exception):
    """The text cannot be imported: a translation key and its placeholders.

    Never carries the text itself (it may hold secrets): only a line number or
    the limits.
    """

    def __init__(
        self, translation_key: str, placeholders: Mapping[str, str] | None = None
    ) -> None:
        """Keep the key and placeholders of the message."""
        super().__init__(translation_key)
        self.translation_key = translation_key
        self.translation_placeholders: dict[str, str] = dict(placeholders or {})


def _too_large() -> RestImportError:
    return RestImportError(
        "yaml_too_large",
        {
            "max_chars": str(MAX_YAML_CHARS),
            "max_depth": str(MAX_DEPTH),
            "max_entries": str(MAX_ENTRIES),
            "max_values": str(MAX_VALUES),
        },
    )


# Every placeholder an import error's message may use (shown empty otherwise).
IMPORT_ERROR_PLACEHOLDERS: Final = (
    "line",
    "max_chars",
    "max_depth",
    "max_entries",
    "max_values",
)


class NoteKind(StrEnum):
    """What happened to an option that was not taken as written."""

    DROPPED = "dropped"
    UNSUPPORTED = "unsupported"
    ADJUSTED = "adjusted"
    INVALID = "invalid"


@dataclass(frozen=True, slots=True)
class ImportNote:
    """One option not taken as written: where, what happened, and why."""

    kind: NoteKind
    path: str
    reason: str
    line: int | None = None
    placeholders: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class YamlReference:
    """A ``!secret`` (or ``!include``, ``!env_var``...) met, not resolved."""

    tag: str
    # The secret's, file's or variable's name: never a value.
    name: str
    path: str
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ImportedEndpoint:
    """An endpoint to create: its name (the subentry's title) and stored data."""

    name: str
    data: dict[str, Any]
    # Where it came from (the first entry, for merged ones).
    source: str


@dataclass(frozen=True, slots=True)
class ImportResult:
    """Everything the pasted YAML maps to, and everything it did not."""

    endpoints: tuple[ImportedEndpoint, ...] = ()
    switches: tuple[dict[str, Any], ...] = ()
    notifications: tuple[dict[str, Any], ...] = ()
    commands: tuple[dict[str, Any], ...] = ()
    notes: tuple[ImportNote, ...] = ()
    references: tuple[YamlReference, ...] = ()

    def _notes(self, kind: NoteKind) -> tuple[ImportNote, ...]:
        return tuple(note for note in self.notes if note.kind is kind)

    @property
    def dropped(self) -> tuple[ImportNote, ...]:
        """Options not needed any more (the account authenticates)."""
        return self._notes(NoteKind.DROPPED)

    @property
    def unsupported(self) -> tuple[ImportNote, ...]:
        """Options with no equivalent here."""
        return self._notes(NoteKind.UNSUPPORTED)

    @property
    def adjusted(self) -> tuple[ImportNote, ...]:
        """Options taken, but changed."""
        return self._notes(NoteKind.ADJUSTED)

    @property
    def invalid(self) -> tuple[ImportNote, ...]:
        """Options left out because they are not valid."""
        return self._notes(NoteKind.INVALID)

    @property
    def secrets(self) -> tuple[YamlReference, ...]:
        """The ``!secret`` references."""
        return tuple(ref for ref in self.references if ref.tag == "!secret")


# -- reading the text ----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Reference:
    """What a reference tag loads as: its tag and name, never resolved."""

    tag: str
    name: str
    line: int


def _construct_reference(loader: Any, node: yaml.Node) -> _Reference:
    name = node.value.strip() if isinstance(node, yaml.ScalarNode) else ""
    if node.tag == "!env_var":  # "NAME default": the default is no name
        name = name.split(" ", 1)[0]
    return _Reference(node.tag, _shown(name), node.start_mark.line + 1)


def _checked_scalar(construct: Any) -> Any:
    """A scalar constructor whose refusals are YAML errors with their line."""

    def checked(loader: Any, node: yaml.Node) -> Any:
        try:
            return construct(loader, node)
        except ValueError as err:  # "2024-13-45", an int beyond Python's digits
            raise yaml.constructor.ConstructorError(
                None, None, "invalid scalar", node.start_mark
            ) from err

    return checked


class _PasteLoader(FastSafeLoader):
    """Home Assistant's safe loader, reading nothing but the text.

    ``homeassistant.util.yaml.parse_yaml`` on a string refuses ``!secret``
    (no secrets), opens ``!include`` files relative to the working directory
    and reads ``!env_var`` from the environment: here each of them (and
    ``!input``) loads as a :class:`_Reference`.
    """


for _tag in REFERENCE_TAGS:
    _PasteLoader.add_constructor(_tag, _construct_reference)
# Implicit scalars that match their pattern and still fail.
for _tag, _construct in (
    ("tag:yaml.org,2002:int", yaml.constructor.SafeConstructor.construct_yaml_int),
    (
        "tag:yaml.org,2002:timestamp",
        yaml.constructor.SafeConstructor.construct_yaml_timestamp,
    ),
):
    _PasteLoader.add_constructor(_tag, _checked_scalar(_construct))
# Explicit tags taken: none but the references (None: no tag written).
_ALLOWED_TAGS = frozenset({None, *REFERENCE_TAGS})


def _error_line(err: Any, text: str) -> int:
    mark = getattr(err, "problem_mark", None) or getattr(err, "context_mark", None)
    if mark is not None:
        return int(mark.line) + 1
    # Where a character could not be encoded, a ReaderError's position, or none.
    if isinstance(err, UnicodeEncodeError):
        position = err.start
    else:
        position = getattr(err, "position", 0)
    return text.count("\n", 0, position) + 1


def _check_shape(text: str) -> None:
    """Refuse deep nesting and many aliases before anything is built.

    Events come one at a time (libyaml's parser keeps its own stack), so this
    stops at the first level too deep: building the tree, and libyaml's flow
    collections, take time and stack in the depth.
    """
    depth = aliases = 0
    for event in yaml.parse(text, Loader=_PasteLoader):
        if getattr(event, "tag", None) not in _ALLOWED_TAGS:
            # PyYAML's constructors of explicit tags (``!!int``, ``!!map``...)
            # fail in every way on the wrong node; Home Assistant uses none.
            raise RestImportError(
                "yaml_invalid", {"line": str(event.start_mark.line + 1)}
            )
        if isinstance(event, yaml.CollectionStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise _too_large()
        elif isinstance(event, yaml.CollectionEndEvent):
            depth -= 1
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise _too_large()


def _load(text: str) -> Any:
    if len(text) > MAX_YAML_CHARS:
        raise _too_large()
    try:
        _check_shape(text)
        # Home Assistant's safe loader, and its reference tags never resolved.
        return yaml.load(text, Loader=_PasteLoader)  # noqa: S506
    except (yaml.YAMLError, YAMLException, UnicodeEncodeError) as err:
        raise RestImportError(
            "yaml_invalid", {"line": str(_error_line(err, text))}
        ) from None


# -- helpers -------------------------------------------------------------------------

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
_TEMPLATE = TemplateSelector()
_SWITCH_ONLY = frozenset({"body_on", "body_off", "is_on_template", "state_resource"})
_NOTIFY_ONLY = frozenset(
    {
        "message_param_name",
        "title_param_name",
        "target_param_name",
        "data",
        "data_template",
    }
)
_SENSOR_ONLY = frozenset(
    {"unit_of_measurement", "state_class", "json_attributes", "json_attributes_path"}
)
_RESOURCE = ("resource", "resource_template")
_AUTH = frozenset({"authentication", "username", "password"})
_REQUEST = frozenset(
    {
        *_RESOURCE,
        "method",
        "payload",
        "payload_template",
        "params",
        "headers",
        "verify_ssl",
        "timeout",
        "encoding",
        "scan_interval",
    }
)
_REQUEST_NO_EQUIVALENT = frozenset({"ssl_cipher_list"})
_VALUE = {
    PLATFORM_SENSOR: frozenset(
        {
            "name",
            "value_template",
            "json_attributes",
            "json_attributes_path",
            "availability",
            "icon",
            "picture",
            "device_class",
            "state_class",
            "unit_of_measurement",
            "force_update",
        }
    ),
    PLATFORM_BINARY_SENSOR: frozenset(
        {
            "name",
            "value_template",
            "json_attributes",
            "json_attributes_path",
            "availability",
            "icon",
            "picture",
            "device_class",
            "force_update",
        }
    ),
}
_PLATFORM_NO_EQUIVALENT = frozenset({"entity_namespace"})
_SWITCH = frozenset({*SWITCH_FIELDS, "platform"})
_SWITCH_NO_EQUIVALENT = frozenset(
    {"icon", "picture", "availability", "device_class", "entity_namespace"}
)
_NOTIFY = frozenset({*NOTIFY_FIELDS, "platform"})
_NOTIFY_NO_EQUIVALENT = frozenset({"target_param_name"})
_COMMAND = frozenset(COMMAND_FIELDS) - {"name"}
_COMMAND_NO_EQUIVALENT = frozenset({"insecure_cipher", "skip_url_encoding"})
_DEVICE_CLASSES = {
    PLATFORM_SENSOR: frozenset(SENSOR_DEVICE_CLASSES),
    PLATFORM_BINARY_SENSOR: frozenset(BINARY_SENSOR_DEVICE_CLASSES),
}
_STATE_CLASSES = frozenset(c.value for c in SensorStateClass)
_DEFAULT_NAMES = {
    PLATFORM_SENSOR: CORE_SENSOR_NAME,
    PLATFORM_BINARY_SENSOR: CORE_BINARY_SENSOR_NAME,
}
# What core's cv.string takes as text (bool is an int).
_SCALARS = (str, int, float, date)


def _shown(text: str) -> str:
    return text if len(text) <= MAX_SHOWN else text[: MAX_SHOWN - 1] + "…"


def _join(path: str, key: Any) -> str:
    text = _shown(str(key))
    if _PLAIN_KEY.fullmatch(text):
        return f"{path}.{text}" if path else text
    return f"{path}[{json.dumps(text, ensure_ascii=False)}]"


def _line(obj: Any) -> int | None:
    line = getattr(obj, "__line__", None)
    return line if isinstance(line, int) else None


def _is_resource(entry: Mapping[Any, Any]) -> bool:
    return any(key in entry for key in _RESOURCE)


def _is_notify(entry: Mapping[Any, Any]) -> bool:
    """A notifier's options, or its method ``POST_JSON`` (no other's)."""
    method = entry.get("method")
    return bool(_NOTIFY_ONLY.intersection(entry)) or (
        isinstance(method, str) and method.strip().upper() == "POST_JSON"
    )


def _is_command(entry: Any) -> bool:
    return isinstance(entry, Mapping) and "url" in entry and not _is_resource(entry)


def _without_user_info(url: str) -> tuple[str, bool]:
    """``url`` without ``user:password@`` (which would be sent as Basic auth)."""
    scheme, sep, rest = url.partition("://")
    if not sep or not scheme.isalpha():
        return url, False
    end = len(rest)
    for stop in "/?#":
        if (index := rest.find(stop)) != -1:
            end = min(end, index)
    authority = rest[:end]
    if "@" not in authority:
        return url, False
    return f"{scheme}://{authority.rpartition('@')[2]}{rest[end:]}", True


def _url_name(url: str) -> str:
    """A name for an endpoint from its URL: host and path, no query, no template."""
    for start in ("{{", "{%", "{#"):
        url = url.split(start, 1)[0]
    url = _without_user_info(url)[0]
    scheme, sep, rest = url.partition("://")
    text = rest if sep else scheme
    text = re.split(r"[?#]", text, maxsplit=1)[0].strip("/ ")
    return _shown(text) if text else FALLBACK_ENDPOINT_NAME


def _field_text(value: Any, *, as_json: bool) -> Any:
    """A notifier's extra field: a number or a boolean as core sends it.

    In a JSON body core sends it typed: here a template of it (a JSON body's
    templates render as types); elsewhere as text, booleans lower-case (as
    core's HTTP client writes them). Anything else is returned as it is.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, (int, float)) and math.isfinite(value):
        text = str(value)
    else:
        return value
    return "{{ " + text + " }}" if as_json else text


# -- the walk ------------------------------------------------------------------------


@dataclass(slots=True)
class _Endpoint:
    request: EndpointConfig
    values: list[ValueConfig]
    source: str
    from_platform: bool


class _Import:
    """One import: what was found, what was said about it, and the work done."""

    def __init__(self) -> None:
        self.endpoints: list[_Endpoint] = []
        self.switches: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        self.commands: list[dict[str, Any]] = []
        self.notes: list[ImportNote] = []
        self.references: list[YamlReference] = []
        self._key_lines: dict[int, dict[Any, int | None]] = {}
        self._work = 0
        self._entries = 0
        self._values = 0

    # Bookkeeping.

    def spend(self, amount: int = 1) -> None:
        self._work += amount
        if self._work > MAX_WORK:
            raise _too_large()

    def entry(self) -> None:
        self._entries += 1
        if self._entries > MAX_ENTRIES:
            raise _too_large()

    def note(
        self,
        kind: NoteKind,
        path: str,
        reason: str,
        line: int | None = None,
        **placeholders: str,
    ) -> None:
        self.spend()
        self.notes.append(ImportNote(kind, path or ROOT, reason, line, placeholders))

    def reference(self, ref: _Reference, path: str) -> None:
        self.spend()
        self.references.append(YamlReference(ref.tag, ref.name, path or ROOT, ref.line))

    def items(self, value: Any, path: str) -> Iterator[tuple[Any, str]]:
        """A list's items (or one mapping, as core's ``ensure_list``) with paths."""
        if isinstance(value, _Reference):
            self.reference(value, path)
        elif isinstance(value, list):
            for index, item in enumerate(value):
                self.spend()
                if isinstance(item, _Reference):
                    self.reference(item, f"{path}[{index}]")
                else:
                    yield item, f"{path}[{index}]"
        elif isinstance(value, Mapping):
            yield value, path
        elif value is not None:
            self.note(NoteKind.INVALID, path, "invalid_value", _line(value))

    def keys(
        self,
        entry: Mapping[Any, Any],
        path: str,
        known: frozenset[str],
        no_equivalent: frozenset[str] = frozenset(),
    ) -> None:
        """Report every key of ``entry`` not in ``known``: none is lost silently."""
        for key, value in entry.items():
            self.spend()
            if key in known:
                continue
            where = _join(path, key)
            line = _line(key)
            if isinstance(value, _Reference):
                self.reference(value, where)
            if key in _AUTH:
                self.note(NoteKind.DROPPED, where, "account_auth", line)
            elif key == "unique_id":
                self.note(NoteKind.DROPPED, where, "automatic", line)
            elif key in no_equivalent:
                self.note(NoteKind.UNSUPPORTED, where, "no_equivalent", line)
            else:
                self.note(NoteKind.UNSUPPORTED, where, "unknown_option", line)

    # Reading one field.

    def raw(self, entry: Mapping[Any, Any], key: Any, path: str) -> Any:
        """``entry[key]``; None when absent, empty or a reference (reported)."""
        value = entry.get(key)
        if isinstance(value, _Reference):
            self.reference(value, _join(path, key))
            return None
        return value

    def text(self, entry: Mapping[Any, Any], key: Any, path: str) -> str | None:
        """A string option (numbers and dates as text, as core's ``cv.string``)."""
        value = self.raw(entry, key, path)
        if value is None:
            return None
        if not isinstance(value, _SCALARS):
            self.invalid(entry, key, path)
            return None
        result = str(cv.string(value))
        self.spend(len(result))
        return result

    def invalid(
        self,
        entry: Mapping[Any, Any],
        key: Any,
        path: str,
        reason: str = "invalid_value",
    ) -> None:
        self.note(NoteKind.INVALID, _join(path, key), reason, self.key_line(entry, key))

    def key_line(self, entry: Mapping[Any, Any], key: Any) -> int | None:
        """The line of ``key`` in ``entry`` (its keys' lines read once per mapping)."""
        lines = self._key_lines.get(id(entry))
        if lines is None:
            self.spend(len(entry))
            lines = self._key_lines[id(entry)] = {k: _line(k) for k in entry}
        return lines.get(key)

    def template(
        self, entry: Mapping[Any, Any], key: Any, path: str, *, strip: bool = True
    ) -> str | None:
        """A template option, checked as the flow's template selector checks it."""
        text = self.text(entry, key, path)
        if text is None:
            return None
        if not is_template_string(text):
            return text.strip() if strip else text
        try:
            return str(_TEMPLATE(text))
        except vol.Invalid, RecursionError:  # jinja's parser recurses per level
            self.invalid(entry, key, path, "invalid_template")
            return None

    def boolean(self, entry: Mapping[Any, Any], key: Any, path: str) -> bool | None:
        value = self.raw(entry, key, path)
        if value is None:
            return None
        try:
            return bool(cv.boolean(value))
        except vol.Invalid:
            self.invalid(entry, key, path)
            return None

    def seconds(
        self,
        entry: Mapping[Any, Any],
        key: str,
        path: str,
        default: int,
        bounds: tuple[int, int],
    ) -> int:
        """A duration in whole seconds (core's time period), within ``bounds``."""
        value = self.raw(entry, key, path)
        if value is None:
            return default
        seconds: float
        try:
            if key == "scan_interval":
                seconds = cv.time_period(value).total_seconds()
            elif isinstance(value, bool) or not isinstance(value, (int, float, str)):
                raise vol.Invalid("not a number")  # noqa: TRY301
            else:
                seconds = float(value)
        except vol.Invalid, OverflowError, ValueError:
            self.invalid(entry, key, path)
            return default
        if math.isnan(seconds):
            self.invalid(entry, key, path)
            return default
        low, high = bounds
        used = math.ceil(min(max(seconds, low), high))  # infinity too
        if used != seconds:
            shown = str(int(seconds)) if seconds.is_integer() else str(seconds)
            self.note(
                NoteKind.ADJUSTED,
                _join(path, key),
                "clamped",
                self.key_line(entry, key),
                value=_shown(shown),
                used=str(used),
            )
        return used

    def method(
        self,
        entry: Mapping[Any, Any],
        path: str,
        default: str,
        allowed: tuple[str, ...],
    ) -> str:
        text = self.text(entry, "method", path)
        if text is None:
            return default
        if (method := text.strip().upper()) in allowed:
            return method
        self.invalid(entry, "method", path)
        return default

    def url(self, entry: Mapping[Any, Any], key: Any, path: str) -> str | None:
        """A URL (a template or not), without user info (dropped, said so)."""
        url = self.template(entry, key, path)
        if url is None:
            return None
        if "\n" in url or "\r" in url:
            self.invalid(entry, key, path)
            return None
        url, had_user_info = _without_user_info(url)
        if had_user_info:
            self.note(
                NoteKind.DROPPED,
                _join(path, key),
                "account_auth",
                self.key_line(entry, key),
            )
        return url

    def lines(
        self,
        entry: Mapping[Any, Any],
        key: str,
        path: str,
        *,
        headers: bool,
        static: bool = False,
    ) -> dict[str, str]:
        """Query parameters or headers (values may be templates).

        What the form's ``name=value`` / ``Name: value`` lines cannot hold (a
        line break, a parameter name with ``=``) is invalid; owned headers are
        dropped (``Authorization``: the account's), as the form refuses them.
        ``static``: core sends the values as written (:meth:`literal`).
        """
        value = self.raw(entry, key, path)
        if value is None:
            return {}
        where = _join(path, key)
        if not isinstance(value, Mapping):
            self.invalid(entry, key, path)
            return {}
        result: dict[str, str] = {}
        for name, item in value.items():
            self.spend()
            item_path = _join(where, name)
            line = _line(name)
            if not isinstance(name, _SCALARS):
                self.note(NoteKind.INVALID, item_path, "invalid_value", line)
                continue
            name_text = str(name).strip()
            if headers:
                try:
                    check_headers({name_text: ""})
                except OwnedHeaderError:
                    reason = (
                        "account_auth"
                        if name_text.lower() == "authorization"
                        else "owned_header"
                    )
                    if isinstance(item, _Reference):
                        self.reference(item, item_path)
                    self.note(
                        NoteKind.DROPPED,
                        item_path,
                        reason,
                        line,
                        header=_shown(name_text),
                    )
                    continue
                except InvalidHeaderError:
                    self.note(NoteKind.INVALID, item_path, "invalid_value", line)
                    continue
            elif not name_text or "=" in name_text or "\n" in name_text:
                self.note(NoteKind.INVALID, item_path, "invalid_value", line)
                continue
            if static:
                text = self.literal(value, name, where, "static_text")
                text = None if text is None else text.strip()
            else:
                text = self.template(value, name, where)
            if text is None:
                continue
            if "\n" in text or "\r" in text:
                self.note(NoteKind.INVALID, item_path, "invalid_value", line)
                continue
            if headers:
                try:
                    check_headers({name_text: text})
                except InvalidHeaderError:
                    self.note(NoteKind.INVALID, item_path, "invalid_value", line)
                    continue
            result[name_text] = text
        return result

    # Endpoints.

    def request(self, entry: Mapping[Any, Any], path: str) -> EndpointConfig:
        """The request part of a core resource or platform entry."""
        url: str | None = None
        present = [key for key in _RESOURCE if key in entry]
        for key in present:
            candidate = self.url(entry, key, path)
            if url is None:
                url = candidate
            else:
                self.invalid(entry, key, path, "conflict")
        if url is None:
            self.note(NoteKind.INVALID, path, "url_missing", _line(entry))
        body: str | None = None
        if "payload" in entry and "payload_template" in entry:
            self.invalid(entry, "payload_template", path, "conflict")
        if "payload" in entry:
            body = self.payload(entry, path)
        elif "payload_template" in entry:
            body = self.template(entry, "payload_template", path, strip=False)
        encoding = self.text(entry, "encoding", path)
        if encoding is not None:
            encoding = encoding.strip()
            if text_encoding(encoding) is None:
                self.invalid(entry, "encoding", path)
                encoding = None
        verify_ssl = self.boolean(entry, "verify_ssl", path)
        return EndpointConfig(
            name="",
            method=self.method(entry, path, "GET", ("GET", "POST")),
            url=url or "",
            params=self.lines(entry, "params", path, headers=False),
            headers=self.lines(entry, "headers", path, headers=True),
            body=body or None,
            scan_interval=timedelta(
                seconds=self.seconds(
                    entry,
                    "scan_interval",
                    path,
                    CORE_SCAN_INTERVAL,
                    (MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL),
                )
            ),
            timeout=float(
                self.seconds(
                    entry, "timeout", path, CORE_TIMEOUT, (MIN_TIMEOUT, MAX_TIMEOUT)
                )
            ),
            encoding=encoding or None,
            verify_ssl=verify_ssl is not False,
        )

    def payload(self, entry: Mapping[Any, Any], path: str) -> str | None:
        """Core's ``payload``: plain text there, so a template here only in ``raw``."""
        return self.literal(entry, "payload", path, "static_payload")

    def literal(
        self, entry: Mapping[Any, Any], key: Any, path: str, reason: str
    ) -> str | None:
        """Text core sends as written: template characters kept in ``{% raw %}``.

        Said so (``reason``); text that would end the ``raw`` block is invalid.
        """
        text = self.text(entry, key, path)
        if text is None or not is_template_string(text):
            return text
        if "endraw" in text:
            self.invalid(entry, key, path)
            return None
        self.note(
            NoteKind.ADJUSTED, _join(path, key), reason, self.key_line(entry, key)
        )
        return "{% raw %}" + text + "{% endraw %}"

    def value(
        self,
        entry: Mapping[Any, Any],
        path: str,
        platform: str,
        taken: list[ValueConfig],
    ) -> ValueConfig | None:
        """One sensor or binary sensor, built as the value form builds it."""
        self._values += 1
        if self._values > MAX_VALUES:
            raise _too_large()
        name = self.text(entry, CONF_NAME, path)
        name = (name or "").strip() or _DEFAULT_NAMES[platform]
        if is_template_string(name):
            self.note(
                NoteKind.ADJUSTED,
                _join(path, CONF_NAME),
                "name_template",
                self.key_line(entry, CONF_NAME),
            )
        # None: core's sensor shows the response as it is.
        value_template: str | None = "{{ value }}"
        if entry.get(CONF_VALUE_TEMPLATE) is not None:
            value_template = self.template(entry, CONF_VALUE_TEMPLATE, path)
            if value_template is None:
                return None  # invalid or unresolved: said so
        sensor = platform == PLATFORM_SENSOR
        user_input: dict[str, Any] = {
            CONF_NAME: name,
            CONF_VALUE_TEMPLATE: value_template,
            CONF_JSON_ATTRS: self.attributes(entry, path),
            CONF_JSON_ATTRS_PATH: self.text(entry, CONF_JSON_ATTRS_PATH, path),
            CONF_DEVICE_CLASS: self.choice(
                entry, CONF_DEVICE_CLASS, path, _DEVICE_CLASSES[platform]
            ),
            CONF_AVAILABILITY: self.template(entry, CONF_AVAILABILITY, path),
            CONF_ICON: self.template(entry, CONF_ICON, path),
            CONF_PICTURE: self.template(entry, CONF_PICTURE, path),
            CONF_FORCE_UPDATE: bool(self.boolean(entry, CONF_FORCE_UPDATE, path)),
            CONF_DIAGNOSTIC: False,
            CONF_ENABLED_BY_DEFAULT: True,
        }
        if sensor:
            user_input[CONF_UNIT_OF_MEASUREMENT] = self.text(
                entry, CONF_UNIT_OF_MEASUREMENT, path
            )
            user_input[CONF_STATE_CLASS] = self.choice(
                entry, CONF_STATE_CLASS, path, _STATE_CLASSES
            )
        others = {value.name.casefold() for value in taken}
        errors = validate_value(user_input, others)
        if CONF_JSON_ATTRS_PATH in errors:
            self.invalid(entry, CONF_JSON_ATTRS_PATH, path)
            user_input[CONF_JSON_ATTRS_PATH] = None
        if errors.get(CONF_NAME) == "duplicate_name":
            used, number = name, 2
            while used.casefold() in others:
                used, number = f"{name} {number}", number + 1
            self.note(
                NoteKind.ADJUSTED,
                _join(path, CONF_NAME),
                "renamed",
                self.key_line(entry, CONF_NAME),
                name=_shown(name),
                used=_shown(used),
            )
            user_input[CONF_NAME] = used
        name = user_input[CONF_NAME]
        return value_from_input(user_input, platform, value_key(name, taken))

    def attributes(self, entry: Mapping[Any, Any], path: str) -> list[str]:
        """``json_attributes``: a list, or comma-separated text (core's)."""
        value = self.raw(entry, CONF_JSON_ATTRS, path)
        if value is None:
            return []
        if isinstance(value, str):
            self.spend(len(value))
            return [member.strip() for member in value.split(",") if member.strip()]
        if not isinstance(value, list):
            self.invalid(entry, CONF_JSON_ATTRS, path)
            return []
        result = []
        where = _join(path, CONF_JSON_ATTRS)
        for index, item in enumerate(value):
            self.spend()
            if isinstance(item, _Reference):
                self.reference(item, f"{where}[{index}]")
            elif isinstance(item, _SCALARS) and (text := str(item).strip()):
                self.spend(len(text))
                result.append(text)
            else:
                self.note(NoteKind.INVALID, f"{where}[{index}]", "invalid_value")
        return result

    def choice(
        self,
        entry: Mapping[Any, Any],
        key: str,
        path: str,
        choices: frozenset[str],
    ) -> str | None:
        text = self.text(entry, key, path)
        if text is None:
            return None
        if (lowered := text.strip().lower()) in choices:
            return lowered
        self.invalid(entry, key, path)
        return None

    def resource(self, entry: Any, path: str) -> None:
        """A core ``rest:`` resource with its sensor and binary sensor lists."""
        if not isinstance(entry, Mapping):
            self.note(NoteKind.INVALID, path, "invalid_value", _line(entry))
            return
        self.entry()
        self.keys(
            entry,
            path,
            _REQUEST | {PLATFORM_SENSOR, PLATFORM_BINARY_SENSOR},
            _REQUEST_NO_EQUIVALENT,
        )
        request = self.request(entry, path)
        values: list[ValueConfig] = []
        for platform in (PLATFORM_SENSOR, PLATFORM_BINARY_SENSOR):
            for item, item_path in self.items(
                entry.get(platform), _join(path, platform)
            ):
                if not isinstance(item, Mapping):
                    self.note(NoteKind.INVALID, item_path, "invalid_value")
                    continue
                self.keys(item, item_path, _VALUE[platform])
                if (value := self.value(item, item_path, platform, values)) is not None:
                    values.append(value)
        self.endpoints.append(_Endpoint(request, values, path, from_platform=False))

    def platform_entry(self, entry: Any, path: str, domain: str | None) -> None:
        """A ``- platform: ...`` entry of ``domain`` (None: not said, guessed)."""
        if not isinstance(entry, Mapping):
            self.note(NoteKind.INVALID, path, "invalid_value", _line(entry))
            return
        platform = entry.get("platform", "rest")
        if platform != "rest":
            self.note(NoteKind.UNSUPPORTED, path, "other_platform", _line(entry))
            return
        if domain is None:
            domain = self.guess_domain(entry, path)
        if domain == "switch":
            self.switch(entry, path)
        elif domain == "notify":
            self.notify(entry, path)
        else:
            self.sensor_entry(entry, path, domain)

    def guess_domain(self, entry: Mapping[Any, Any], path: str) -> str:
        if _SWITCH_ONLY.intersection(entry):
            return "switch"
        if _is_notify(entry):
            return "notify"
        if _SENSOR_ONLY.intersection(entry):
            return PLATFORM_SENSOR
        device_class = entry.get(CONF_DEVICE_CLASS)
        if (
            isinstance(device_class, str)
            and device_class.lower() in _DEVICE_CLASSES[PLATFORM_BINARY_SENSOR]
            and device_class.lower() not in _DEVICE_CLASSES[PLATFORM_SENSOR]
        ):
            return PLATFORM_BINARY_SENSOR
        self.note(NoteKind.ADJUSTED, path, "assumed_sensor", _line(entry))
        return PLATFORM_SENSOR

    def sensor_entry(self, entry: Mapping[Any, Any], path: str, platform: str) -> None:
        """A ``sensor``/``binary_sensor`` ``- platform: rest`` entry: one value.

        Entries making the same request share one endpoint.
        """
        self.entry()
        self.keys(
            entry,
            path,
            _REQUEST | _VALUE[platform] | {"platform"},
            _REQUEST_NO_EQUIVALENT | _PLATFORM_NO_EQUIVALENT,
        )
        request = self.request(entry, path)
        target = next(
            (
                endpoint
                for endpoint in self.endpoints
                if endpoint.from_platform
                and endpoint.request == request
                and endpoint.request.url
            ),
            None,
        )
        if target is None:
            target = _Endpoint(request, [], path, from_platform=True)
            self.endpoints.append(target)
        else:
            self.note(NoteKind.ADJUSTED, path, "merged", _line(entry))
        if (value := self.value(entry, path, platform, target.values)) is not None:
            target.values.append(value)

    # Candidates.

    def switch(self, entry: Mapping[Any, Any], path: str) -> None:
        """A ``switch: - platform: rest`` entry: a switch candidate."""
        self.entry()
        self.keys(entry, path, _SWITCH, _SWITCH_NO_EQUIVALENT)
        url = self.url(entry, "resource", path)
        if url is None:
            self.note(NoteKind.INVALID, path, "url_missing", _line(entry))
        name = (self.text(entry, CONF_NAME, path) or "").strip()
        self.switches.append(
            {
                "name": name or CORE_SWITCH_NAME,
                "resource": url or "",
                "state_resource": self.url(entry, "state_resource", path),
                "method": self.method(entry, path, "POST", ("POST", "PUT", "PATCH")),
                "body_on": self.template(entry, "body_on", path, strip=False) or "ON",
                "body_off": self.template(entry, "body_off", path, strip=False)
                or "OFF",
                "is_on_template": self.template(entry, "is_on_template", path),
                "headers": self.lines(entry, "headers", path, headers=True),
                "params": self.lines(entry, "params", path, headers=False),
                "timeout": self.seconds(
                    entry, "timeout", path, CORE_TIMEOUT, (MIN_TIMEOUT, MAX_TIMEOUT)
                ),
                "verify_ssl": self.boolean(entry, "verify_ssl", path) is not False,
                "scan_interval": self.seconds(
                    entry,
                    "scan_interval",
                    path,
                    CORE_SCAN_INTERVAL,
                    (MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL),
                ),
            }
        )

    def notify(self, entry: Mapping[Any, Any], path: str) -> None:
        """A ``notify: - platform: rest`` entry: a notify candidate.

        Core sends its headers and query parameters as written (never
        rendered): template characters in them are kept as text.
        """
        self.entry()
        self.keys(entry, path, _NOTIFY, _NOTIFY_NO_EQUIVALENT)
        url = self.url(entry, "resource", path)
        if url is None:
            self.note(NoteKind.INVALID, path, "url_missing", _line(entry))
        name = (self.text(entry, CONF_NAME, path) or "").strip()
        method = self.method(entry, path, "GET", NOTIFY_METHODS)
        as_json = method == "POST_JSON"
        message_param = (self.text(entry, "message_param_name", path) or "").strip()
        if not message_param and entry.get("message_param_name") is not None:
            self.invalid(entry, "message_param_name", path)
        title_param = (self.text(entry, "title_param_name", path) or "").strip()
        self.notifications.append(
            {
                "name": name or CORE_NOTIFY_NAME,
                "resource": url or "",
                "method": method,
                "message_param_name": message_param or DEFAULT_MESSAGE_PARAM,
                "title_param_name": title_param or None,
                "data": self.fields(entry, "data", path, as_json=as_json),
                "data_template": self.fields(
                    entry, "data_template", path, as_json=as_json
                ),
                "headers": self.lines(
                    entry, "headers", path, headers=True, static=True
                ),
                "params": self.lines(entry, "params", path, headers=False, static=True),
                "timeout": self.seconds(
                    entry, "timeout", path, CORE_TIMEOUT, (MIN_TIMEOUT, MAX_TIMEOUT)
                ),
                "verify_ssl": self.boolean(entry, "verify_ssl", path) is not False,
            }
        )

    def fields(
        self, entry: Mapping[Any, Any], key: str, path: str, *, as_json: bool
    ) -> dict[str, str]:
        """A notifier's ``data``/``data_template``: extra fields, ``name → text``.

        Core renders the text of both as templates (seeing ``message`` and
        ``title``), as the control does. A number or a boolean is sent typed in
        a JSON body (here: a template of it) and as text in a form or the query;
        a list or a mapping has no equivalent (an extra field is one line).
        """
        value = self.raw(entry, key, path)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            self.invalid(entry, key, path)
            return {}
        where = _join(path, key)
        texts: dict[Any, Any] = {}
        for name, item in value.items():
            self.spend()
            if isinstance(item, (Mapping, list)):
                self.note(
                    NoteKind.UNSUPPORTED,
                    _join(where, name),
                    "no_equivalent",
                    _line(name),
                )
            else:
                texts[name] = _field_text(item, as_json=as_json)
        return self.lines({key: texts}, key, path, headers=False)

    def command(self, name: str | None, entry: Any, path: str) -> None:
        """A ``rest_command`` entry: a command candidate (no name: the URL's)."""
        if not isinstance(entry, Mapping):
            self.note(NoteKind.INVALID, path, "invalid_value", _line(entry))
            return
        self.entry()
        self.keys(entry, path, _COMMAND, _COMMAND_NO_EQUIVALENT)
        url = self.url(entry, "url", path)
        if url is None:
            self.note(NoteKind.INVALID, path, "url_missing", _line(entry))
        content_type = self.text(entry, "content_type", path)
        self.commands.append(
            {
                "name": name or _url_name(url or ""),
                "url": url or "",
                "method": self.method(entry, path, "GET", (*METHODS, "HEAD")),
                "headers": self.lines(entry, "headers", path, headers=True),
                "payload": self.template(entry, "payload", path, strip=False),
                "content_type": content_type.strip() if content_type else None,
                "timeout": self.seconds(
                    entry, "timeout", path, CORE_TIMEOUT, (MIN_TIMEOUT, MAX_TIMEOUT)
                ),
                "verify_ssl": self.boolean(entry, "verify_ssl", path) is not False,
            }
        )

    def command_map(self, value: Any, path: str) -> None:
        """``rest_command``'s mapping: name → command."""
        if isinstance(value, _Reference):
            self.reference(value, path)
            return
        if not isinstance(value, Mapping):
            self.note(NoteKind.INVALID, path, "invalid_value", _line(value))
            return
        for name, entry in value.items():
            self.spend()
            where = _join(path, name)
            if isinstance(entry, _Reference):
                self.reference(entry, where)
            else:
                self.command(_shown(str(name)), entry, where)

    # Where to start.

    def root(self, root: Any) -> None:
        if isinstance(root, list):
            for item, path in self.items(root, ""):
                self.bare(item, path)
        elif isinstance(root, Mapping):
            if _is_resource(root) or _is_command(root):
                self.bare(root, "")
            elif any(_is_command(entry) for entry in root.values()) and all(
                _is_command(entry) or isinstance(entry, _Reference)
                for entry in root.values()
            ):
                self.command_map(root, "")
            else:
                self.config(root)

    def bare(self, entry: Any, path: str) -> None:
        """An entry without its top-level key: the shape says which it is."""
        if not isinstance(entry, Mapping):
            self.note(NoteKind.INVALID, path, "invalid_value", _line(entry))
        elif _is_resource(entry):
            if PLATFORM_SENSOR in entry or PLATFORM_BINARY_SENSOR in entry:
                self.resource(entry, path)
            elif (
                "platform" in entry
                or _is_notify(entry)
                or any(key in entry for key in _VALUE[PLATFORM_SENSOR] | _SWITCH_ONLY)
            ):
                self.platform_entry(entry, path, None)
            else:
                self.resource(entry, path)
        elif _is_command(entry):
            self.command(None, entry, path)
        elif entry.get("platform", "rest") != "rest":
            self.note(NoteKind.UNSUPPORTED, path, "other_platform", _line(entry))
        else:
            self.note(NoteKind.INVALID, path, "url_missing", _line(entry))

    def config(self, root: Mapping[Any, Any]) -> None:
        """``configuration.yaml``-style: integrations by their top-level key."""
        for key, value in root.items():
            self.spend()
            path = _join("", key)
            domain = str(key).split(" ", 1)[0]  # "sensor 2:" is sensor's too
            if domain == "rest":
                for item, item_path in self.items(value, path):
                    self.resource(item, item_path)
            elif domain in (
                PLATFORM_SENSOR,
                PLATFORM_BINARY_SENSOR,
                "switch",
                "notify",
            ):
                for item, item_path in self.items(value, path):
                    self.platform_entry(item, item_path, domain)
            elif domain == "rest_command":
                self.command_map(value, path)
            else:
                self.note(NoteKind.UNSUPPORTED, path, "other_integration", _line(key))

    def result(self) -> ImportResult:
        endpoints = []
        for endpoint in self.endpoints:
            values = endpoint.values
            name = (
                values[0].name if len(values) == 1 else _url_name(endpoint.request.url)
            )
            config = EndpointConfig(
                name=name,
                method=endpoint.request.method,
                url=endpoint.request.url,
                params=endpoint.request.params,
                headers=endpoint.request.headers,
                body=endpoint.request.body,
                scan_interval=endpoint.request.scan_interval,
                timeout=endpoint.request.timeout,
                encoding=endpoint.request.encoding,
                verify_ssl=endpoint.request.verify_ssl,
                values=tuple(values),
            )
            endpoints.append(
                ImportedEndpoint(name, config.to_data(), endpoint.source or ROOT)
            )
        return ImportResult(
            endpoints=tuple(endpoints),
            switches=tuple(self.switches),
            notifications=tuple(self.notifications),
            commands=tuple(self.commands),
            notes=tuple(self.notes),
            references=tuple(self.references),
        )


def parse_rest_yaml(text: str) -> ImportResult:
    """What core ``rest``/``rest_command`` YAML maps to here; see the module.

    Raises RestImportError: ``yaml_invalid`` (``line``), ``yaml_too_large``
    (the limits) or ``yaml_nothing_to_import``.
    """
    importer = _Import()
    importer.root(_load(text))
    result = importer.result()
    if not (
        result.endpoints or result.switches or result.notifications or result.commands
    ):
        raise RestImportError("yaml_nothing_to_import")
    return result


# -- candidates as controls ------------------------------------------------------------

# How core rest notify's methods send the message.
_SEND_AS: Final = {
    "GET": SEND_AS_QUERY,
    "POST": SEND_AS_FORM,
    "POST_JSON": SEND_AS_JSON,
}


def switch_control(candidate: Mapping[str, Any]) -> ControlConfig:
    """A ``switch: platform: rest`` candidate as a switch control.

    ``body_on``/``body_off`` are the bodies of the turn-on and turn-off requests
    (core sends both to ``resource`` with ``method``); the state is read from
    ``state_resource`` (else ``resource``) with ``is_on_template``. Without one,
    core compares the answer with ``body_on``: so does the state template when
    ``body_on`` is plain text; a templated ``body_on`` leaves the state assumed.
    """
    headers = dict(candidate.get("headers") or {})
    params = dict(candidate.get("params") or {})

    def request(url: str, method: str, body: str | None) -> RequestConfig:
        return RequestConfig(
            method=method, url=url, params=params, headers=headers, body=body
        )

    body_on = candidate.get("body_on")
    is_on = candidate.get("is_on_template")
    if not is_on and body_on and not is_template_string(body_on):
        is_on = "{{ value == " + json.dumps(body_on) + " }}"
    requests = {
        TURN_ON: request(candidate["resource"], candidate["method"], body_on),
        TURN_OFF: request(
            candidate["resource"], candidate["method"], candidate.get("body_off")
        ),
    }
    state_source = STATE_UNKNOWN
    if is_on:
        state_source = STATE_FROM_REQUEST
        requests[STATE] = request(
            candidate.get("state_resource") or candidate["resource"], "GET", None
        )
    return ControlConfig(
        name=candidate["name"],
        kind=KIND_SWITCH,
        requests=requests,
        timeout=float(candidate["timeout"]),
        verify_ssl=bool(candidate["verify_ssl"]),
        state_source=state_source,
        is_on_template=is_on or None,
        scan_interval=timedelta(seconds=int(candidate["scan_interval"])),
    )


def command_control(candidate: Mapping[str, Any]) -> ControlConfig:
    """A ``rest_command`` candidate as a button: its request sent at each press.

    ``content_type`` becomes the Content-Type header; a HEAD (headers only, which
    a button has no use for) is sent as a GET. The call's variables of
    ``rest_command`` do not exist for a button: a payload template using them
    fails at the press (and at the flow's test).
    """
    headers = dict(candidate.get("headers") or {})
    if content_type := candidate.get("content_type"):
        headers = {k: v for k, v in headers.items() if k.lower() != "content-type"}
        headers["Content-Type"] = content_type
    method = candidate["method"]
    return ControlConfig(
        name=candidate["name"],
        kind=KIND_BUTTON,
        requests={
            PRESS: RequestConfig(
                method=method if method in COMMAND_METHODS else "GET",
                url=candidate["url"],
                headers=headers,
                body=candidate.get("payload"),
            )
        },
        timeout=float(candidate["timeout"]),
        verify_ssl=bool(candidate["verify_ssl"]),
    )


def notify_control(candidate: Mapping[str, Any]) -> ControlConfig:
    """A ``notify: platform: rest`` candidate as a notify control.

    Core's ``GET`` sends the message (and the title, the extra fields) in the
    query, ``POST`` in a form body, ``POST_JSON`` in a JSON body (a POST); the
    query parameters and headers go with each. ``data`` and ``data_template``
    are the extra fields, ``data_template``'s winning on a name in both (as in
    core, whose fields may replace the message too).
    """
    method = candidate["method"]
    return ControlConfig(
        name=candidate["name"],
        kind=KIND_NOTIFY,
        requests={
            SEND: RequestConfig(
                method="GET" if method == "GET" else "POST",
                url=candidate["resource"],
                params=dict(candidate.get("params") or {}),
                headers=dict(candidate.get("headers") or {}),
            )
        },
        timeout=float(candidate["timeout"]),
        verify_ssl=bool(candidate["verify_ssl"]),
        message_param=candidate["message_param_name"],
        title_param=candidate.get("title_param_name") or None,
        send_as=_SEND_AS[method],
        data={
            **(candidate.get("data") or {}),
            **(candidate.get("data_template") or {}),
        },
    )
