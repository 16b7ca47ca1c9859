"""Polite polling: stretch an account's poll intervals so its rate limit lasts.

The API says how many requests are left and when the window resets (IETF
``RateLimit`` headers, or the common ``X-RateLimit-*`` ones, read by
``client/response.py`` from answers the token was sent with). When the account's
endpoints, polling at their configured intervals, would use up what is left
before the reset, every interval is stretched by the same factor so the budget
lasts, but never past the reset: the new window's budget is there then. With
nothing left, every endpoint waits for the reset (however many there are), then
polls at its configured interval. An interval is never shorter than configured.
``Retry-After`` keeps its own meaning (a failed update retried later).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from .client.response import RateLimit


@dataclass(frozen=True, slots=True)
class RateBudget:
    """What the API said last: requests left, and when the window resets."""

    remaining: int
    resets_at: float

    @classmethod
    def from_rate_limit(cls, limit: RateLimit, now: float) -> RateBudget | None:
        """The budget a response announced, if it said both numbers."""
        if limit.remaining is None or limit.reset_in is None:
            return None
        return cls(limit.remaining, now + limit.reset_in)

    def interval(
        self, configured: timedelta, polls_per_second: float, now: float
    ) -> timedelta:
        """How long an endpoint configured to poll every ``configured`` waits now.

        ``polls_per_second`` is what all the account's endpoints make at their
        configured intervals.
        """
        left = self.resets_at - now
        if left <= 0 or polls_per_second <= 0:
            return configured  # the window has reset
        until_reset = timedelta(seconds=left)
        if self.remaining <= 0:
            return max(configured, until_reset)
        needed = polls_per_second * left
        if needed <= self.remaining:
            return configured
        stretched = configured * (needed / self.remaining)
        return max(configured, min(stretched, until_reset))


def polls_per_second(intervals: list[timedelta]) -> float:
    """How many requests endpoints polling at these intervals make per second."""
    return sum(1 / interval.total_seconds() for interval in intervals)
