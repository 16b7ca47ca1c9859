"""Rules every language file follows, the ones hassfest checks and a few it cannot.

hassfest (what the hassfest GitHub action runs) validates strings.json and en.json only;
these tests hold every file under translations/ to the same key and URL rules, and check
what no schema can: each translation has every key of strings.json, and uses exactly the
placeholders the English string uses, which the code (or Home Assistant) provides.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
import json
from pathlib import Path
import re
import string
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.translation import async_get_translations
import pytest

from custom_components.oauth2_rest.const import DOMAIN

INTEGRATION = Path(__file__).parent.parent / "custom_components" / "oauth2_rest"
STRINGS = INTEGRATION / "strings.json"
LANGUAGE_FILES = sorted((INTEGRATION / "translations").glob("*.json"))
ALL_FILES = [STRINGS, *LANGUAGE_FILES]

# The patterns of core's script/hassfest/translations.py.
RE_TRANSLATION_KEY = re.compile(r"^(?!.+[_-]{2})(?![_-])[a-z0-9-_]+(?<![_-])$")
RE_URL = re.compile(
    r"(((ftp|ftps|scp|http|https|mqtt|mqtts|socket|socks5):\/\/|www\.)"
    r"[a-z0-9]+([\-\.]{1}[a-z0-9]+)*\.[a-z]{2,5}(:[0-9]{1,5})?(\/.*)?)",
    re.IGNORECASE,
)
# Placeholders Home Assistant's OAuth2 flow fills in itself (config_entry_oauth2_flow:
# no_url_available, user_rejected_authorize).
HA_PLACEHOLDERS = {"docs_url", "error"}


def _load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _leaves(tree: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[Any]:
    """(key path, value) of every string; every key on the way checked by callers."""
    for key, value in tree.items():
        if isinstance(value, dict):
            yield from _leaves(value, (*path, key))
        else:
            yield (*path, key), value


def _keys(tree: dict[str, Any]) -> Iterator[str]:
    for key, value in tree.items():
        yield key
        if isinstance(value, dict):
            yield from _keys(value)


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def _code_strings() -> set[str]:
    """Every string literal in the integration's code (placeholder names among them)."""
    found: set[str] = set()
    for source in INTEGRATION.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.add(node.value)
    return found


def _id(path: Path) -> str:
    return path.relative_to(INTEGRATION).as_posix()


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_keys_match_hassfest_pattern(path: Path) -> None:
    """Keys are [a-z0-9-_]+, not starting or ending with - or _ (hassfest)."""
    bad = [key for key in _keys(_load(path)) if not RE_TRANSLATION_KEY.match(key)]
    assert not bad, f"{_id(path)}: invalid keys {bad}"


@pytest.mark.parametrize("path", ALL_FILES, ids=_id)
def test_strings_well_formed(path: Path) -> None:
    """Non-empty strings without URLs (placeholders carry them) or stray spaces."""
    problems = []
    for key_path, value in _leaves(_load(path)):
        where = ".".join(key_path)
        if not isinstance(value, str) or not value:
            problems.append(f"{where}: not a non-empty string")
            continue
        if value != value.strip():
            problems.append(f"{where}: leading or trailing spaces")
        if RE_URL.search(value):
            problems.append(f"{where}: URL in {value!r}")
        # ICU message format (the frontend): an apostrophe before { quotes it.
        if "'{" in value:
            problems.append(f"{where}: apostrophe before a placeholder")
        problems.extend(
            f"{where}: placeholder {{{name}}}"
            for name in _placeholders(value)
            if not name.isidentifier()
        )
    assert not problems, f"{_id(path)}: {problems}"


def test_placeholders_provided_by_code() -> None:
    """Every placeholder of strings.json is a name the code (or HA) fills in."""
    provided = _code_strings() | HA_PLACEHOLDERS
    missing = {
        ".".join(key_path): sorted(_placeholders(value) - provided)
        for key_path, value in _leaves(_load(STRINGS))
        if _placeholders(value) - provided
    }
    assert not missing


@pytest.mark.parametrize("path", LANGUAGE_FILES, ids=_id)
def test_translation_complete_with_same_placeholders(path: Path) -> None:
    """Each language has every key of strings.json, no other, same placeholders."""
    english = dict(_leaves(_load(STRINGS)))
    translated = dict(_leaves(_load(path)))
    assert sorted(set(english) - set(translated)) == [], "missing keys"
    assert sorted(set(translated) - set(english)) == [], "keys not in strings.json"
    different = {
        ".".join(key_path): (sorted(_placeholders(text)), sorted(_placeholders(value)))
        for key_path, text in english.items()
        if _placeholders(text) != _placeholders(value := translated[key_path])
    }
    assert not different, f"{_id(path)}: placeholders differ from English"


TRANSLATED = [path for path in LANGUAGE_FILES if path.stem != "en"]
# Strings that must not come back in English (spread over the categories).
SPOT_CHECKS = (
    "config.step.user.title",
    "config.abort.reauth_successful",
    "config_subentries.endpoint.initiate_flow.user",
    "selector.credential.options.new_credential",
    "exceptions.unauthorized.message",
    "issues.endpoint_forbidden.title",
    "services.request.name",
    "options.step.init.title",
    "entity.sensor.last_token_refresh.name",
)


def test_every_language_translated() -> None:
    """The six languages after English are all shipped."""
    assert sorted(path.stem for path in TRANSLATED) == [
        "de",
        "es",
        "fr",
        "it",
        "nl",
        "pl",
    ]


@pytest.mark.parametrize("path", TRANSLATED, ids=lambda path: path.stem)
async def test_home_assistant_loads_translation(
    hass: HomeAssistant, path: Path
) -> None:
    """HA's translation loader, with the language set, returns our strings for every key."""
    language = path.stem
    hass.config.language = language
    translated = _load(path)
    english = dict(_leaves(_load(STRINGS)))
    prefix = f"component.{DOMAIN}."
    for category in translated:
        loaded = await async_get_translations(hass, language, category, [DOMAIN])
        ours = {
            k.removeprefix(prefix): v for k, v in loaded.items() if k.startswith(prefix)
        }
        assert ours == {
            ".".join((category, *key_path)): value
            for key_path, value in _leaves(translated[category])
        }, category
    for key in SPOT_CHECKS:
        loaded = await async_get_translations(
            hass, language, key.split(".", 1)[0], [DOMAIN]
        )
        assert loaded[prefix + key] != english[tuple(key.split("."))], key


def test_translations_follow_english() -> None:
    """English changed since the translations were written: translate the change too.

    tests/translated_from.json is the strings.json the translations were written for.
    When a string of strings.json changes, update it in every translations/*.json, then
    copy strings.json to tests/translated_from.json.
    """
    source = dict(_leaves(_load(Path(__file__).parent / "translated_from.json")))
    changed = [
        ".".join(key_path)
        for key_path, text in _leaves(_load(STRINGS))
        if key_path in source and source[key_path] != text
    ]
    assert not changed, f"English changed, translations not updated: {changed}"
