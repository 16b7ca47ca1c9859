"""When an account's endpoints poll: on shared ticks, a few requests at a time.

Home Assistant gives every ``DataUpdateCoordinator`` its own timer with its own
random offset, so N endpoints wake the event loop N times per interval, one request
each. Waking an idle loop is most of what a poll of a small JSON document costs (see
BENCHMARKS.md). An account's endpoints share one grid instead: an endpoint polling
every ``d`` seconds polls ``d`` seconds after its last tick, and ticks are the
account's whole seconds plus one random offset: endpoints started together (every
endpoint after a restart or a reload) or due within the same second poll at the same
moment and stay together, their requests going out at most
``MAX_CONCURRENT_POLLS`` at a time per account. Accounts keep their own random
offset, as HA's coordinators do, so two accounts do not share a burst.

An endpoint waits its interval between polls as it would with its own timer (the
first wait may be up to a second shorter, as with HA's), or the server's
``Retry-After`` after a 429/503. An endpoint added to a running account joins the
largest group already polling if that shortens its first wait by at most half its
interval, so groups do not fall apart as endpoints are added one by one. Nothing is
polled while an endpoint has no entity listening, while the entry's polling is
turned off in its system options, after its credentials were refused (reauth) or
once Home Assistant is stopping.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
import math
from random import randint
from typing import Protocol

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant, callback
from homeassistant.helpers.event import RANDOM_MICROSECOND_MAX, RANDOM_MICROSECOND_MIN

# Requests an account's polls have in flight at most: enough for the answers of a
# group to arrive together (one wake-up of Home Assistant for several) and to keep a
# slow API's round trips overlapping, few enough not to look like a flood.
MAX_CONCURRENT_POLLS = 16


class Pollable(Protocol):
    """What the scheduler polls (an endpoint coordinator)."""

    async def async_refresh(self) -> None:
        """Poll now; failures are the pollable's to record, never raised."""

    def poll_delay(self) -> float | None:
        """Seconds until the next poll is due, or None: poll no more."""


