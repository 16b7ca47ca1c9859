"""strings.json as the tests see it: which placeholders a shown form needs."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
import json
from pathlib import Path
import string
from typing import Any

STRINGS_JSON = (
    Path(__file__).parent.parent / "custom_components" / "oauth2_rest" / "strings.json"
)


def placeholders(text: str) -> set[str]:
    """The {names} a translated string uses."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def texts(tree: Mapping[str, Any]) -> Iterator[str]:
    """Every string under a part of strings.json."""
    for value in tree.values():
        if isinstance(value, Mapping):
            yield from texts(value)
        else:
            yield value


def assert_form_placeholders(result: Mapping[str, Any], *section: str) -> None:
    """The shown form fills in every placeholder its strings use (title to hints).

    section is the path in strings.json of the flow's steps, e.g. ("config",).
    """
    tree: Mapping[str, Any] = json.loads(STRINGS_JSON.read_text(encoding="utf-8"))
    for key in (*section, "step", result["step_id"]):
        tree = tree[key]
    used = set().union(*(placeholders(text) for text in texts(tree)))
    given = set(result.get("description_placeholders") or {})
    assert used <= given, f"{result['step_id']}: {sorted(used - given)} not filled in"
