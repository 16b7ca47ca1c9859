"""What the property tests share: the example counter, secrets and strategies."""

from __future__ import annotations

from collections import Counter
import json
from typing import Any

from hypothesis import strategies as st

from ..common import CLIENT_SECRET

# How many examples each property test ran (printed by the fuzz conftest).
EXAMPLES: Counter[str] = Counter()

ACCESS_TOKEN = "stored-access-token"
REFRESH_TOKEN = "stored-refresh-token"
# The account's secrets: none may appear in anything we show, log or return.
ACCOUNT_SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)


def count(test: str) -> None:
    """Count one example of a property test."""
    EXAMPLES[test] += 1


def leaked(output: Any, secrets: tuple[str, ...] = ACCOUNT_SECRETS) -> list[str]:
    """The secrets found anywhere in output (serialised as text)."""
    text = output if isinstance(output, str) else json.dumps(output, default=repr)
    return [secret for secret in secrets if secret in text]


# Any JSON value, a few levels deep.
json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=8,
)

# Nested JSON arrays/objects deeper than anyone should send.
deep_json = st.builds(
    lambda depth, obj: (
        ('{"a":' * depth + "1" + "}" * depth) if obj else ("[" * depth + "]" * depth)
    ),
    st.integers(min_value=90, max_value=120_000),
    st.booleans(),
)

# Text that likes to break URLs, headers and templates.
nasty_text = st.text(
    alphabet=st.sampled_from(
        list("aZ09-_.~/?#[]@!$&'()*+,;=%:{}<>|\\^` \t\r\n\x00\x1b\x7f\u0085\u2028é日")
    ),
    max_size=30,
) | st.text(max_size=30)
