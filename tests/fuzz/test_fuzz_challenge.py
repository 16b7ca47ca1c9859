"""Properties of reading WWW-Authenticate challenges and judging refusals."""

from __future__ import annotations

from hypothesis import given, strategies as st

from custom_components.oauth2_rest.client.refusal import (
    MAX_SCOPE,
    Challenge,
    Refusal,
    judge,
    parse_challenges,
)
from custom_components.oauth2_rest.client.response import ApiResponse

from .common import count, nasty_text

# Quoted-string content: anything printable, quotes and backslashes included.
quoted = st.text(alphabet=st.sampled_from(list('ab ,="\\\t;:/é')), max_size=30)
names = st.sampled_from(["error", "scope", "realm", "error_description", "x"])


def quote(value: str) -> str:
    """``value`` as an RFC 9110 quoted-string."""
    escaped = value.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


@given(
    params=st.dictionaries(names, quoted, max_size=4),
    scheme=st.sampled_from(["Bearer", "bearer", "BEARER"]),
    before=st.sampled_from(["", 'Basic realm="a, b", ', "Negotiate abc==, "]),
)
def test_quoted_values_round_trip(
    params: dict[str, str], scheme: str, before: str
) -> None:
    """Any value written as a quoted-string reads back as it was, in any challenge."""
    count("challenge round trip")
    header = (
        before
        + scheme
        + " "
        + ", ".join(f"{name}={quote(value)}" for name, value in params.items())
    )
    challenges = parse_challenges(header)
    assert challenges[-1] == Challenge("bearer", params)


@given(header=nasty_text, body=nasty_text, status=st.sampled_from([200, 401, 403]))
def test_any_answer_is_judged(header: str, body: str, status: int) -> None:
    """Any header or body: no exception; a scope shown is bounded and code-safe."""
    count("challenge judge")
    parse_challenges(header)
    verdict = judge(
        ApiResponse(
            status=status,
            headers={"WWW-Authenticate": header},
            body=body.encode(),
            url="x",
        )
    )
    if status == 401:
        assert verdict is not None
        assert verdict.refusal is Refusal.DEAD_TOKEN
    if verdict is not None and verdict.scope is not None:
        assert len(verdict.scope) <= MAX_SCOPE
        assert "`" not in verdict.scope
        assert verdict.scope.isprintable()
