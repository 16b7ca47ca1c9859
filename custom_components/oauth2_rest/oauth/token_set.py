"""The account's token set as it is stored: its fields, its type, its readers.

The one module that knows the token's field names. ``token_response.py`` makes a
token set from a token endpoint's answer; ``stamp_expiry`` gives it the absolute
expiry it is stored with; ``token_store.py`` adds the generation. The stored JSON is
a plain object with these fields (``StoredToken``), plus the root of the profile's
``subject_field`` when the provider names the account in its token answer.

Home Assistant's OAuth2 hooks hand tokens around as plain dicts; its base classes
stamp ``expires_at`` themselves where they make a token (the authorization code
flow's ``async_step_creation``) by the same rule as ``stamp_expiry``.
"""

from __future__ import annotations

from collections.abc import Mapping
import time
from typing import Any, Final, NotRequired, TypedDict

ACCESS_TOKEN: Final = "access_token"
REFRESH_TOKEN: Final = "refresh_token"
ID_TOKEN: Final = "id_token"
TOKEN_TYPE: Final = "token_type"
SCOPE: Final = "scope"
EXPIRES_IN: Final = "expires_in"
EXPIRES_AT: Final = "expires_at"
REFRESH_TOKEN_EXPIRES_IN: Final = "refresh_token_expires_in"
# A token without ``expires_in`` never expires (GitHub's classic tokens). HA's session
# needs an expiry, so such tokens get one far away and are marked as non-expiring.
NON_EXPIRING_SECONDS: Final = 10 * 365 * 24 * 3600
NON_EXPIRING_MARKER: Final = "non_expiring"
# A token got with the client credentials grant carries, under this key, the
# parameters of the request that gets the next one (it has no refresh token).
CLIENT_CREDENTIALS_KEY: Final = "client_credentials"
# The token set's generation, written by token_store.py.
GENERATION: Final = "generation"
# The fields whose values are secrets (redact.py scrubs them by value).
SECRET_FIELDS: Final = (ACCESS_TOKEN, REFRESH_TOKEN, ID_TOKEN)
# The fields that tell what a token is like, never what it is (diagnostics show them).
DESCRIPTIVE_FIELDS: Final = frozenset(
    {
        TOKEN_TYPE,
        EXPIRES_IN,
        EXPIRES_AT,
        SCOPE,
        REFRESH_TOKEN_EXPIRES_IN,
        NON_EXPIRING_MARKER,
        # The client credentials request that renews the token: scope, audience.
        CLIENT_CREDENTIALS_KEY,
        GENERATION,
    }
)


class StoredToken(TypedDict):
    """A token set as the config entry and the token file hold it."""

    access_token: str
    token_type: str
    # Unix time the access token expires at (``stamp_expiry``).
    expires_at: float
    # Whole seconds, as ``normalise_token`` writes it (NON_EXPIRING_SECONDS when
    # the token does not expire); absent in a token set stored without one.
    expires_in: NotRequired[int]
    refresh_token: NotRequired[str]
    id_token: NotRequired[str]
    scope: NotRequired[str]
    refresh_token_expires_in: NotRequired[int]
    non_expiring: NotRequired[bool]
    client_credentials: NotRequired[dict[str, str]]
    generation: NotRequired[int]


def stamp_expiry(token: dict[str, Any], now: float | None = None) -> dict[str, Any]:
    """Give a token set made from an answer its absolute expiry; return it.

    The one place we write ``expires_at``: ``expires_in`` seconds from ``now``
    (when the answer arrived; the current time by default).
    """
    token[EXPIRES_AT] = (time.time() if now is None else now) + token[EXPIRES_IN]
    return token


def entry_token(entry_data: Mapping[str, Any]) -> StoredToken:
    """The token set held in a config entry's data."""
    token: StoredToken = entry_data["token"]
    return token


def is_non_expiring(token: StoredToken) -> bool:
    """Whether the provider gave the token no lifetime (used until rejected)."""
    return bool(token.get(NON_EXPIRING_MARKER))


def lifetime(token: StoredToken) -> int | None:
    """The access token's lifetime in seconds, when it has one.

    None when it does not expire, or the token set was stored without one.
    """
    return None if is_non_expiring(token) else token.get(EXPIRES_IN)


def expiry(token: StoredToken) -> float | None:
    """When the access token expires (Unix time); None when it does not."""
    return None if is_non_expiring(token) else token.get(EXPIRES_AT)


def is_client_credentials_token(token: Mapping[str, Any]) -> bool:
    """Whether a token set comes from the client credentials grant."""
    return isinstance(token.get(CLIENT_CREDENTIALS_KEY), dict)


def generation_of(token: Any) -> int | None:
    """The generation of a stored token set; None for one the flow just linked.

    Anything may come from a token file: only an int (not a bool) is a generation.
    """
    value = token.get(GENERATION) if isinstance(token, dict) else None
    return value if isinstance(value, int) and not isinstance(value, bool) else None
