"""The stored token has one type, one stamp of its expiry, and one list of fields."""

from __future__ import annotations

from pathlib import Path
import re

import pytest

from custom_components.oauth2_rest.oauth.token_set import (
    EXPIRES_AT,
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    expiry,
    generation_of,
    lifetime,
    stamp_expiry,
)

PACKAGE = Path(__file__).parent.parent / "custom_components" / "oauth2_rest"
TOKEN_SET = PACKAGE / "oauth" / "token_set.py"
# The stored token's own field names: no other module spells them.
FIELDS = (
    "access_token",
    "refresh_token",
    "id_token",
    "token_type",
    "expires_at",
    "generation",
    "non_expiring",
)
# The field used as a key: subscripted, read with get, tested with in, or a dict key.
_NAMES = "|".join(FIELDS)
_FIELD_USE = re.compile(
    rf"""(?:\[\s*|\.get\(\s*|\.pop\(\s*)"(?P<a>{_NAMES})"|"(?P<b>{_NAMES})"\s*(?::|in\b)"""
)
_STAMP = re.compile(r"""\[\s*(?:EXPIRES_AT|"expires_at")\s*\]\s*=[^=]""")


def modules() -> list[Path]:
    """The integration's Python modules."""
    return sorted(PACKAGE.rglob("*.py"))


def test_one_function_stamps_the_expiry() -> None:
    """``expires_at`` is written in token_set.py (stamp_expiry) and nowhere else."""
    writers = [
        str(path.relative_to(PACKAGE))
        for path in modules()
        if _STAMP.search(path.read_text())
    ]
    assert writers == ["oauth/token_set.py"]


def test_token_fields_are_known_in_one_module() -> None:
    """Other modules use the names token_set.py defines, never their spelling."""
    spelled = {
        str(path.relative_to(PACKAGE)): sorted(
            {match["a"] or match["b"] for match in _FIELD_USE.finditer(text)}
        )
        for path in modules()
        if path != TOKEN_SET and _FIELD_USE.search(text := path.read_text())
    }
    assert spelled == {}


def test_stamp_expiry_counts_from_when_the_answer_arrived() -> None:
    """The expiry is the lifetime after ``now``; the token set is the same object."""
    token = {"access_token": "a", "token_type": "Bearer", "expires_in": 3600}
    assert stamp_expiry(token, now=1_000.5) is token
    assert token[EXPIRES_AT] == 4_600.5


@pytest.mark.parametrize(
    ("token", "seconds", "expires"),
    [
        ({"expires_in": 3600, "expires_at": 5.0}, 3600, 5.0),
        # Stored by an older version without a lifetime: the expiry still counts.
        ({"expires_at": 5.0}, None, 5.0),
        (
            {
                "expires_in": NON_EXPIRING_SECONDS,
                "expires_at": 5.0,
                NON_EXPIRING_MARKER: True,
            },
            None,
            None,
        ),
    ],
)
def test_readers(
    token: dict[str, object], seconds: int | None, expires: float | None
) -> None:
    """Lifetime and expiry as the session and the health sensor read them."""
    stored = {"access_token": "a", "token_type": "Bearer", **token}
    assert lifetime(stored) == seconds
    assert expiry(stored) == expires


@pytest.mark.parametrize(
    ("token", "generation"),
    [({"generation": 3}, 3), ({"generation": True}, None), ({}, None), ([], None)],
)
def test_generation_of(token: object, generation: int | None) -> None:
    """Only an int (never a bool) is a generation; anything else is none."""
    assert generation_of(token) == generation
