"""Shared fixtures for the OAuth2 REST tests."""

from __future__ import annotations

# Import the repository's package first: otherwise Home Assistant's loader finds the
# empty ``custom_components`` package of pytest-homeassistant-custom-component and
# reports the integration as not found.
import custom_components  # noqa: F401  # isort: skip

import pytest


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components/."""
