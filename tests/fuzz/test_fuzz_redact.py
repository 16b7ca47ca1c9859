"""Properties of free-text redaction over long runs of every character class.

The reference is the pattern as it was first written: a plain greedy regex tried
at every character, obviously right and quadratic over a long run that no ``:`` or
``=`` follows. ``redact_text`` must find exactly the pairs it finds, in any text
built from runs of names, separators, whitespace, quotes, value stoppers,
authorization schemes and secret names, short or thousands of characters long.
"""

from __future__ import annotations

import re

from hypothesis import given, strategies as st

from custom_components.oauth2_rest.redact import (
    NO_SECRETS,
    REDACTED,
    Secrets,
    is_secret_key,
    redact_text,
)

from ..common import ACCOUNT_SECRETS, leaked
from .common import count

_REFERENCE = re.compile(
    r"""(?P<lead>(?P<q>["']?)(?P<name>[A-Za-z0-9_.\-]+)(?P=q)\s*[:=]\s*["']?)"""
    r"""(?P<value>(?:(?i:bearer|basic|token|mac|digest)\s+)?[^"'&\s,;}]+)"""
)


def reference(text: str, secrets: Secrets = NO_SECRETS) -> str:
    """Redaction as the plain (quadratic) pattern does it."""

    def replace(match: re.Match[str]) -> str:
        if is_secret_key(match.group("name").rsplit(".", 1)[-1]):
            return match.group("lead") + REDACTED
        return match.group(0)

    return _REFERENCE.sub(replace, secrets.scrub(text))


# One character of each class the pattern tells apart.
CLASSES = {
    "name": "aZ09_.-",
    "hex": "0123456789abcdef",
    "base64url": "AZaz09-_",
    "base64": "AZaz09+/=",
    "separator": ":=",
    "whitespace": " \t\n\r\x0b\x0c\x1c\x85\xa0\u2028\u3000",
    "quote": "\"'",
    "stopper": "&,;}",
    "other": "/?#%@!()[]{}<>|\\^`~*$é日\x00",
}
WORDS = [
    "token",
    "Token",
    "password",
    "access_token",
    "auth.accessToken",
    "x-api-key",
    "temperature",
    "Authorization",
    "Bearer",
    "BASIC",
    "mac",
    "digest",
    "ſecret",
    '"token"',
    "'password'",
    '"a"',
    *ACCOUNT_SECRETS,
]

# A run: one character of a class repeated, or characters of the class mixed.
runs = st.one_of(
    st.builds(
        lambda chars, size: chars * size,
        st.sampled_from([c for chars in CLASSES.values() for c in chars]),
        st.integers(min_value=1, max_value=600),
    ),
    st.sampled_from(list(CLASSES.values())).flatmap(
        lambda chars: st.text(alphabet=chars, min_size=1, max_size=600)
    ),
    st.sampled_from(WORDS),
)
texts = st.lists(runs, max_size=8).map("".join)


@given(texts)
def test_same_pairs_as_the_plain_pattern(text: str) -> None:
    """Long runs of any class: the pairs the plain pattern finds, no more, no less."""
    count("redact_runs")
    assert redact_text(text) == reference(text)


@given(texts)
def test_same_with_the_account_secrets(text: str) -> None:
    """With the account's secrets: same result, and none of them is left."""
    count("redact_runs_secrets")
    secrets = Secrets(*ACCOUNT_SECRETS)
    redacted = redact_text(text, secrets)
    assert redacted == reference(text, secrets)
    assert not leaked(redacted)
