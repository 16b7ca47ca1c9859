"""Properties of what a refused authorization shows of the server's words."""

from __future__ import annotations

from hypothesis import given, strategies as st

from custom_components.oauth2_rest.errors import (
    MAX_ERROR_CODE,
    MAX_ERROR_DESCRIPTION,
    authorization_refused,
)
from custom_components.oauth2_rest.redact import Secrets

from ..common import CLIENT_SECRET
from .common import count, nasty_text

# Pieces of a description: anything, the client secret among them, long runs.
pieces = st.lists(
    nasty_text
    | st.just(CLIENT_SECRET)
    | st.builds(lambda n: " " * n, st.integers(0, 1100))
    | st.builds(lambda n: "x" * n, st.integers(0, 1100)),
    max_size=8,
)


@given(
    error=nasty_text | st.sampled_from(["invalid_request", "access_denied"]),
    parts=pieces,
)
def test_refusal_shows_bounded_code_spans_without_secrets(
    error: str, parts: list[str]
) -> None:
    """One line: the code and description as code spans, bounded, secret-free."""
    count("refusal")
    failure = authorization_refused(error, "".join(parts), Secrets(CLIENT_SECRET))
    shown = failure.placeholders["error"]
    assert CLIENT_SECRET not in shown
    assert shown.isprintable()
    if failure.key == "user_rejected_authorize":
        assert "`" not in shown
        return
    # `code` or `code`: `description`, nothing breaking out of the spans.
    assert shown.count("`") in (2, 4)
    code, _, description = shown.partition(": `")
    assert len(code) <= MAX_ERROR_CODE + 2
    assert len(description) <= MAX_ERROR_DESCRIPTION + 1
