"""What the provider did, for crash and fault suites: rotations, reuse, API calls.

Write calls to the API carry their method, path and parsed body, and the last
of them are also kept in full (``RequestLog``, ``GET /demo/requests``) so tests
can check what a client sent.

``GET /demo/events?after=N&wait=S`` returns the events after sequence number N,
waiting up to S seconds for one (a long poll), so a test learns within a
millisecond that a refresh token was rotated: the start of the window in which a
client that crashes must already have stored the new one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Callable
import contextlib
from datetime import UTC, datetime
import hashlib
import time
from typing import Any

from .bodies import Body

MAX_EVENTS = 10_000
MAX_REQUESTS = 100
MAX_RECORDED_BODY = 4096  # a longer body (bytes) is kept as its first 4096 characters


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


def iso(timestamp: float) -> str:
    """A POSIX timestamp as ISO 8601 in UTC."""
    return datetime.fromtimestamp(timestamp, UTC).isoformat()


def recorded_body(body: Body) -> tuple[Any, bool]:
    """What a record keeps of a body: the parsed value, or its text cut to a bound.

    Returns the value and whether it was cut.
    """
    if body.size <= MAX_RECORDED_BODY:
        return body.value, False
    return body.text[:MAX_RECORDED_BODY], True


class RequestLog:
    """The last API write requests, oldest first: what clients sent, for tests to check.

    Headers are not kept (they carry the bearer token).
    """

    def __init__(self, clock: Callable[[], float]) -> None:
        """Start empty."""
        self.requests: deque[dict[str, Any]] = deque(maxlen=MAX_REQUESTS)
        self._clock = clock

    def add(
        self,
        method: str,
        path: str,
        query: dict[str, str],
        content_type: str,
        body: Body,
    ) -> dict[str, Any]:
        """Record one request; the caller sets ``status`` once it is answered."""
        value, truncated = recorded_body(body)
        entry: dict[str, Any] = {
            "method": method,
            "path": path,
            "query": query,
            "content_type": content_type,
            "body": value,
            "body_size": body.size,
            "truncated": truncated,
            "status": None,
            "received_at": iso(self._clock()),
        }
        self.requests.append(entry)
        return entry

    def clear(self) -> int:
        """Forget every request; return how many there were."""
        count = len(self.requests)
        self.requests.clear()
        return count
