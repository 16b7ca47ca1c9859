"""Picking values from a response: leaves, their templates, and suggestions."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
import pytest

from custom_components.oauth2_rest.redact import Secrets
from custom_components.oauth2_rest.suggest import (
    LABEL_CHARS,
    MAX_LEAVES,
    MAX_LIST_CHARS,
    MAX_TEMPLATE_CHARS,
    SAMPLE_CHARS,
    has_leaves,
    leaves,
    pick_list,
    suggest,
)
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


async def test_key_ending_in_a_newline_reads_that_key(hass: HomeAssistant) -> None:
    """A key ending in a newline is not an identifier: its template reads it whole.

    Failed on the old code (``$`` matched before the final newline: ``value_json.a``).
    """
    data = {"a\n": "newline", "a": "sibling", "b\r\n": 2, "c ": 3}
    for leaf in leaves(data):
        rendered = render_template(Template(leaf.template, hass), data, None)
        assert rendered == str(leaf.sample), leaf.template
    assert {leaf.sample for leaf in leaves(data)} == {"newline", "sibling", 2, 3}


# Answers whose paths are long: every leaf under them used to repeat them. With
# whether values are left out (ids too long for a template are read by index).
_PATH_HEAVY = {
    "long key": ({"k" * 300_000: {f"v{i}": i for i in range(400)}}, True),
    "long ids": (
        {"items": [{"id": f"{i}-" + "c" * 20_000, "v": i} for i in range(40)]},
        False,
    ),
    "deep": (json.loads('{"a":' * 40 + "1" + "}" * 40), True),
    "wide": (
        {"stations": {f"urn:station:{i:060d}": {"t": i} for i in range(5000)}},
        True,
    ),
    "long key names": ({"x" * 590: 1, "y" * 700: 2, "ok": 3}, True),
}


@pytest.mark.parametrize(("data", "cut"), _PATH_HEAVY.values(), ids=_PATH_HEAVY)
def test_the_list_is_bounded(data: Any, cut: bool) -> None:
    """Count, label, template and total size are capped, whatever the paths.

    Failed on the old code (a 300 kB key was repeated in 400 labels and templates).
    """
    found = pick_list(data)
    assert len(found.options) <= MAX_LEAVES
    total = 0
    for leaf in found.options:
        assert len(leaf.label) <= LABEL_CHARS
        assert len(leaf.shown) <= LABEL_CHARS + len(" = ") + SAMPLE_CHARS
        assert len(leaf.template) <= MAX_TEMPLATE_CHARS + len("{{  }}")
        total += len(leaf.label) + len(leaf.template_path) + len(leaf.shown)
    assert total <= MAX_LIST_CHARS
    assert found.cut is cut
    assert has_leaves(data) is bool(found.options)


def test_cut_only_when_something_was_left_out() -> None:
    """An answer that fits whole is not said to be cut; one value more is."""
    exact = {f"v{i}": i for i in range(MAX_LEAVES)}
    assert not pick_list(exact).cut
    assert len(pick_list(exact).options) == MAX_LEAVES
    assert pick_list({**exact, "one_more": 1}).cut
    assert not pick_list(RESPONSE).cut
    assert not has_leaves({"access_token": "x", "nothing": None, "empty": []})


async def test_long_ids_fall_back_to_the_index(hass: HomeAssistant) -> None:
    """An object whose id is too long to write into a template is read by index."""
    data = {"items": [{"id": "c" * 5000, "v": 1}, {"id": "short", "v": 2}]}
    by_value = {leaf.sample: leaf for leaf in leaves(data)}
    assert by_value[1].template == '{{ value_json["items"][0].v }}'
    assert by_value[2].template == (
        '{{ (value_json["items"] | selectattr("id", \'eq\', "short") | first).v }}'
    )
    for leaf in by_value.values():
        rendered = render_template(Template(leaf.template, hass), data, None)
        assert rendered == str(leaf.sample)


SECRETS = Secrets("client-secret-123456")
SECRETS.add_token(
    {"access_token": "stored-access-token", "refresh_token": "stored-refresh-token"}
)
SECRET_VALUES = ("client-secret-123456", "stored-access-token", "stored-refresh-token")


def test_the_list_shows_no_secret() -> None:
    """An API echoing the account's secrets under ordinary keys: none is shown.

    Failed on the old code (samples were shown raw: ``session.bearer =
    "stored-access-token"``).
    """
    echoed = {
        "session": {
            "bearer": "stored-access-token",
            "grant": "stored-refresh-token",
            "app": "client-secret-123456",
            "long": "x" * 30 + "stored-access-token" + "y" * 100,
            "query": "a=1&password=hunter2&b=2",
        },
        "stored-access-token": {"under": "a key that is the token"},
        "password=hunter2": {"under": "a key with a pair"},
        "sessions": [
            {"id": "stored-refresh-token", "active": True},
            {"id": "s2", "active": False},
        ],
    }
    found = pick_list(echoed, SECRETS)
    shown = [(leaf.shown, leaf.label, leaf.template) for leaf in found.options]
    text = json.dumps(shown)
    assert found.options
    assert not [secret for secret in (*SECRET_VALUES, "hunter2") if secret in text]
    assert 'session.bearer = "**REDACTED**"' in text.replace('\\"', '"')
    assert not any(leaf.sample == "a key that is the token" for leaf in found.options)
