"""Reading values out of responses: the rules the flow and the entities share."""

from __future__ import annotations

from typing import Any

import pytest

from custom_components.oauth2_rest.redact import Secrets
from custom_components.oauth2_rest.values import (
    MAX_ATTRIBUTE_KEY_CHARS,
    MAX_ATTRIBUTE_SUGGESTIONS,
    attribute_suggestions,
    extract_json_attributes,
    text_json,
    to_on_off,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('{"a": [1, 2]}', {"a": [1, 2]}),
        ("12", 12),
        ("<w>", None),
        ("[" * 200 + "]" * 200, None),  # nested too deep
    ],
)
def test_text_json(text: str, expected: Any) -> None:
    """A response text's ``value_json``: its JSON, else None."""
    assert text_json(text) == expected


@pytest.mark.parametrize(
    ("rendered", "expected"),
    [
        ("true", True),
        ("On", True),
        ("open", True),
        ("YES", True),
        ("1", True),
        ("2", True),
        ("0", False),
        ("false", False),
        ("closed", False),
        ("", False),
        (None, None),
    ],
)
def test_on_off_like_core_rest(rendered: str | None, expected: bool | None) -> None:
    """Rendered text maps to on/off exactly as core's REST binary sensor does."""
    assert to_on_off(rendered) is expected


def test_extract_json_attributes() -> None:
    """Core ``rest``'s rules: path, first list element, dicts only."""
    data = {"a": [{"x": 1, "password": "p"}], "b": "text"}
    assert extract_json_attributes(data, ("x", "password"), "$.a[0]") == {"x": 1}
    assert extract_json_attributes(data, ("b",), None) == {"b": "text"}
    assert extract_json_attributes(data, ("x",), "$.b") == {}
    # As in core: a path matching a list yields its match, not the list items.
    assert extract_json_attributes(data, ("x",), "$.a") == {}
    assert extract_json_attributes(data, ("x",), "$.nothing") == {}
    assert extract_json_attributes(data, ("x",), "$[?(@.x ==") == {}
    assert extract_json_attributes(None, ("x",), None) == {}
    assert extract_json_attributes(data, (), None) == {}


def test_extract_json_attributes_path_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """A JSONPath the library rejects yields no attributes."""

    def boom(path: str, data: Any) -> Any:
        raise TypeError(path)

    monkeypatch.setattr("custom_components.oauth2_rest.values.jsonpath_search", boom)
    assert extract_json_attributes({"a": 1}, ("a",), "$.a") == {}


def test_attribute_suggestions_leave_out_secrets() -> None:
    """Top-level keys (of the first item of a list), secret-looking ones left out."""
    assert attribute_suggestions({"b": 1, "a": 2, "accessToken": "t"}) == ["a", "b"]
    assert attribute_suggestions([{"x": 1, "Api-Key": "k"}]) == ["x"]
    assert attribute_suggestions([]) == []
    assert attribute_suggestions("text") == []


def test_attribute_suggestions_bounded_and_without_secret_values() -> None:
    """Keys holding an account's secret or a pair are not offered; the list is capped.

    Failed on the old code (a key that is the access token was offered, and every
    key of a wide answer).
    """
    secrets = Secrets("client-secret-1")
    secrets.add_token({"access_token": "access-token-1"})
    data = {"access-token-1": 1, "x client-secret-1": 2, "password=p": 3, "ok": 4}
    assert attribute_suggestions(data, secrets) == ["ok"]
    wide = {"k" * (MAX_ATTRIBUTE_KEY_CHARS + 1): 0}
    wide.update({f"k{i:05}": i for i in range(MAX_ATTRIBUTE_SUGGESTIONS * 3)})
    offered = attribute_suggestions(wide)
    assert len(offered) == MAX_ATTRIBUTE_SUGGESTIONS
    assert all(len(key) <= MAX_ATTRIBUTE_KEY_CHARS for key in offered)


def test_attributes_nested_secrets_redacted() -> None:
    """A picked attribute holding a nested secret shows it redacted."""
    data = {"auth": {"token": "abc", "user": "me"}, "refreshToken": "r"}
    assert extract_json_attributes(data, ("auth", "refreshToken"), None) == {
        "auth": {"token": "**REDACTED**", "user": "me"}
    }
