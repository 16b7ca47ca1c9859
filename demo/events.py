"""What the provider did, for crash and fault suites: rotations, reuse, API calls.

``GET /demo/events?after=N&wait=S`` returns the events after sequence number N,
waiting up to S seconds for one (a long poll), so a test learns within a
millisecond that a refresh token was rotated: the start of the window in which a
client that crashes must already have stored the new one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import time
from typing import Any

MAX_EVENTS = 10_000


def fingerprint(secret: str) -> str:
    """A short hash that tells tokens apart without revealing them."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


class EventLog:
    """Numbered events, newest last (bounded)."""

    def __init__(self) -> None:
        """Start empty."""
        self.events: list[dict[str, Any]] = []
        self.seq = 0
        self._changed: asyncio.Event | None = None

    def record(self, kind: str, grant_id: str, **details: Any) -> None:
        """Add an event stamped with the wall clock (comparable across processes)."""
        self.seq += 1
        self.events.append(
            {"seq": self.seq, "kind": kind, "grant_id": grant_id, "at": time.time()}
            | details
        )
        del self.events[:-MAX_EVENTS]
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_after(self, after: int, timeout: float) -> list[dict[str, Any]]:
        """The events after ``after``; waits up to ``timeout`` s when there are none."""
        if self.seq <= after and timeout > 0:
            if self._changed is None:
                self._changed = asyncio.Event()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return [event for event in self.events if event["seq"] > after]
