"""Properties of the stored token: every token answer we accept stores completely."""

from __future__ import annotations

from typing import Any

from hypothesis import given, strategies as st

from custom_components.oauth2_rest.oauth.provider import TokenResponseQuirks
from custom_components.oauth2_rest.oauth.token_response import (
    InvalidTokenResponse,
    normalise_token,
    validate_token_set,
)
from custom_components.oauth2_rest.oauth.token_set import (
    NON_EXPIRING_SECONDS,
    expiry,
    is_non_expiring,
    lifetime,
    stamp_expiry,
)

from .common import count, json_values

NOW = 1_700_000_000.25
# Lifetimes as providers write them: numbers, numeric strings, junk.
lifetimes = (
    st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.from_regex(r"\A[ ]?[+-]?[0-9]{0,12}(\.[0-9]{0,3})?(e[0-9]{1,3})?[ ]?\Z")
    | json_values
)
answers = st.fixed_dictionaries(
    {
        "access_token": st.text(
            st.characters(min_codepoint=0x20, max_codepoint=0x7E), min_size=1
        )
        | json_values
    },
    optional={
        "token_type": st.sampled_from(["Bearer", "bearer", "DPoP", ""]) | json_values,
        "expires_in": lifetimes,
        "refresh_token": st.text(max_size=20) | json_values,
        "scope": st.text(max_size=20) | st.lists(st.text(max_size=8), max_size=3),
        "refresh_token_expires_in": lifetimes,
        "account": json_values,
    },
)


@given(answer=answers)
def test_every_accepted_answer_stores_completely(answer: dict[str, Any]) -> None:
    """An answer normalise_token accepts, stamped, is a complete stored token set.

    And the readers agree with what was stored: the lifetime is the stored
    ``expires_in`` (none for a token that does not expire), the expiry is the
    lifetime after the moment the answer arrived.
    """
    count("token_set")
    quirks = TokenResponseQuirks(subject_field="account.id")
    try:
        token = normalise_token(answer, quirks)
    except InvalidTokenResponse:
        return
    count("token_set stored")
    stored = stamp_expiry(token, now=NOW)
    assert validate_token_set(stored) is stored
    if is_non_expiring(stored):
        assert stored["expires_in"] == NON_EXPIRING_SECONDS
        assert lifetime(stored) is None
        assert expiry(stored) is None
    else:
        assert 1 <= stored["expires_in"] <= NON_EXPIRING_SECONDS
        assert lifetime(stored) == stored["expires_in"]
        assert expiry(stored) == NOW + stored["expires_in"]
