"""Shared fixtures for the OAuth2 REST tests."""

from __future__ import annotations

# Import the repository's package first: otherwise Home Assistant's loader finds the
# empty ``custom_components`` package of pytest-homeassistant-custom-component and
# reports the integration as not found.
import custom_components  # noqa: F401  # isort: skip

from collections.abc import Awaitable, Callable, Generator, Iterator
import time
from typing import Any
from unittest.mock import AsyncMock, PropertyMock, patch

from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.syrupy import HomeAssistantSnapshotExtension
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from syrupy.assertion import SnapshotAssertion

from custom_components.oauth2_rest.const import DOMAIN

from .common import (
    API_BASE,
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    endpoint_subentry,
    manual_profile,
)

# The echoing API and an account using it (tests/echo.py).
from .echo import echo_entry, echo_servers, echo_subentries  # noqa: F401

# A lamp and a message box controls act on (tests/lamp.py).
from .lamp import lamp  # noqa: F401


@pytest.fixture(autouse=True)
def auto_enable_custom_integrations(enable_custom_integrations: None) -> None:
    """Let Home Assistant load the integration from custom_components/."""


@pytest.fixture
def hass_config_dir(hass_tmp_config_dir: str) -> str:
    """A config directory of the test's own: token files land there."""
    return hass_tmp_config_dir


@pytest.fixture
async def setup_credentials(hass: HomeAssistant) -> None:
    """Set up application_credentials with the test client stored."""
    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(CLIENT_ID, CLIENT_SECRET, "Example"),
        auth_domain=AUTH_DOMAIN,
    )


@pytest.fixture
async def setup_application_credentials(hass: HomeAssistant) -> None:
    """Application credentials set up, no credential stored (the flow tests)."""
    assert await async_setup_component(hass, "application_credentials", {})


@pytest.fixture
def mock_setup_entry() -> Iterator[AsyncMock]:
    """Stand-in for setting up an entry: counts (re)loads without polling."""
    with (
        patch(
            "custom_components.oauth2_rest.async_setup_entry", return_value=True
        ) as setup,
        patch("custom_components.oauth2_rest.async_unload_entry", return_value=True),
    ):
        yield setup


@pytest.fixture
def expires_at() -> float:
    """An access token expiry an hour away."""
    return time.time() + 3600


@pytest.fixture
def token_data(expires_at: float) -> dict[str, Any]:
    """The stored token of the test account."""
    return {
        "access_token": "stored-access-token",
        "refresh_token": "stored-refresh-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": expires_at,
    }


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """The account's endpoint subentries."""
    return [endpoint_subentry()]


@pytest.fixture
def entry_id() -> str | None:
    """The test account's entry id: random unless a module fixes it (snapshots)."""
    return None


@pytest.fixture
def config_entry(
    token_data: dict[str, Any],
    subentries: list[ConfigSubentryData],
    entry_id: str | None,
) -> MockConfigEntry:
    """A linked test account."""
    return MockConfigEntry(
        entry_id=entry_id,
        domain=DOMAIN,
        title="Example (user@example.com)",
        unique_id=f"{ISSUER}#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile().as_dict(),
            "scopes": ["read"],
            "subject": "subject-1",
        },
        subentries_data=subentries,
    )


@pytest.fixture
def ha_snapshot(snapshot: SnapshotAssertion) -> SnapshotAssertion:
    """Snapshots with Home Assistant's serializer (ids and times made stable)."""
    return snapshot.use_extension(HomeAssistantSnapshotExtension)


@pytest.fixture
def entity_registry_enabled_by_default() -> Generator[None]:
    """Enable entities that are disabled by default."""
    with patch(
        "homeassistant.helpers.entity.Entity.entity_registry_enabled_default",
        return_value=True,
        new_callable=PropertyMock,
    ):
        yield


@pytest.fixture
def setup_integration(
    hass: HomeAssistant, config_entry: MockConfigEntry, setup_credentials: None
) -> Callable[[], Awaitable[None]]:
    """Return a function that adds and sets up the entry."""

    async def run() -> None:
        config_entry.add_to_hass(hass)
        await hass.config_entries.async_setup(config_entry.entry_id)
        await hass.async_block_till_done()

    return run


@pytest.fixture
async def loaded(
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> MockConfigEntry:
    """The account, loaded, with its Weather endpoint answering (the flow tests)."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 21.5})
    await setup_integration()
    return config_entry


@pytest.fixture
async def loaded_entry(
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> MockConfigEntry:
    """A loaded account whose endpoint answered; the requests so far forgotten."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 20})
    await setup_integration()
    aioclient_mock.clear_requests()
    return config_entry
