"""Properties of the pick list over path-heavy answers.

Deep nesting, wide lists, long and hostile keys, objects found by long, repeated
or secret ids, the account's secrets anywhere: the list stays within its bounds
(options, label, template, total), says whether values were left out, shows no
secret, and every option's template renders, in Home Assistant's engine, the
value it names.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.template import Template
from hypothesis import given, settings, strategies as st

from custom_components.oauth2_rest.redact import Secrets
from custom_components.oauth2_rest.suggest import (
    LABEL_CHARS,
    MAX_LEAVES,
    MAX_LIST_CHARS,
    MAX_TEMPLATE_CHARS,
    SAMPLE_CHARS,
    has_leaves,
    pick_list,
)
from custom_components.oauth2_rest.values import render_template

from ..common import ACCESS_TOKEN, ACCOUNT_SECRETS, REFRESH_TOKEN, leaked
from .common import count

SECRETS = Secrets(ACCOUNT_SECRETS[2])
SECRETS.add_token({"access_token": ACCESS_TOKEN, "refresh_token": REFRESH_TOKEN})

keys = st.one_of(
    st.sampled_from(
        [
            "a",
            "a\n",
            "a\r\n",
            "items",
            "keys",
            "get",
            "if",
            "none",
            "id",
            "name",
            "x y",
            "a.b",
            "}}{{",
            "{% raw %}",
            "'\"\\",
            "password",
            "session",
            "token=x",
            *ACCOUNT_SECRETS,
        ]
    ),
    st.text(max_size=12),
    # Keys around the longest a template may quote.
    st.builds(
        lambda char, size: char * size,
        st.sampled_from(["k", "é", "\n", '"']),
        st.integers(
            min_value=MAX_TEMPLATE_CHARS - 40, max_value=MAX_TEMPLATE_CHARS + 40
        ),
    ),
)
scalars = st.one_of(
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=False),
    st.booleans(),
    st.text(max_size=20),
    st.sampled_from([f"x {s} y" for s in ACCOUNT_SECRETS] + list(ACCOUNT_SECRETS)),
    st.builds(lambda size: "s" * size, st.integers(min_value=30, max_value=5000)),
)
ids = st.one_of(
    st.integers(min_value=0, max_value=5),
    st.text(max_size=8),
    st.sampled_from(ACCOUNT_SECRETS),
    st.builds(lambda size: "i" * size, st.integers(min_value=90, max_value=200)),
)


def _nest(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(
        st.dictionaries(keys, children, max_size=4),
        st.lists(children, max_size=4),
        # Wide: one child repeated, hundreds of times.
        st.builds(lambda c, n: [c] * n, children, st.integers(1, 400)),
        # Objects found by their id (long, repeated, secret ids).
        st.lists(st.builds(lambda i, v: {"id": i, "v": v}, ids, children), max_size=5),
    )


answers = st.recursive(scalars | st.none(), _nest, max_leaves=30)


def _wrap(inner: Any, depth: int, key: str | None) -> Any:
    for _ in range(depth):
        inner = [inner] if key is None else {key: inner}
    return inner


# Deeper than the list goes: nested objects or lists around an answer.
deep = st.builds(
    _wrap,
    answers,
    st.integers(min_value=0, max_value=16),
    st.one_of(keys, st.none()),
)


# Each example renders up to hundreds of templates in Home Assistant's engine (about
# a second): a tenth of the profile's examples keeps the fuzz run within its budget.
@settings(max_examples=max(10, settings().max_examples // 10))
@given(data=deep)
async def test_bounded_redacted_and_rendering(hass: HomeAssistant, data: Any) -> None:
    """Bounds hold, no secret is shown, and each template reads its value."""
    count("pick_list")
    found = pick_list(data, SECRETS)
    assert len(found.options) <= MAX_LEAVES
    assert has_leaves(data, SECRETS) is bool(found.options)
    total = 0
    for leaf in found.options:
        assert len(leaf.label) <= LABEL_CHARS
        assert len(leaf.shown) <= LABEL_CHARS + len(" = ") + SAMPLE_CHARS
        assert len(leaf.template) <= MAX_TEMPLATE_CHARS + len("{{  }}")
        total += len(leaf.label) + len(leaf.template_path) + len(leaf.shown)
    assert total <= MAX_LIST_CHARS
    shown = [(leaf.label, leaf.shown, leaf.template) for leaf in found.options]
    assert not leaked(json.dumps(shown, ensure_ascii=False))
    # Rendering is the slow part: the first and last few options.
    options = found.options
    for leaf in options[:8] + options[8:][-8:]:
        rendered = render_template(Template(leaf.template, hass), data, None)
        expected = Template("{{ sample }}", hass).async_render(
            {"sample": leaf.sample}, parse_result=False
        )
        assert rendered == expected, leaf.template
