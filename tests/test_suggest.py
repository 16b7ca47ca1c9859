"""Picking values from a response: leaves, their templates, and suggestions."""

from __future__ import annotations

from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
import pytest

from custom_components.oauth2_rest.suggest import leaves, suggest
from custom_components.oauth2_rest.values import render_template, to_on_off

RESPONSE: dict[str, Any] = {
    "name": "Oslo",
    "current": {"temperature": 21.5, "windSpeed": "3 km/h", "humidity": 55},
    "readings": [1, 2.5, None],
    "stations": [
        {"id": 7, "status": "open", "lastSeen": "2026-11-25T10:00:00+00:00"},
        {"id": 3, "status": "closed", "lastSeen": "2026-11-25T09:00:00Z"},
    ],
    "rooms": [{"title": "a", "power": 120}, {"title": "b", "power": -5}],
    "weird keys": {"items": 4, "a-b": True},
    "accessToken": "never shown",
    "auth": {"refresh_token": "never shown either", "user": "me"},
}


def test_leaves_paths_and_labels() -> None:
    """Objects by key, arrays by index, lists of objects by their id."""
    shown = {leaf.label: leaf.sample for leaf in leaves(RESPONSE)}
    assert shown["current.temperature"] == 21.5
    assert shown["readings[1]"] == 2.5
    assert "readings[2]" not in shown  # null: nothing to read
    assert shown["stations[id=3].status"] == "closed"
    assert shown["rooms[1].power"] == -5  # no identifying key: by index
    assert shown["weird keys.items"] == 4
    assert shown["auth.user"] == "me"
    assert not any("never shown" in str(sample) for sample in shown.values())
    assert leaves("just text")[0].label == "value"
    assert leaves(None) == []


async def test_templates_render_what_ha_renders(hass: HomeAssistant) -> None:
    """Each leaf's template renders, in HA's engine, what the leaf's value renders."""
    for leaf in leaves(RESPONSE):
        rendered = render_template(Template(leaf.template, hass), RESPONSE, None)
        expected = Template("{{ sample }}", hass).async_render(
            {"sample": leaf.sample}, parse_result=False
        )
        assert rendered == expected, leaf.label


async def test_object_found_by_id_when_the_list_is_reordered(
    hass: HomeAssistant,
) -> None:
    """A value of a listed object follows the object, not its position."""
    leaf = next(x for x in leaves(RESPONSE) if x.label == "stations[id=3].status")
    reordered = {**RESPONSE, "stations": list(reversed(RESPONSE["stations"]))}
    assert render_template(Template(leaf.template, hass), reordered, None) == "closed"


def _suggest(label: str, data: Any = RESPONSE) -> Any:
    return suggest(next(leaf for leaf in leaves(data) if leaf.label == label))


def test_suggestions() -> None:
    """Numbers measure, booleans and on/off switch, times are timestamps."""
    temperature = _suggest("current.temperature")
    assert (temperature.name, temperature.platform) == ("Current temperature", "sensor")
    assert temperature.device_class == "temperature"
    assert temperature.unit_of_measurement == "°C"
    assert temperature.state_class == "measurement"
    humidity = _suggest("current.humidity")
    assert (humidity.device_class, humidity.unit_of_measurement) == ("humidity", "%")
    assert _suggest("weird keys.a-b").platform == "binary_sensor"
    assert _suggest("stations[id=7].status").platform == "binary_sensor"
    seen = _suggest("stations[id=7].lastSeen")
    assert (seen.device_class, seen.state_class) == ("timestamp", None)
    name = _suggest("name")
    assert (name.platform, name.state_class, name.unit_of_measurement) == (
        "sensor",
        None,
        None,
    )
    plain = _suggest("readings[0]")
    assert (plain.state_class, plain.device_class) == ("measurement", None)


@pytest.mark.parametrize(
    ("data", "device_class", "unit"),
    [
        ({"humidity": 250}, None, None),  # not a humidity: no class, no unit
        ({"temperature": "70 %"}, None, "%"),  # a unit that does not fit
        ({"battery": 87}, "battery", "%"),
        ({"power": "1.2 kW"}, "power", "kW"),
        ({"energy": "3,5 kWh"}, "energy", "kWh"),
        ({"distance": 12}, "distance", "km"),
    ],
)
def test_device_class_only_when_the_value_fits(
    data: dict[str, Any], device_class: str | None, unit: str | None
) -> None:
    """Well-known keys get a class (and unit) only when the value fits them."""
    suggestion = _suggest(next(iter(data)), data)
    assert suggestion.device_class == device_class
    assert suggestion.unit_of_measurement == unit


async def test_units_split_from_strings(hass: HomeAssistant) -> None:
    """``"3 km/h"`` becomes the number 3 in km/h; the template extracts it."""
    wind = _suggest("current.windSpeed")
    assert (wind.unit_of_measurement, wind.device_class) == ("km/h", "speed")
    rendered = render_template(Template(wind.value_template, hass), RESPONSE, None)
    assert rendered == "3"
    energy = _suggest("energy", {"energy": "3,5 kWh"})
    assert (
        render_template(
            Template(energy.value_template, hass), {"energy": "3,5 kWh"}, None
        )
        == "3.5"
    )


async def test_binary_suggestions_render_on_off(hass: HomeAssistant) -> None:
    """What a binary suggestion renders is on/off by the binary sensor's rule."""
    for label, expected in (
        ("weird keys.a-b", True),
        ("stations[id=7].status", True),
        ("stations[id=3].status", False),
    ):
        suggestion = _suggest(label)
        rendered = render_template(
            Template(suggestion.value_template, hass), RESPONSE, None
        )
        assert to_on_off(rendered) is expected, label