class PollScheduler:
    """An account's poll timers: one per tick, not one per endpoint."""

    def __init__(self, hass: HomeAssistant, config_entry: ConfigEntry) -> None:
        """Pick the account's offset within the second."""
        self._hass = hass
        self._entry = config_entry
        # Not a secret: only spreads accounts apart, as HA spreads coordinators.
        self._offset = (
            randint(RANDOM_MICROSECOND_MIN, RANDOM_MICROSECOND_MAX)  # noqa: S311
            / 10**6
        )
        self._slots = asyncio.Semaphore(MAX_CONCURRENT_POLLS)
        self._members: set[Pollable] = set()
        self._running: set[Pollable] = set()
        # Due time (loop clock) -> who polls then, and the one timer for it.
        self._ticks: dict[float, list[Pollable]] = {}
        self._timers: dict[float, asyncio.TimerHandle] = {}
        # Member -> its pending tick (one at most).
        self._due_at: dict[Pollable, float] = {}
        # Member polling now -> who waits for that poll to end (async_poll_now).
        self._ends: dict[Pollable, asyncio.Future[None]] = {}

    @property
    def ticks(self) -> dict[float, list[Pollable]]:
        """Pending ticks and who polls at each (read only; for diagnostics and tests)."""
        return self._ticks

    def next_tick(self, delay: float, after: float) -> float:
        """The tick ``delay`` seconds (whole) after the account's last tick at or before ``after``.

        Ticks are the account's whole seconds plus its offset: everyone due within
        the same second polls together, and a tick's members stay together after it.
        """
        last = math.floor(after - self._offset) + self._offset
        return last + max(1, math.ceil(delay))

    @callback
    def add(self, member: Pollable) -> None:
        """Start polling ``member`` (it has just polled): its next tick."""
        if member in self._members:
            return
        self._members.add(member)
        self._schedule(member, after=self._hass.loop.time(), join=True)

    @callback
    def discard(self, member: Pollable) -> None:
        """Stop polling ``member``; a poll in flight finishes."""
        self._members.discard(member)
        if (when := self._due_at.pop(member, None)) is None:
            return
        members = self._ticks[when]
        members.remove(member)
        if not members:
            self._drop_tick(when)

    @callback
    def async_stop(self) -> None:
        """Stop every timer (the account unloads)."""
        self._members.clear()
        self._due_at.clear()
        for when in list(self._ticks):
            self._drop_tick(when)

    async def async_poll_now(self, member: Pollable) -> None:
        """Poll ``member`` now, then on its grid again (a command changed what it reads).

        A poll already in flight is waited for and followed by a new one: its
        answer may predate the command.
        """
        while member in self._running:
            end = self._ends.get(member)
            if end is None:
                end = self._ends[member] = self._hass.loop.create_future()
            await end
        if (when := self._due_at.pop(member, None)) is not None:
            members = self._ticks[when]
            members.remove(member)
            if not members:
                self._drop_tick(when)
        await self._work([member], reschedule_after=self._hass.loop.time())

    async def async_refresh_all(self, members: Iterable[Pollable]) -> None:
        """Poll ``members`` now, a few at a time (an account's first polls)."""
        await self._work(list(members))

    def _group_to_join(self, when: float, delay: float, now: float) -> float:
        """The largest pending tick a new member may join instead of ``when``.

        Joining shortens its first wait by at most half its interval.
        """
        earliest = now + delay / 2
        best, size = when, len(self._ticks.get(when, ()))
        for tick, members in self._ticks.items():
            if earliest <= tick < when and len(members) > size:
                best, size = tick, len(members)
        return best

    @callback
    def _schedule(self, member: Pollable, after: float, join: bool = False) -> None:
        if (
            self._entry.pref_disable_polling
            or member not in self._members
            or member in self._due_at  # already has its next tick
        ):
            return
        delay = member.poll_delay()
        if delay is None:
            self._members.discard(member)
            return
        loop = self._hass.loop
        when = self.next_tick(delay, after)
        if when <= loop.time():  # a round that took longer than the interval
            when = self.next_tick(delay, loop.time())
        if join:
            when = self._group_to_join(when, delay, loop.time())
        self._due_at[member] = when
        if (members := self._ticks.get(when)) is not None:
            members.append(member)
            return
        self._ticks[when] = [member]
        self._timers[when] = loop.call_at(when, self._fire, when)

    @callback
    def _drop_tick(self, when: float) -> None:
        self._ticks.pop(when, None)
        if (timer := self._timers.pop(when, None)) is not None:
            timer.cancel()

    @callback
    def _fire(self, when: float) -> None:
        self._timers.pop(when, None)
        members = self._ticks.pop(when, [])
        for member in members:
            del self._due_at[member]
        if self._hass.is_stopping:
            return
        # One still polling from an earlier tick is scheduled again when it ends.
        due = [member for member in members if member not in self._running]
        if not due:
            return
        self._entry.async_create_background_task(
            self._hass,
            self._async_tick(when, due),
            name=f"{self._entry.title} poll tick",
            eager_start=True,
        )

    async def _async_tick(self, when: float, due: list[Pollable]) -> None:
        await self._work(due, reschedule_after=when)

    async def _work(
        self, members: list[Pollable], reschedule_after: float | None = None
    ) -> None:
        """Poll ``members`` with at most MAX_CONCURRENT_POLLS in flight."""
        queue = iter(members)

        async def worker() -> None:
            for member in queue:
                self._running.add(member)
                try:
                    async with self._slots:
                        await member.async_refresh()
                finally:
                    self._running.discard(member)
                    if (end := self._ends.pop(member, None)) is not None:
                        end.set_result(None)
                if reschedule_after is not None:
                    self._schedule(member, after=reschedule_after)

        workers = min(MAX_CONCURRENT_POLLS, len(members))
        if workers == 1:
            await worker()  # the common small tick: no extra task
            return
        await asyncio.gather(*(worker() for _ in range(workers)))
