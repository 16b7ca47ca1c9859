"""The account's health, visible as diagnostic sensors on the account's device."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.const import STATE_UNKNOWN, EntityCategory
from homeassistant.core import HomeAssistant
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.rate_limit import RateBudget, polls_per_second

from .common import (
    API_BASE,
    NEW_TOKEN,
    TOKEN_URL,
    endpoint_subentry,
    expire_token,
    state,
)

PREFIX = "sensor.example_user_example_com"
EXPIRES = f"{PREFIX}_access_token_expiry"
LAST_REFRESH = f"{PREFIX}_last_token_refresh"
FAILURES = f"{PREFIX}_consecutive_refresh_failures"
RATE_LIMIT = f"{PREFIX}_api_rate_limit_remaining"
POLL_INTERVAL = f"{PREFIX}_poll_interval"


async def test_health_entities(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
    expires_at: float,
) -> None:
    """One service device per account; diagnostic entities; noisy one disabled."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()

    devices = [
        d
        for d in dr.async_entries_for_config_entry(
            device_registry, config_entry.entry_id
        )
        if (DOMAIN, config_entry.entry_id) in d.identifiers
    ]
    assert len(devices) == 1
    device = devices[0]
    assert device.name == config_entry.title
    assert device.entry_type is dr.DeviceEntryType.SERVICE

    entries = {
        e.entity_id: e
        for e in er.async_entries_for_device(
            entity_registry, device.id, include_disabled_entities=True
        )
    }
    assert set(entries) == {EXPIRES, LAST_REFRESH, FAILURES, RATE_LIMIT, POLL_INTERVAL}
    for entry in entries.values():
        assert entry.entity_category is EntityCategory.DIAGNOSTIC
        assert entry.unique_id.startswith(config_entry.entry_id)
        assert entry.translation_key
        assert entry.config_subentry_id is None
    assert entries[RATE_LIMIT].disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entries[POLL_INTERVAL].disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert entries[EXPIRES].disabled_by is None

    shown = datetime.fromisoformat(state(hass, EXPIRES))
    assert (
        shown == datetime.fromtimestamp(int(expires_at), UTC)
        or abs(shown.timestamp() - expires_at) < 1
    )
    assert state(hass, LAST_REFRESH) == STATE_UNKNOWN
    assert state(hass, FAILURES) == "0"
    assert hass.states.get(RATE_LIMIT) is None


