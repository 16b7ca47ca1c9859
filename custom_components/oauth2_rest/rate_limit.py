"""Polite polling: stretch an account's poll intervals so its rate limit lasts.

The API says how many requests are left and when the window resets (IETF
``RateLimit`` headers, or the common ``X-RateLimit-*`` ones, read by
``client/response.py``). When the account's endpoints, polling at their
configured intervals, would use up what is left before the reset, every interval
is stretched by the same factor so the budget lasts; with nothing left, polling
waits for the reset. Once the window has reset, the configured intervals apply
again. ``Retry-After`` keeps its own meaning (a failed update retried later).
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

    def stretch(self, polls_per_second: float, now: float) -> float:
        """The factor (>= 1) to multiply every poll interval by until the reset."""
        left = self.resets_at - now
        if left <= 0 or polls_per_second <= 0:
            return 1.0
        needed = polls_per_second * left
        if needed <= self.remaining:
            return 1.0
        if self.remaining <= 0:
            # Nothing left: the fastest endpoint waits for the reset.
            return max(1.0, left * polls_per_second)
        return needed / self.remaining


def polls_per_second(intervals: list[timedelta]) -> float:
    """How many requests endpoints polling at these intervals make per second."""
    return sum(1 / interval.total_seconds() for interval in intervals)
