"""The package's data files agree with each other."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).parent.parent
INTEGRATION = ROOT / "custom_components" / "oauth2_rest"


def test_english_translation_is_strings_json() -> None:
    """Custom integrations ship translations/en.json: it must be strings.json."""
    strings = json.loads((INTEGRATION / "strings.json").read_text(encoding="utf-8"))
    english = json.loads(
        (INTEGRATION / "translations" / "en.json").read_text(encoding="utf-8")
    )
    assert english == strings


def test_manifest_requirements_in_test_venvs() -> None:
    """What Home Assistant installs for the integration is what the tests run with."""
    manifest = json.loads((INTEGRATION / "manifest.json").read_text(encoding="utf-8"))
    for name in ("requirements_test.txt", "requirements_test_ha_min.txt"):
        pins = (ROOT / name).read_text(encoding="utf-8").split()
        for requirement in manifest["requirements"]:
            assert requirement in pins, f"{requirement} missing from {name}"


def test_hacs_minimum_matches_ha_min_venv() -> None:
    """hacs.json's minimum Home Assistant is the one the --ha-min suite pins."""
    hacs = json.loads((ROOT / "hacs.json").read_text(encoding="utf-8"))
    pins = (ROOT / "requirements_test_ha_min.txt").read_text(encoding="utf-8")
    # pytest-homeassistant-custom-component 0.13.317 pins homeassistant 2026.3.1.
    assert hacs["homeassistant"] == "2026.3.1"
    assert "pytest-homeassistant-custom-component==0.13.317" in pins
