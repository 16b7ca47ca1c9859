"""Hypothesis profiles for the property tests, and the count of examples run.

``quick`` (the default, derandomised) keeps the normal suite fast; ``fuzz``
(``HYPOTHESIS_PROFILE=fuzz``, set by ``scripts/test --fuzz``) runs
``FUZZ_EXAMPLES_PER_TEST`` examples per property, randomly. With
``FUZZ_MIN_EXAMPLES`` set the session fails when fewer examples ran in total.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
import pytest

from .common import EXAMPLES

_SHARED = {
    "deadline": None,
    "database": None,
    # Home Assistant's fixtures are function-scoped: each property runs all its
    # examples on one hass, which every example leaves as it found it.
    "suppress_health_check": [
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
}
settings.register_profile("quick", max_examples=50, derandomize=True, **_SHARED)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("FUZZ_EXAMPLES_PER_TEST", "1000")),
    **_SHARED,
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))


def _total() -> int:
    return sum(EXAMPLES.values())


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Print how many examples the properties ran."""
    if not EXAMPLES:
        return
    per_test = ", ".join(f"{name} {n}" for name, n in sorted(EXAMPLES.items()))
    terminalreporter.write_line(
        f"hypothesis examples run: {_total()} "
        f"(profile {settings().max_examples} per property; {per_test})"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the session when FUZZ_MIN_EXAMPLES examples did not run."""
    minimum = int(os.environ.get("FUZZ_MIN_EXAMPLES", "0"))
    if minimum and _total() < minimum and exitstatus == 0:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
