"""When endpoints poll: an account's shared ticks (polling.PollScheduler)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.core import CoreState, HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from yarl import URL

from custom_components.oauth2_rest.polling import MAX_CONCURRENT_POLLS, PollScheduler

from .common import API_BASE, api_requests, endpoint_subentry, tick

Setup = Callable[[], Awaitable[None]]
COUNT = 20


def endpoints(count: int, scan_interval: int = 30) -> list[ConfigSubentryData]:
    """``count`` endpoints on their own paths, one sensor each."""
    return [
        endpoint_subentry(
            title=f"E{n}",
            url=f"/e{n}",
            subentry_id=f"endpoint_{n}",
            scan_interval=scan_interval,
            value_template="{{ value_json.n }}",
        )
        for n in range(count)
    ]


def polls(aioclient_mock: AiohttpClientMocker) -> dict[str, int]:
    """API requests per endpoint path."""
    return {f"/e{n}": len(api_requests(aioclient_mock, f"/e{n}")) for n in range(COUNT)}


class InFlight:
    """Counts the API requests answered at the same time."""

    def __init__(self) -> None:
        """Nothing in flight yet."""
        self.now = 0
        self.most = 0

    async def __call__(self, method: str, url: URL, data: Any) -> Any:
        """Answer after letting every other ready task run."""
        self.now += 1
        self.most = max(self.most, self.now)
        for _ in range(5):
            await asyncio.sleep(0)
        self.now -= 1
        return AiohttpClientMockResponse(method, url, json={"n": 1})


@pytest.fixture
def subentries() -> list[ConfigSubentryData]:
    """Twenty endpoints polling every 30 s."""
    return endpoints(COUNT)


@pytest.fixture
def in_flight(aioclient_mock: AiohttpClientMocker) -> InFlight:
    """Every endpoint answered, with the requests in flight counted."""
    counter = InFlight()
    for n in range(COUNT):
        aioclient_mock.get(f"{API_BASE}/e{n}", side_effect=counter)
    return counter


async def test_endpoints_started_together_share_one_tick(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Twenty endpoints set up together: one timer, one round per interval."""
    await setup_integration()
    scheduler = config_entry.runtime_data.account.polls
    assert len(scheduler.ticks) == 1
    (members,) = scheduler.ticks.values()
    assert len(members) == COUNT
    assert set(polls(aioclient_mock).values()) == {1}

    await tick(hass, freezer, 28)
    assert set(polls(aioclient_mock).values()) == {1}  # not before the interval
    await tick(hass, freezer, 3)
    assert set(polls(aioclient_mock).values()) == {2}
    # Still one group, one interval later.
    assert len(scheduler.ticks) == 1
    assert len(next(iter(scheduler.ticks.values()))) == COUNT
    await tick(hass, freezer, 30)
    assert set(polls(aioclient_mock).values()) == {3}


async def test_requests_in_flight_are_capped(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """At setup and at every tick, at most MAX_CONCURRENT_POLLS requests at once."""
    await setup_integration()
    assert in_flight.most == MAX_CONCURRENT_POLLS
    in_flight.most = 0
    await tick(hass, freezer, 31)
    assert set(polls(aioclient_mock).values()) == {2}
    assert in_flight.most == MAX_CONCURRENT_POLLS


def add_endpoint(hass: HomeAssistant, entry: MockConfigEntry, n: int) -> None:
    """Add endpoint ``n`` (10 s interval) to the running account."""
    added = endpoints(n + 1, scan_interval=10)[n]
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=added["data"],
            subentry_type=added["subentry_type"],
            title=added["title"],
            unique_id=None,
            subentry_id=added["subentry_id"],
        ),
    )


