"""From a response to values in a few clicks: the leaves to pick, and what HA needs.

``pick_list()`` lists a response's leaf values with the template that reads each
one (objects by key, arrays by index; an object in a list is found by its ``id``,
``name``… when it has one, so the template still finds it when the list is
reordered). The list is bounded whatever the response: at most ``MAX_LEAVES``
options, labels of at most ``LABEL_CHARS``, templates of at most
``MAX_TEMPLATE_CHARS`` (a value under a longer path is not offered) and
``MAX_LIST_CHARS`` for all of them together; ``cut`` says when values were left
out. What it shows is redacted (``redact.py``): secret keys are left out, and so
are keys holding a secret (reading them would write it into a template); samples
and labels lose the account's secrets and ``secret=value`` pairs. ``has_leaves()``
answers whether there is anything to pick without building the list. ``suggest()`` proposes how a leaf becomes an entity: a binary sensor
for booleans and on/off words, a timestamp sensor for ISO times, a number split
from its unit (``"21.5 °C"``), a device class and unit for well-known keys only
when the value fits, ``state_class: measurement`` for numbers. The user can change
every part of it afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
import json
import re
from typing import Any

from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.const import (
    PERCENTAGE,
    UnitOfElectricCurrent,
    UnitOfElectricPotential,
    UnitOfEnergy,
    UnitOfLength,
    UnitOfPower,
    UnitOfPressure,
    UnitOfSpeed,
    UnitOfTemperature,
)
from homeassistant.util import dt as dt_util

from .endpoint import PLATFORM_BINARY_SENSOR, PLATFORM_SENSOR
from .redact import NO_SECRETS, Secrets, is_secret_key, redact_text

# Keys that name an object in a list, in the order they are tried.
LIST_ITEM_ID_KEYS = ("id", "key", "name", "slug", "code", "uid", "uuid")
MAX_LEAVES = 300
MAX_DEPTH = 12
# How much of a sample value the pick list shows, and of the path before it.
SAMPLE_CHARS = 40
LABEL_CHARS = 120
# A value whose template would be longer is not offered (its path, not its size).
MAX_TEMPLATE_CHARS = 600
# Labels and templates of all options together.
MAX_LIST_CHARS = 100_000
# An object in a list whose id is longer is found by its index instead.
MAX_IDENTITY_CHARS = 100
# Only the whole name is an identifier (``$`` would also match before a final \n).
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# Jinja attribute access would find a dict method instead of the key.
_DICT_METHODS = frozenset(dir(dict))
_NUMBER_WITH_UNIT = re.compile(
    r"^\s*(?P<number>[-+]?(?:\d+(?:[.,]\d+)?|[.,]\d+))\s*(?P<unit>[^\d\s].{0,15})$"
)
_ON_OFF_WORDS = frozenset({"on", "off", "open", "closed", "yes", "no", "true", "false"})
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[_\-.\s]+")


@dataclass(frozen=True, slots=True)
class Leaf:
    """One value of a response: where it is, what it was, how to read it."""

    # The path as the list shows it (shortened, redacted).
    label: str
    sample: Any
    template_path: str
    # Words naming the value, from the keys leading to it (for names and classes).
    words: tuple[str, ...]
    # ``label = sample`` as the pick list shows it, redacted.
    shown: str

    @property
    def template(self) -> str:
        """The value template that reads this leaf."""
        return "{{ " + self.template_path + " }}"


@dataclass(frozen=True, slots=True)
class PickList:
    """The values offered, and whether some were left out to keep the list bounded."""

    options: list[Leaf]
    cut: bool


@dataclass(frozen=True, slots=True)
class Suggestion:
    """How a picked leaf becomes a value: the user may change every part."""

    name: str
    platform: str
    value_template: str
    unit_of_measurement: str | None = None
    device_class: str | None = None
    state_class: str | None = None


def pick_list(data: Any, secrets: Secrets = NO_SECRETS) -> PickList:
    """The leaf values of a response (JSON, or XML converted to it), in order."""
    walk = _Walk(secrets)
    options: list[Leaf] = []
    size = 0
    for leaf in walk.leaves(data, "value_json", "", (), 0):
        size += len(leaf.label) + len(leaf.template_path) + len(leaf.shown)
        if len(options) >= MAX_LEAVES or size > MAX_LIST_CHARS:
            return PickList(options, cut=True)
        options.append(leaf)
    return PickList(options, cut=walk.cut)


def leaves(data: Any, secrets: Secrets = NO_SECRETS) -> list[Leaf]:
    """The values :func:`pick_list` offers."""
    return pick_list(data, secrets).options


def has_leaves(data: Any, secrets: Secrets = NO_SECRETS) -> bool:
    """Whether :func:`pick_list` offers anything (without building the list)."""
    return next(_Walk(secrets).leaves(data, "value_json", "", (), 0), None) is not None


def _key_access(path: str, key: str) -> str:
    if _IDENTIFIER.fullmatch(key) and key not in _DICT_METHODS:
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _shorten(text: str, limit: int) -> str:
    """``text`` of at most ``limit`` characters, its start and end kept."""
    if len(text) <= limit:
        return text
    tail = limit * 2 // 3
    return f"{text[: limit - tail - 1]}…{text[-tail:]}"


def _identity(item: dict[str, Any]) -> str | None:
    """The key naming an object in a list, if it has a scalar one."""
    for key in LIST_ITEM_ID_KEYS:
        value = item.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return key
    return None


class _Walk:
    """One pass over a response, paths bounded, secrets kept out."""

    def __init__(self, secrets: Secrets) -> None:
        self._secrets = secrets
        # Whether a value was left out for its depth or its path's length.
        self.cut = False

    def _shown_key(self, key: str) -> bool:
        """Whether a key may appear in a label and a template: no secret in it."""
        return redact_text(key, self._secrets) == key

    def _shown(self, label: str, sample: Any) -> str:
        if isinstance(sample, str):
            # Redacted whole before it is shortened: a secret cut in two is not
            # recognised, its first part would be shown.
            text = redact_text(sample, self._secrets)
            shown = json.dumps(text[:SAMPLE_CHARS], ensure_ascii=False)
            if len(text) > SAMPLE_CHARS:
                shown = shown[:-1] + "…"
        else:
            shown = json.dumps(sample, ensure_ascii=False)
        if len(shown) > SAMPLE_CHARS:
            shown = shown[: SAMPLE_CHARS - 1] + "…"
        return redact_text(f"{label} = {shown}", self._secrets)

    def _item_access(
        self, item: Any, by: str | None, seen: set[Any], path: str
    ) -> tuple[str, str] | None:
        """How an object of a list is found by its identity, and its label part."""
        if by is None:
            return None
        ident = item[by]
        text = str(ident)
        if ident in seen or len(text) > MAX_IDENTITY_CHARS:
            return None
        seen.add(ident)
        if not self._shown_key(text):
            return None
        ident_json = json.dumps(ident, ensure_ascii=False)
        return (
            f"({path} | selectattr({json.dumps(by)}, 'eq', {ident_json}) | first)",
            f"[{by}={text}]",
        )

    def leaves(
        self, data: Any, path: str, label: str, words: tuple[str, ...], depth: int
    ) -> Iterator[Leaf]:
        if len(path) > MAX_TEMPLATE_CHARS or depth > MAX_DEPTH:
            self.cut = True
            return
        if isinstance(data, dict):
            for key, value in data.items():
                key = str(key)
                if len(path) + len(key) >= MAX_TEMPLATE_CHARS:
                    self.cut = True
                    continue
                if is_secret_key(key) or not self._shown_key(key):
                    continue
                yield from self.leaves(
                    value,
                    _key_access(path, key),
                    _shorten(f"{label}.{key}" if label else key, LABEL_CHARS),
                    (*words, key),
                    depth + 1,
                )
        elif isinstance(data, list):
            identities = {
                _identity(item) if isinstance(item, dict) else None for item in data
            }
            by = identities.pop() if len(identities) == 1 else None
            seen: set[Any] = set()
            for index, item in enumerate(data):
                item_path, part = self._item_access(item, by, seen, path) or (
                    f"{path}[{index}]",
                    f"[{index}]",
                )
                yield from self.leaves(
                    item,
                    item_path,
                    _shorten(label + part, LABEL_CHARS),
                    words,
                    depth + 1,
                )
        elif data is not None:
            label = label or "value"
            yield Leaf(label, data, path, words, self._shown(label, data))


def _name(words: tuple[str, ...]) -> str:
    """``("current", "windSpeed")`` → ``Current wind speed``."""
    parts = [
        part.lower()
        for word in words[-2:]
        for part in _SEPARATORS.split(_CAMEL.sub(" ", word))
        if part
    ]
    text = " ".join(parts) or "value"
    return text[0].upper() + text[1:]


@dataclass(frozen=True, slots=True)
class _Known:
    """A well-known quantity: key words, device class, default unit, plausible range."""

    words: frozenset[str]
    device_class: SensorDeviceClass
    unit: str
    units: frozenset[str]
    low: float
    high: float


_KNOWN: tuple[_Known, ...] = (
    _Known(
        frozenset({"temperature", "temp"}),
        SensorDeviceClass.TEMPERATURE,
        UnitOfTemperature.CELSIUS,
        frozenset(UnitOfTemperature),
        -90,
        200,
    ),
    _Known(
        frozenset({"humidity"}),
        SensorDeviceClass.HUMIDITY,
        PERCENTAGE,
        frozenset({PERCENTAGE}),
        0,
        100,
    ),
    _Known(
        frozenset({"battery"}),
        SensorDeviceClass.BATTERY,
        PERCENTAGE,
        frozenset({PERCENTAGE}),
        0,
        100,
    ),
    _Known(
        frozenset({"power"}),
        SensorDeviceClass.POWER,
        UnitOfPower.WATT,
        frozenset(UnitOfPower),
        -1e7,
        1e7,
    ),
    _Known(
        frozenset({"energy"}),
        SensorDeviceClass.ENERGY,
        UnitOfEnergy.KILO_WATT_HOUR,
        frozenset(UnitOfEnergy),
        0,
        1e9,
    ),
    _Known(
        frozenset({"pressure"}),
        SensorDeviceClass.PRESSURE,
        UnitOfPressure.HPA,
        frozenset(UnitOfPressure),
        0,
        1e6,
    ),
    _Known(
        frozenset({"voltage"}),
        SensorDeviceClass.VOLTAGE,
        UnitOfElectricPotential.VOLT,
        frozenset(UnitOfElectricPotential),
        -1e6,
        1e6,
    ),
    _Known(
        frozenset({"current"}),
        SensorDeviceClass.CURRENT,
        UnitOfElectricCurrent.AMPERE,
        frozenset(UnitOfElectricCurrent),
        -1e5,
        1e5,
    ),
    _Known(
        frozenset({"speed", "windspeed"}),
        SensorDeviceClass.SPEED,
        UnitOfSpeed.METERS_PER_SECOND,
        frozenset(UnitOfSpeed),
        0,
        1e5,
    ),
    _Known(
        frozenset({"distance"}),
        SensorDeviceClass.DISTANCE,
        UnitOfLength.KILOMETERS,
        frozenset(UnitOfLength),
        0,
        1e9,
    ),
)
# Units as APIs write them, as Home Assistant writes them.
_UNIT_ALIASES = {
    "c": UnitOfTemperature.CELSIUS,
    "°c": UnitOfTemperature.CELSIUS,
    "degc": UnitOfTemperature.CELSIUS,
    "f": UnitOfTemperature.FAHRENHEIT,
    "°f": UnitOfTemperature.FAHRENHEIT,
    "kmh": UnitOfSpeed.KILOMETERS_PER_HOUR,
    "km/h": UnitOfSpeed.KILOMETERS_PER_HOUR,
    "m/s": UnitOfSpeed.METERS_PER_SECOND,
    "mph": UnitOfSpeed.MILES_PER_HOUR,
    "w": UnitOfPower.WATT,
    "kw": UnitOfPower.KILO_WATT,
    "kwh": UnitOfEnergy.KILO_WATT_HOUR,
    "wh": UnitOfEnergy.WATT_HOUR,
    "v": UnitOfElectricPotential.VOLT,
    "a": UnitOfElectricCurrent.AMPERE,
    "hpa": UnitOfPressure.HPA,
    "%": PERCENTAGE,
}


def _known_for(words: tuple[str, ...]) -> _Known | None:
    names = {
        part.lower()
        for word in words[-1:]
        for part in _SEPARATORS.split(_CAMEL.sub(" ", word))
        if part
    } | {word.lower().replace("_", "") for word in words[-1:]}
    for known in _KNOWN:
        if known.words & names:
            return known
    return None


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    return None


def _is_timestamp(value: Any) -> bool:
    if (
        not isinstance(value, str)
        or len(value) < len("2026-01-01T00:00")
        or "T" not in value.upper()
    ):
        return False
    return dt_util.parse_datetime(value) is not None


def suggest(leaf: Leaf) -> Suggestion:
    """What a picked leaf should become (a proposal: the user may change it)."""
    name = _name(leaf.words or (leaf.label,))
    sample = leaf.sample
    template = leaf.template
    if isinstance(sample, bool) or (
        isinstance(sample, str) and sample.strip().lower() in _ON_OFF_WORDS
    ):
        return Suggestion(name, PLATFORM_BINARY_SENSOR, template)
    if _is_timestamp(sample):
        return Suggestion(
            name,
            PLATFORM_SENSOR,
            template,
            device_class=SensorDeviceClass.TIMESTAMP.value,
        )
    number = _number(sample)
    unit: str | None = None
    if number is None and isinstance(sample, str):
        match = _NUMBER_WITH_UNIT.match(sample)
        if match is not None:
            number = float(match.group("number").replace(",", "."))
            raw_unit = match.group("unit").strip()
            unit = _UNIT_ALIASES.get(raw_unit.lower().replace(" ", ""), raw_unit)
            template = (
                "{{ " + leaf.template_path + " | regex_findall_index("
                "'[-+]?(?:[0-9]+(?:[.,][0-9]+)?|[.,][0-9]+)') | replace(',', '.') }}"
            )
    if number is None:
        return Suggestion(name, PLATFORM_SENSOR, template)
    device_class: str | None = None
    known = _known_for(leaf.words)
    if known is not None and known.low <= number <= known.high:
        if unit is None:
            unit = known.unit
        if unit in known.units:
            device_class = known.device_class.value
    return Suggestion(
        name,
        PLATFORM_SENSOR,
        template,
        unit_of_measurement=unit,
        device_class=device_class,
        state_class=SensorStateClass.MEASUREMENT.value,
    )