@pytest.mark.parametrize(
    "token_data",
    [
        {
            "access_token": "forever",
            "token_type": "Bearer",
            "expires_in": 10 * 365 * 24 * 3600,
            "expires_at": time.time() + 10 * 365 * 24 * 3600,
            "non_expiring": True,
        }
    ],
)
async def test_non_expiring_token_has_no_expiry(
    hass: HomeAssistant,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A token without expires_in shows no expiry."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert state(hass, EXPIRES) == STATE_UNKNOWN


async def test_refresh_failures_and_recovery(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Failed refreshes count up; a good one resets and stamps the time."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    outcomes = [HTTPStatus.SERVICE_UNAVAILABLE, HTTPStatus.SERVICE_UNAVAILABLE, None]

    async def token(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        status = outcomes.pop(0) if outcomes else None
        if status is not None:
            return AiohttpClientMockResponse(method, url, status=status)
        return AiohttpClientMockResponse(method, url, json=NEW_TOKEN)

    aioclient_mock.post(TOKEN_URL, side_effect=token)
    await setup_integration()

    for expected in ("1", "2"):
        expire_token(hass, config_entry, time.time() - 60)
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert state(hass, FAILURES) == expected
        assert state(hass, LAST_REFRESH) == STATE_UNKNOWN
        # Health stays visible while the endpoint is down.
        assert state(hass, EXPIRES) != "unavailable"

    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert state(hass, FAILURES) == "0"
    refreshed = datetime.fromisoformat(state(hass, LAST_REFRESH))
    assert abs(refreshed.timestamp() - time.time()) < 5
    expiry = datetime.fromisoformat(state(hass, EXPIRES))
    assert 3500 < expiry.timestamp() - time.time() <= 3600


async def test_rate_limit_remaining(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Enabled by the user, it follows the provider's rate-limit headers."""
    headers: dict[str, str] = {"X-RateLimit-Remaining": "99"}

    async def api(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        return AiohttpClientMockResponse(
            method, url, json={"temperature": 1}, headers=headers
        )

    aioclient_mock.get(f"{API_BASE}/weather", side_effect=api)
    await setup_integration()
    assert hass.states.get(RATE_LIMIT) is None
    entity_registry.async_update_entity(RATE_LIMIT, disabled_by=None)
    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert state(hass, RATE_LIMIT) == "99"
    # Let the registry's own delayed reload (the sensor was enabled) happen first.
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    # The other health sensors show the same thing: they are not written again.
    expiry_reported = hass.states.get(EXPIRES).last_reported
    for sent, expected in (
        ({"RateLimit-Remaining": "98"}, "98"),
        ({"RateLimit": "limit=100, policy=x;r=42;t=30"}, "42"),
    ):
        headers.clear()
        headers.update(sent)
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert state(hass, RATE_LIMIT) == expected
    assert hass.states.get(EXPIRES).last_reported == expiry_reported

    # Every response through the account counts, the action's and 429s included.
    aioclient_mock.get(
        f"{API_BASE}/other",
        status=HTTPStatus.TOO_MANY_REQUESTS,
        headers={"X-RateLimit-Remaining": "0"},
    )
    await hass.services.async_call(
        DOMAIN,
        "request",
        {"config_entry_id": config_entry.entry_id, "url": "/other"},
        blocking=True,
        return_response=True,
    )
    assert state(hass, RATE_LIMIT) == "0"


@pytest.mark.parametrize("expires_at", [time.time() + 100])
async def test_proactive_refresh_before_expiry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A token about to expire is refreshed by the account, not by a poll."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    assert len([c for c in aioclient_mock.mock_calls if str(c[1]) == TOKEN_URL]) == 1
    assert state(hass, LAST_REFRESH) != STATE_UNKNOWN
    assert config_entry.data["token"]["access_token"] == "new-access-token"


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint_subentry(scan_interval=60),
            endpoint_subentry(
                title="Forecast", url="/forecast", subentry_id="f", scan_interval=60
            ),
        ]
    ],
)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
async def test_small_budget_stretches_polling_until_the_reset(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Two endpoints every minute, 10 requests left for an hour: poll 12x slower.

    Once the window has reset (the API says so), the configured interval is back.
    """
    reset_at = time.time() + 3600
    budget = {"remaining": 10, "spent": 0}

    async def api(method: str, url: Any, data: Any) -> AiohttpClientMockResponse:
        if time.time() < reset_at:
            budget["spent"] += 1
        budget["remaining"] = max(0, budget["remaining"] - 1)
        if time.time() >= reset_at:
            headers = {"X-RateLimit-Remaining": "4999", "X-RateLimit-Reset": "3600"}
        else:
            headers = {
                "RateLimit-Remaining": str(budget["remaining"]),
                "RateLimit-Reset": str(int(reset_at - time.time())),
            }
        return AiohttpClientMockResponse(
            method, url, json={"temperature": 1}, headers=headers
        )

    aioclient_mock.get(f"{API_BASE}/weather", side_effect=api)
    aioclient_mock.get(f"{API_BASE}/forecast", side_effect=api)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    await setup_integration()
    endpoints = config_entry.runtime_data.endpoints.values()
    # 9, then 8 left for 2 polls a minute over an hour (120): 13-15 times slower.
    assert all(c.poll_interval >= timedelta(minutes=13) for c in endpoints)
    assert float(state(hass, POLL_INTERVAL)) == 15 * 60

    for _ in range(60):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert budget["spent"] <= 10  # the budget lasted the hour

    # After the reset: every minute again.
    for _ in range(30):
        freezer.tick(timedelta(minutes=1))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert {c.poll_interval for c in endpoints} == {timedelta(minutes=1)}
    assert all(c.last_update_success for c in endpoints)
    assert float(state(hass, POLL_INTERVAL)) == 60


def test_rate_budget() -> None:
    """Stretched so the rest of a window's budget lasts its rest, never past it."""
    minute = timedelta(seconds=60)
    budget = RateBudget(remaining=30, resets_at=1000.0)
    assert budget.interval(minute, polls_per_second=0.01, now=0) == minute  # 10
    assert budget.interval(minute, 0.1, now=0) == minute * 100 / 30
    assert budget.interval(minute, 0.1, now=1000) == minute  # reset passed
    assert budget.interval(minute, 0, now=0) == minute
    # One request for 100 needed: not past the reset, when the budget is back.
    assert RateBudget(1, 1000.0).interval(minute, 0.1, 0) == timedelta(seconds=1000)
    # A configured interval longer than the window is never shortened.
    assert budget.interval(timedelta(hours=1), 0.1, now=0) == timedelta(hours=1)
    empty = RateBudget(remaining=0, resets_at=600.0)
    # Nothing left: a 60 s endpoint waits the 600 s to the reset.
    assert empty.interval(minute, 1 / 60, now=0) == timedelta(seconds=600)
    intervals = [timedelta(seconds=10), timedelta(seconds=20)]
    assert polls_per_second(intervals) == pytest.approx(0.15)