@pytest.mark.parametrize("subentries", [endpoints(2, scan_interval=10)])
async def test_endpoint_added_later_joins_the_group(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Added 3 s after the others: its first wait is 7 s, then it polls with them."""
    for n in range(3):
        aioclient_mock.get(f"{API_BASE}/e{n}", json={"n": n})
    await setup_integration()
    scheduler = config_entry.runtime_data.account.polls
    (group,) = scheduler.ticks
    await tick(hass, freezer, 3)
    add_endpoint(hass, config_entry, 2)
    await hass.async_block_till_done()
    assert len(api_requests(aioclient_mock, "/e2")) == 1
    assert list(scheduler.ticks) == [group]
    assert len(scheduler.ticks[group]) == 3
    await tick(hass, freezer, 7.5)  # the group's tick
    assert [len(api_requests(aioclient_mock, f"/e{n}")) for n in range(3)] == [2, 2, 2]
    assert len(scheduler.ticks) == 1


@pytest.mark.parametrize("subentries", [endpoints(2, scan_interval=10)])
async def test_endpoint_added_just_before_a_tick_waits_its_interval(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """Added 7 s after the others: joining would halve its wait; it keeps its own."""
    for n in range(3):
        aioclient_mock.get(f"{API_BASE}/e{n}", json={"n": n})
    await setup_integration()
    scheduler = config_entry.runtime_data.account.polls
    await tick(hass, freezer, 7)
    add_endpoint(hass, config_entry, 2)
    await hass.async_block_till_done()
    assert len(scheduler.ticks) == 2
    await tick(hass, freezer, 3.6)  # the first two's tick
    assert len(api_requests(aioclient_mock, "/e0")) == 2
    assert len(api_requests(aioclient_mock, "/e2")) == 1
    await tick(hass, freezer, 7)  # ten seconds after the added one's first poll
    assert len(api_requests(aioclient_mock, "/e2")) == 2


async def test_removed_endpoint_leaves_the_tick(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A removed endpoint is not polled again; the others keep their tick."""
    await setup_integration()
    assert hass.config_entries.async_remove_subentry(config_entry, "endpoint_0")
    await hass.async_block_till_done()
    scheduler = config_entry.runtime_data.account.polls
    (members,) = scheduler.ticks.values()
    assert len(members) == COUNT - 1
    await tick(hass, freezer, 31)
    counts = polls(aioclient_mock)
    assert counts.pop("/e0") == 1
    assert set(counts.values()) == {2}


async def test_endpoint_without_listeners_leaves_the_tick(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    in_flight: InFlight,
) -> None:
    """An endpoint polls while something listens: its last listener gone, it stops."""
    await setup_integration()
    scheduler = config_entry.runtime_data.account.polls
    coordinator = config_entry.runtime_data.endpoints["endpoint_0"]

    def polled() -> bool:
        return any(coordinator in members for members in scheduler.ticks.values())

    assert polled()
    for entity in list(coordinator.entities):
        await entity.async_remove()
    assert not polled()
    remove = coordinator.async_add_listener(lambda: None)
    assert polled()
    remove()
    assert not polled()


async def test_unload_stops_every_timer(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unloaded account has no tick left and polls nothing."""
    await setup_integration()
    scheduler = config_entry.runtime_data.account.polls
    assert await hass.config_entries.async_unload(config_entry.entry_id)
    assert scheduler.ticks == {}
    await tick(hass, freezer, 31)
    assert set(polls(aioclient_mock).values()) == {1}


async def test_polling_turned_off_in_system_options(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_credentials: None,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """'Enable polling' off: the endpoints are fetched at setup, then never."""
    config_entry.add_to_hass(hass)
    hass.config_entries.async_update_entry(config_entry, pref_disable_polling=True)
    await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.runtime_data.account.polls.ticks == {}
    await tick(hass, freezer, 31)
    assert set(polls(aioclient_mock).values()) == {1}


async def test_no_poll_once_home_assistant_stops(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    in_flight: InFlight,
    freezer: FrozenDateTimeFactory,
) -> None:
    """A tick that comes while HA is stopping polls nothing."""
    await setup_integration()
    hass.set_state(CoreState.stopping)
    await tick(hass, freezer, 31)
    hass.set_state(CoreState.running)
    assert set(polls(aioclient_mock).values()) == {1}


class SlowMember:
    """A pollable whose polls take as long as the test says."""

    def __init__(self, delay: float | None = 10) -> None:
        """Poll every ``delay`` seconds (None: stop)."""
        self.delay = delay
        self.polls = 0
        self.release = asyncio.Event()
        self.release.set()

    async def async_refresh(self) -> None:
        """One poll: waits for ``release``."""
        self.polls += 1
        await self.release.wait()

    def poll_delay(self) -> float | None:
        """The configured delay."""
        return self.delay


@pytest.fixture
def scheduler(hass: HomeAssistant) -> PollScheduler:
    """A scheduler of a plain entry."""
    entry = MockConfigEntry(domain="oauth2_rest", title="Slow")
    entry.add_to_hass(hass)
    return PollScheduler(hass, entry)


async def test_poll_longer_than_the_interval(
    hass: HomeAssistant, scheduler: PollScheduler, freezer: FrozenDateTimeFactory
) -> None:
    """A poll still running at its next tick is not started twice; it goes on later."""
    member = SlowMember(delay=10)
    scheduler.add(member)
    member.release.clear()
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await asyncio.sleep(0)
    assert member.polls == 1
    # The poll hangs past a whole interval: nothing new starts, nothing is queued.
    for _ in range(3):
        freezer.tick(timedelta(seconds=10))
        async_fire_time_changed(hass)
        await asyncio.sleep(0)
    assert member.polls == 1
    assert scheduler.ticks == {}
    member.release.set()
    await hass.async_block_till_done()
    # Rescheduled from now (the grid it overran), one interval on.
    (when,) = scheduler.ticks
    assert 0 < when - hass.loop.time() <= 10
    scheduler.async_stop()


async def test_member_that_stops_is_not_rescheduled(
    hass: HomeAssistant, scheduler: PollScheduler, freezer: FrozenDateTimeFactory
) -> None:
    """poll_delay None (credentials refused): no further tick."""
    member = SlowMember(delay=None)
    scheduler.add(member)
    assert scheduler.ticks == {}
    member.delay = 10
    scheduler.add(member)  # it may start again (a new coordinator would)
    assert len(scheduler.ticks) == 1
    scheduler.discard(member)
    assert scheduler.ticks == {}


async def test_next_tick_is_on_the_account_grid(
    scheduler: PollScheduler,
) -> None:
    """Ticks are whole seconds plus the account's offset; never later than asked."""
    base = 1000.0
    first = scheduler.next_tick(10, base)
    assert base + 9 < first <= base + 10
    assert scheduler.next_tick(10, first) == first + 10
    assert scheduler.next_tick(10.2, first) == first + 11
    assert scheduler.next_tick(0.1, first) == first + 1
    # Two endpoints asking within the same second land on the same tick.
    assert scheduler.next_tick(10, first + 0.2) == scheduler.next_tick(10, first + 0.9)


async def test_member_back_during_its_poll_is_polled_once(
    hass: HomeAssistant, scheduler: PollScheduler, freezer: FrozenDateTimeFactory
) -> None:
    """Discarded and added again while its poll runs: still one pending tick."""
    member = SlowMember(delay=10)
    scheduler.add(member)
    member.release.clear()
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await asyncio.sleep(0)
    assert member.polls == 1
    scheduler.discard(member)
    scheduler.add(member)  # its entity came back while the poll runs
    member.release.set()
    await hass.async_block_till_done()
    assert sum(len(members) for members in scheduler.ticks.values()) == 1
    scheduler.async_stop()


async def test_poll_now_waits_for_a_poll_in_flight_then_polls_again(
    hass: HomeAssistant, scheduler: PollScheduler, freezer: FrozenDateTimeFactory
) -> None:
    """After a command: a poll already running may predate it, so one more follows."""
    member = SlowMember(delay=10)
    scheduler.add(member)
    member.release.clear()
    freezer.tick(timedelta(seconds=11))
    async_fire_time_changed(hass)
    await asyncio.sleep(0)
    assert member.polls == 1  # in flight

    now = hass.async_create_task(scheduler.async_poll_now(member))
    await asyncio.sleep(0)
    assert member.polls == 1  # waits for the one in flight
    member.release.set()
    await now
    assert member.polls == 2
    # Back on its grid: one tick, an interval from now.
    (when,) = scheduler.ticks
    assert 0 < when - hass.loop.time() <= 10
    scheduler.async_stop()


async def test_poll_now_takes_the_member_off_its_pending_tick(
    hass: HomeAssistant, scheduler: PollScheduler
) -> None:
    """Polled now, it is not polled again at the tick it was due at."""
    member = SlowMember(delay=30)
    scheduler.add(member)
    (due,) = scheduler.ticks
    await scheduler.async_poll_now(member)
    assert member.polls == 1
    (when,) = scheduler.ticks
    assert when != due or len(scheduler.ticks[when]) == 1
    assert sum(len(members) for members in scheduler.ticks.values()) == 1
    scheduler.async_stop()
