"""Properties of the token file: whatever it holds, a good token is never replaced."""

from __future__ import annotations

import json
import math
from pathlib import Path
import tempfile
import time
from typing import Any

from homeassistant.helpers.json import json_bytes
from hypothesis import example, given, strategies as st

from custom_components.oauth2_rest.oauth.token_response import (
    InvalidTokenResponse,
    validate_token_set,
)
from custom_components.oauth2_rest.token_store import _read, write_durably

from .common import count, deep_json, json_values, odd_numbers

ENTRY_ID = "01JFUZZENTRY"
GOOD = {
    "access_token": "a",
    "refresh_token": "r",
    "token_type": "Bearer",
    "expires_in": 3600,
    "expires_at": time.time() + 3600,
    "generation": 4,
}

# A token set with any of its fields replaced, removed, or odd fields added.
token_sets = st.builds(
    lambda changes, removed: {
        **{key: value for key, value in GOOD.items() if key not in removed},
        **changes,
    },
    st.fixed_dictionaries(
        {},
        optional={
            "access_token": json_values | st.text(max_size=5),
            "refresh_token": json_values,
            "token_type": json_values | st.sampled_from(["bearer", "mac", "DPoP"]),
            "expires_in": odd_numbers | json_values,
            "expires_at": odd_numbers | json_values,
            "generation": odd_numbers,
            "client_credentials": json_values,
            "athlete": json_values | odd_numbers,
            "non_expiring": json_values,
        },
    ),
    st.sets(st.sampled_from(sorted(GOOD))),
)


@given(token=token_sets | json_values)
@example(token={**GOOD, "expires_at": 10**400})
@example(token={**GOOD, "expires_at": "2030-01-01T00:00:00Z"})
def test_validate_token_set(token: Any) -> None:
    """A token set it lets through is one the session and HA's store can use."""
    count("validate_token_set")
    try:
        valid = validate_token_set(token)
    except InvalidTokenResponse as err:
        assert "SECRET" not in str(err)
        return
    assert isinstance(valid["access_token"], str)
    assert valid["access_token"]
    assert isinstance(valid["expires_at"], int | float)
    assert math.isfinite(valid["expires_at"])
    assert isinstance(valid["expires_in"], int)
    assert valid["expires_in"] > 0
    json_bytes(valid)


file_payloads = st.one_of(
    st.builds(
        lambda entry_id, token, version: json.dumps(
            {"version": version, "entry_id": entry_id, "token": token}
        ).encode(),
        st.sampled_from([ENTRY_ID, "01JOTHERENTRY", ""]) | json_values,
        token_sets | json_values,
        st.integers() | json_values,
    ),
    deep_json.map(str.encode),
    st.binary(max_size=64),
)


@given(payload=file_payloads)
@example(payload=b"[" * 100_000 + b"]" * 100_000)
def test_read_token_file(payload: bytes) -> None:
    """Any file: this entry's valid token set, or None; never an exception."""
    count("token_file")
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / f"oauth2_rest.token.{ENTRY_ID}"
        write_durably(path, payload)
        token = _read(path, ENTRY_ID)
        assert [p.name for p in Path(directory).iterdir()] == [path.name]
    if token is None:
        return
    assert json.loads(payload)["entry_id"] == ENTRY_ID
    assert validate_token_set(token) is token
    json_bytes(token)
