"""The fast path for plain ``value_json`` lookups renders exactly what HA's engine renders."""

from __future__ import annotations

import itertools
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.template import Template
import pytest

from custom_components.oauth2_rest.values import (
    ValueTemplate,
    _fast_lookup,
    lookup_path,
    render_template,
)

DOCS: list[Any] = [
    {
        "a": {"b": 1, "c": [10, 20.5, {"d": "x"}], "items": 3, "e": None},
        "f": 1.0,
        "g": 0.1 + 0.2,
        "h": 1e16,
        "i": -0.0,
        "j": True,
        "k": False,
        "l": "  padded text  ",
        "m": "",
        "n": 12345678901234567890,
        "o": 2.5e-7,
        "p": "ünïcødé ✓",
        "q": [],
        "r": {},
        "keys": "shadowed by dict.keys",
        "get": 1,
        "0": "zero key",
        "x y": "spaced",
        "s": "{{ not a template }}",
        "t": "line\nbreak",
        "u": 1.5e300,
        "v": 100.0,
        "w": 3.14159265358979,
        "long": "y" * 5000,
    },
    [{"a": 1}, [2, 3], "s", None, 4.25],
    None,
    "text",
    42,
    [],
    {},
]

TEMPLATES = [
    "{{ value_json.a.b }}",
    "{{value_json.a.b}}",
    "  {{ value_json.a.b }}  ",
    "{{ value_json['a']['b'] }}",
    '{{ value_json["a"]["c"][1] }}',
    "{{ value_json.a.c[0] }}",
    "{{ value_json.a.c[1] }}",
    "{{ value_json.a.c[2].d }}",
    "{{ value_json.a.c[2] }}",
    "{{ value_json.a.c[3] }}",
    "{{ value_json.a.c }}",
    "{{ value_json.a }}",
    "{{ value_json.a.e }}",
    "{{ value_json.a.items }}",
    "{{ value_json['a']['items'] }}",
    "{{ value_json.keys }}",
    "{{ value_json['keys'] }}",
    "{{ value_json.get }}",
    "{{ value_json.missing }}",
    "{{ value_json.missing.deeper }}",
    "{{ value_json['missing'] }}",
    "{{ value_json.f }}",
    "{{ value_json.g }}",
    "{{ value_json.h }}",
    "{{ value_json.i }}",
    "{{ value_json.j }}",
    "{{ value_json.k }}",
    "{{ value_json.l }}",
    "{{ value_json.m }}",
    "{{ value_json.n }}",
    "{{ value_json.o }}",
    "{{ value_json.p }}",
    "{{ value_json.q }}",
    "{{ value_json.r }}",
    "{{ value_json.s }}",
    "{{ value_json.t }}",
    "{{ value_json.u }}",
    "{{ value_json.v }}",
    "{{ value_json.w }}",
    "{{ value_json.long }}",
    "{{ value_json['0'] }}",
    "{{ value_json[0] }}",
    "{{ value_json[0].a }}",
    "{{ value_json[1][1] }}",
    "{{ value_json[2] }}",
    "{{ value_json[3] }}",
    "{{ value_json[4] }}",
    "{{ value_json[9] }}",
    "{{ value_json['x y'] }}",
    "{{ value_json.l[0] }}",
    "{{ value_json.a.b.c }}",
    "{{ value_json.__class__ }}",
    "{{ value_json }}",
    "{{ value_json.a.b | int }}",
    "{{ value_json.a.b + 1 }}",
    "{{- value_json.a.b -}}",
    "{{ value_json[-1] }}",
    "{{ value_json[01] }}",
    "{{ value_json . a . b }}",
    "{{ value_json['a\\'b'] }}",
    "{{ value }}",
    "x{{ value_json.a.b }}",
    "{{ value_json.a.b }}{{ value_json.f }}",
]


def _engine(hass: HomeAssistant, source: str, data: Any) -> str | type[TemplateError]:
    try:
        return render_template(Template(source, hass), data, "raw text")
    except TemplateError:
        return TemplateError


@pytest.mark.parametrize(
    ("source", "doc"), list(itertools.product(TEMPLATES, range(len(DOCS))))
)
async def test_same_as_the_engine(hass: HomeAssistant, source: str, doc: int) -> None:
    """Whenever the fast path answers, it answers what the engine renders."""
    data = DOCS[doc]
    expected = _engine(hass, source, data)
    if (steps := lookup_path(source)) is not None:
        fast = _fast_lookup(data, steps)
        assert fast is None or fast == expected
    try:
        rendered: str | type[TemplateError] = ValueTemplate(source, hass).render(
            data, "raw text"
        )
    except TemplateError:
        rendered = TemplateError
    assert rendered == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("{{ value_json.a.b }}", "1"),
        ("  {{value_json['a']['b']}} ", "1"),
        ('{{ value_json["a"]["c"][1] }}', "20.5"),
        ("{{ value_json.a.c[2].d }}", "x"),
        ("{{ value_json.a.e }}", "None"),
        ("{{ value_json['a']['items'] }}", "3"),
        ("{{ value_json['keys'] }}", "shadowed by dict.keys"),
        ("{{ value_json.g }}", "0.30000000000000004"),
        ("{{ value_json.h }}", "1e+16"),
        ("{{ value_json.i }}", "-0.0"),
        ("{{ value_json.j }}", "True"),
        ("{{ value_json.l }}", "padded text"),
        ("{{ value_json.m }}", ""),
        ("{{ value_json.n }}", "12345678901234567890"),
        ("{{ value_json.o }}", "2.5e-07"),
        ("{{ value_json.p }}", "ünïcødé ✓"),
        ("{{ value_json.s }}", "{{ not a template }}"),
        ("{{ value_json['0'] }}", "zero key"),
        ("{{ value_json['x y'] }}", "spaced"),
    ],
)
async def test_fast_path_answers(
    hass: HomeAssistant, source: str, expected: str
) -> None:
    """Plain lookups of scalars never reach the engine, and agree with it."""
    steps = lookup_path(source)
    assert steps is not None
    assert _fast_lookup(DOCS[0], steps) == expected
    assert _engine(hass, source, DOCS[0]) == expected


@pytest.mark.parametrize(
    "source",
    [
        "{{ value_json.a.items }}",  # dict.items wins in Jinja
        "{{ value_json.keys }}",
        "{{ value_json.missing }}",  # the engine warns and renders ""
        "{{ value_json.a.c }}",  # containers: the engine's repr
        "{{ value_json.a.c[3] }}",
        "{{ value_json[0] }}",  # a dict has no index 0
        "{{ value_json.long }}",
    ],
)
def test_fast_path_defers(source: str) -> None:
    """Ambiguous lookups are left to the engine."""
    steps = lookup_path(source)
    assert steps is not None
    assert _fast_lookup(DOCS[0], steps) is None


@pytest.mark.parametrize(
    "source",
    [
        "{{ value_json }}",
        "{{ value_json.a.b | int }}",
        "{{- value_json.a.b -}}",
        "{{ value_json[-1] }}",
        "{{ value_json[01] }}",
        "{{ value_json['a\\'b'] }}",
        "x{{ value_json.a.b }}",
        "{{ value_json.a.b }}{{ value_json.f }}",
        "{{ value }}",
    ],
)
def test_not_a_plain_lookup(source: str) -> None:
    """Anything but a plain lookup goes to the engine."""
    assert lookup_path(source) is None
