"""From a response to values in a few clicks: the leaves to pick, and what HA needs.

``leaves()`` lists a response's leaf values with the template that reads each one
(objects by key, arrays by index; an object in a list is found by its ``id``,
``name``… when it has one, so the template still finds it when the list is
reordered). ``suggest()`` proposes how a leaf becomes an entity: a binary sensor
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
from .redact import is_secret_key

# Keys that name an object in a list, in the order they are tried.
IDENTIFYING_KEYS = ("id", "key", "name", "slug", "code", "uid", "uuid")
MAX_LEAVES = 300
MAX_DEPTH = 12
# How much of a sample value the pick list shows.
SAMPLE_CHARS = 40
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
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

    label: str
    sample: Any
    template_path: str
    # Words naming the value, from the keys leading to it (for names and classes).
    words: tuple[str, ...]

    @property
    def template(self) -> str:
        """The value template that reads this leaf."""
        return "{{ " + self.template_path + " }}"

    @property
    def shown(self) -> str:
        """``path = sample``, as the pick list shows it."""
        sample = json.dumps(self.sample, ensure_ascii=False)
        if len(sample) > SAMPLE_CHARS:
            sample = sample[: SAMPLE_CHARS - 1] + "…"
        return f"{self.label} = {sample}"


@dataclass(frozen=True, slots=True)
class Suggestion:
    """How a picked leaf becomes a value: the user may change every part."""

    name: str
    platform: str
    value_template: str
    unit_of_measurement: str | None = None
    device_class: str | None = None
    state_class: str | None = None


def leaves(data: Any) -> list[Leaf]:
    """The leaf values of a response (JSON, or XML converted to it), in order."""
    found: list[Leaf] = []
    for leaf in _walk(data, "value_json", "", (), 0):
        found.append(leaf)
        if len(found) >= MAX_LEAVES:
            break
    return found


def _key_access(path: str, key: str) -> str:
    if _IDENTIFIER.match(key) and key not in _DICT_METHODS:
        return f"{path}.{key}"
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _label(label: str, key: str) -> str:
    return f"{label}.{key}" if label else key


def _identity(item: dict[str, Any]) -> str | None:
    """The key naming an object in a list, if it has a scalar one."""
    for key in IDENTIFYING_KEYS:
        value = item.get(key)
        if isinstance(value, str | int) and not isinstance(value, bool):
            return key
    return None


def _walk(
    data: Any, path: str, label: str, words: tuple[str, ...], depth: int
) -> Iterator[Leaf]:
    if depth > MAX_DEPTH:
        return
    if isinstance(data, dict):
        for key, value in data.items():
            key = str(key)
            if is_secret_key(key):
                continue
            yield from _walk(
                value,
                _key_access(path, key),
                _label(label, key),
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
            if by is not None and item[by] not in seen:
                seen.add(item[by])
                ident = json.dumps(item[by], ensure_ascii=False)
                item_path = (
                    f"({path} | selectattr({json.dumps(by)}, 'eq', {ident}) | first)"
                )
                item_label = f"{label}[{by}={item[by]}]"
            else:
                item_path = f"{path}[{index}]"
                item_label = f"{label}[{index}]"
            yield from _walk(item, item_path, item_label, words, depth + 1)
    elif data is not None:
        yield Leaf(label or "value", data, path, words)


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
