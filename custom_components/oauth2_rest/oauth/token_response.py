"""Turn whatever a token endpoint answered into an RFC 6749 token dict.

Pure functions, no I/O: the implementation feeds them the status, content type and
body it received. Quirks come from the provider profile as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from http import HTTPStatus
import math
import re
import time
from typing import Any, override
from urllib.parse import parse_qsl

from ..client.response import loads_json
from .provider import TokenResponseQuirks
from .token_set import (
    ACCESS_TOKEN,
    CLIENT_CREDENTIALS_KEY,
    EXPIRES_AT,
    EXPIRES_IN,
    ID_TOKEN,
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    REFRESH_TOKEN,
    REFRESH_TOKEN_EXPIRES_IN,
    SCOPE,
    TOKEN_TYPE,
)

# A token endpoint's body larger than this is refused unread.
MAX_TOKEN_RESPONSE_BYTES = 1024 * 1024
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f]")
# A number in a token answer or token file: JSON's, or ASCII decimal notation in a
# string (form bodies carry nothing else). Possessive runs: linear on any input.
_DECIMAL = re.compile(
    r"[+-]?+(?:[0-9]++(?:\.[0-9]*+)?+|\.[0-9]++)(?:[eE][+-]?+[0-9]++)?+"
)
# Numbers are clamped to this magnitude: beyond any lifetime or expiry in seconds or
# milliseconds (year 287 396), and exact as a float and as a 64-bit integer.
MAX_NUMBER = float(2**53)
# Home Assistant's JSON writer refuses integers beyond 64 bits.
_STORABLE_INT = 2**63 - 1

# RFC 6749 section 5.2 and RFC 8628 error codes, mapped to the HTTP status a compliant
# server would have used. They classify errors a provider returns with HTTP 200.
_ERROR_CODE_STATUS: dict[str, int] = {
    "invalid_request": HTTPStatus.BAD_REQUEST,
    "invalid_client": HTTPStatus.UNAUTHORIZED,
    "invalid_grant": HTTPStatus.BAD_REQUEST,
    "unauthorized_client": HTTPStatus.BAD_REQUEST,
    "unsupported_grant_type": HTTPStatus.BAD_REQUEST,
    "invalid_scope": HTTPStatus.BAD_REQUEST,
    "access_denied": HTTPStatus.BAD_REQUEST,
    "expired_token": HTTPStatus.BAD_REQUEST,
    "bad_verification_code": HTTPStatus.BAD_REQUEST,
    "incorrect_client_credentials": HTTPStatus.UNAUTHORIZED,
    "authorization_pending": HTTPStatus.BAD_REQUEST,
    "slow_down": HTTPStatus.TOO_MANY_REQUESTS,
    "temporarily_unavailable": HTTPStatus.SERVICE_UNAVAILABLE,
    "server_error": HTTPStatus.SERVICE_UNAVAILABLE,
}


@dataclass(frozen=True, slots=True)
class TokenEndpointError(Exception):
    """The token endpoint refused the request.

    ``status`` is the HTTP status, or the one implied by the error code when the
    provider reported the error inside an HTTP 200 body.
    """

    status: int
    error: str
    description: str | None = None

    @override
    def __str__(self) -> str:
        """Describe the error without any token material."""
        detail = f": {self.description}" if self.description else ""
        return f"token endpoint error {self.status} {self.error}{detail}"


class InvalidTokenResponse(ValueError):
    """The token endpoint answered something that is not a usable token."""


class UnsupportedTokenType(InvalidTokenResponse):
    """The token endpoint issued a token that is not a bearer token.

    Sending it as a bearer token would fail (or leak a proof-of-possession token):
    linking the account again is the only way on.
    """

    def __init__(self, token_type: str) -> None:
        """Name the token type (it holds no token material)."""
        super().__init__(f"token_type {token_type!r} is not supported, only bearer")
        self.token_type = token_type


def parse_number(value: Any) -> float | None:
    """Read a number of a token answer or a token file: finite, clamped, or None.

    The one reading of such numbers (lifetimes, expiries, the stored expiry). An
    int or float (never a bool), or a string of ASCII decimal notation with
    optional surrounding ASCII whitespace. A magnitude beyond ``MAX_NUMBER`` (400
    digits, ``1e400``, infinity) is clamped to it, so no caller meets an
    OverflowError. None for anything else: NaN, ``"inf"``, digits of other scripts
    (``"²"``, ``"١٢"``, ``"１２"``), ``"1_000"``, containers. Linear in a string's
    length.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = max(-MAX_NUMBER, min(MAX_NUMBER, value))  # exact: no float(int)
        return float(value)
    if isinstance(value, str):
        text = value.strip(" \t\r\n")
        if not _DECIMAL.fullmatch(text):
            return None
        value = float(text)  # never raises for this notation; may be infinite
    if not isinstance(value, float) or math.isnan(value):
        return None
    return max(-MAX_NUMBER, min(MAX_NUMBER, value))


def _storable(value: Any) -> Any:
    """``value`` (JSON) with integers beyond 64 bits as their digits.

    Home Assistant's JSON writer refuses such integers, and with them every config
    entry it saves. Nesting is bounded by the JSON reader (``loads_json``).
    """
    if isinstance(value, int) and not -_STORABLE_INT <= value <= _STORABLE_INT:
        return str(value)
    if isinstance(value, dict):
        return {key: _storable(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_storable(item) for item in value]
    return value


def decode_body(content_type: str, body: bytes) -> dict[str, Any]:
    """Decode a JSON or form-encoded token endpoint body into a dict."""
    text = body.decode("utf-8", errors="replace").strip()
    if "application/x-www-form-urlencoded" in content_type or (
        text and not text.startswith(("{", "[")) and "=" in text
    ):
        return dict(parse_qsl(text, keep_blank_values=True))
    try:
        decoded = loads_json(text)  # bounded depth: a ValueError when too deep
    except ValueError as err:
        raise InvalidTokenResponse("token endpoint body is not JSON") from err
    if not isinstance(decoded, dict):
        raise InvalidTokenResponse("token endpoint body is not an object")
    return decoded


# Where a token answer may hide its token fields (Withings: "body"), in the order
# they are tried when detecting; a numeric status beside them (Withings: "status").
_WRAPPER_KEYS = ("body", "data")
_STATUS_KEYS = ("status", "code")
# The lifetime and absolute expiry fields tried when ``expires_in`` is missing.
_EXPIRES_IN_FIELDS = ("expires",)
_EXPIRES_AT_FIELDS = (EXPIRES_AT, "expires_on", "expiry")
# Above this a number under a lifetime field is an absolute time (2001-09-09).
_ABSOLUTE_ABOVE = 1_000_000_000
# Above this an absolute expiry is in milliseconds (this is the year 5138 in seconds).
_MILLISECONDS_ABOVE = 100_000_000_000


def detect_quirks(
    status: int, content_type: str, body: bytes, quirks: TokenResponseQuirks
) -> TokenResponseQuirks:
    """Return ``quirks`` with what a successful token answer shows about its shape.

    Looks at the first answer of a grant, so that a provider entered by hand or by
    discovery needs no preset: the token wrapped in an object (``{"status": 0,
    "body": {...}}``, ``{"data": {...}}``), a numeric status beside it (an error
    then comes as another status in an HTTP 200), an absolute ``expires_at`` or a
    Facebook-style ``expires`` instead of ``expires_in``. What the quirks already
    declare (a preset) is kept; what was found is named in ``detected``. An error
    answer, or one that is no token, changes nothing.
    """
    if status >= HTTPStatus.BAD_REQUEST:
        return quirks
    try:
        data = decode_body(content_type, body)
    except InvalidTokenResponse:
        return quirks
    changes: dict[str, Any] = {}
    wrapper = quirks.wrapper_key
    if wrapper is None and not _has_token(data):
        wrapper = next(
            (key for key in _WRAPPER_KEYS if _has_token(data.get(key))), None
        )
        if wrapper is None:
            return quirks
        changes["wrapper_key"] = wrapper
    if quirks.status_key is None and (
        status_key := next(
            (key for key in _STATUS_KEYS if _is_status(data.get(key))),
            None,
        )
    ):
        changes["status_key"] = status_key
        changes["status_ok"] = int(data[status_key])
    token = data.get(wrapper) if wrapper is not None else data
    if isinstance(token, Mapping) and quirks.expires_at_field is None:
        expires_in_field = quirks.expires_in_field
        if token.get(expires_in_field) in (None, ""):
            if found := next(
                (
                    k
                    for k in _EXPIRES_IN_FIELDS
                    if parse_number(token.get(k)) is not None
                ),
                None,
            ):
                # Facebook's ``expires`` is a lifetime; a Unix time there is not.
                absolute = (parse_number(token[found]) or 0) > _ABSOLUTE_ABOVE
                changes["expires_at_field" if absolute else "expires_in_field"] = found
            elif found := next(
                (k for k in _EXPIRES_AT_FIELDS if token.get(k) not in (None, "")),
                None,
            ):
                changes["expires_at_field"] = found
    if not changes:
        return quirks
    detected = tuple(dict.fromkeys((*quirks.detected, *changes)))
    return replace(quirks, **changes, detected=detected)


def _has_token(data: Any) -> bool:
    return isinstance(data, Mapping) and isinstance(data.get(ACCESS_TOKEN), str)


def _is_status(value: Any) -> bool:
    """A numeric status as servers write them: an int (not a bool) of 32 bits."""
    return (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -(2**31) <= value < 2**31
    )


def parse_token_response(
    status: int, content_type: str, body: bytes, quirks: TokenResponseQuirks
) -> dict[str, Any]:
    """Return the normalised token dict, or raise TokenEndpointError.

    Raises InvalidTokenResponse when a successful answer holds no usable token.
    """
    try:
        data = decode_body(content_type, body)
    except InvalidTokenResponse:
        if status >= HTTPStatus.BAD_REQUEST:
            raise TokenEndpointError(status, "unreadable_error_response") from None
        raise

    if status >= HTTPStatus.BAD_REQUEST:
        raise TokenEndpointError(
            status, str(data.get("error", "unknown_error")), _description(data)
        )
    _raise_error_in_success(data, quirks)
    if quirks.wrapper_key is not None:
        wrapped = data.get(quirks.wrapper_key)
        if not isinstance(wrapped, dict):
            raise InvalidTokenResponse(f"missing '{quirks.wrapper_key}' object")
        data = wrapped
    return normalise_token(data, quirks)


def _raise_error_in_success(
    data: Mapping[str, Any], quirks: TokenResponseQuirks
) -> None:
    """Raise the error some providers report inside an HTTP 200 answer."""
    if quirks.status_key is not None and quirks.status_key in data:
        code = data[quirks.status_key]
        if code != quirks.status_ok:
            error = str(data.get("error", f"status_{code}"))
            raise TokenEndpointError(
                _wrapped_error_status(code, error, quirks), error, _description(data)
            )
    if "error" in data and ACCESS_TOKEN not in data:
        error = str(data["error"])
        raise TokenEndpointError(
            _ERROR_CODE_STATUS.get(error, HTTPStatus.BAD_REQUEST),
            error,
            _description(data),
        )


# Error codes in a wrapper that end the grant whatever its status says.
_DEAD_GRANT_ERRORS = ("invalid_grant", "invalid_token")


def _wrapped_error_status(code: Any, error: str, quirks: TokenResponseQuirks) -> int:
    """The HTTP status an error inside an HTTP 200 wrapper stands for.

    A known error code says it (``invalid_token`` too: the grant is dead). Else a
    preset's explicit list of dead-grant statuses decides; a wrapper found by
    detection has no such list, so its status read as HTTP (400-499) is a dead
    grant, 429 excepted. Anything else (rate limits, the provider's own failures) is retried.
    """
    if error in _DEAD_GRANT_ERRORS:
        return HTTPStatus.BAD_REQUEST
    if error in _ERROR_CODE_STATUS:
        return _ERROR_CODE_STATUS[error]
    if quirks.reauth_statuses:
        dead = code in quirks.reauth_statuses
    else:
        dead = (
            "status_key" in quirks.detected
            and _is_status(code)
            and HTTPStatus.BAD_REQUEST <= code < HTTPStatus.INTERNAL_SERVER_ERROR
            and code != HTTPStatus.TOO_MANY_REQUESTS
        )
    return HTTPStatus.BAD_REQUEST if dead else HTTPStatus.SERVICE_UNAVAILABLE


def _description(data: Mapping[str, Any]) -> str | None:
    description = data.get("error_description")
    return str(description)[:200] if description else None


def normalise_token(
    data: Mapping[str, Any],
    quirks: TokenResponseQuirks | None = None,
    now: float | None = None,
) -> dict[str, Any]:
    """Return a JSON-serialisable token dict holding only the fields we know.

    - the access token must be a non-empty string without control characters (it
      goes into an HTTP header);
    - ``token_type`` must be bearer (any case) or absent: anything else (DPoP, MAC)
      is UnsupportedTokenType, never sent as a bearer token;
    - ``refresh_token`` null or empty is left out, so a refresh keeps the stored one;
    - ``scope`` given as a list (Twitch) becomes the space-separated string of RFC 6749;
    - ``expires_in`` (or the quirks' lifetime field, or their absolute expiry field as
      of ``now``) becomes a positive int no larger than NON_EXPIRING_SECONDS; a
      lifetime that says nothing (absent, 0 or less, boolean, NaN, junk) marks the
      token as non-expiring: it is used until the API rejects it;
    - of the other fields only those we use are kept (``id_token``, the root of the
      profile's ``subject_field``), so nothing unexpected is stored.
    """
    quirks = quirks or TokenResponseQuirks()
    access_token = _access_token(data.get(ACCESS_TOKEN))
    token_type = _token_type(data.get(TOKEN_TYPE))
    token: dict[str, Any] = {ACCESS_TOKEN: access_token, TOKEN_TYPE: token_type}
    refresh_token = data.get(REFRESH_TOKEN)
    if isinstance(refresh_token, str) and refresh_token:
        token[REFRESH_TOKEN] = refresh_token
    scope = data.get(SCOPE)
    if isinstance(scope, list):
        token[SCOPE] = " ".join(str(item) for item in scope)
    elif isinstance(scope, str):
        token[SCOPE] = scope
    if isinstance(id_token := data.get(ID_TOKEN), str):
        token[ID_TOKEN] = id_token
    if (
        refresh_lifetime := token_lifetime(data.get(REFRESH_TOKEN_EXPIRES_IN))
    ) is not None:
        token[REFRESH_TOKEN_EXPIRES_IN] = refresh_lifetime
    if quirks.subject_field and (root := quirks.subject_field.split(".")[0]) in data:
        token[root] = _storable(data[root])
    expires_in = data.get(quirks.expires_in_field)
    if quirks.expires_at_field is not None and expires_in in (None, ""):
        expires_in = _lifetime_from_expiry(
            data.get(quirks.expires_at_field), time.time() if now is None else now
        )
    if (lifetime := token_lifetime(expires_in)) is None:
        token[EXPIRES_IN] = NON_EXPIRING_SECONDS
        token[NON_EXPIRING_MARKER] = True
    else:
        token[EXPIRES_IN] = lifetime
    return token


def _access_token(value: Any) -> str:
    """The access token: a non-empty string without control characters.

    It goes into an HTTP header. Raises InvalidTokenResponse.
    """
    if not isinstance(value, str) or not value:
        raise InvalidTokenResponse("no access_token in token response")
    if _CONTROL_CHARACTERS.search(value):
        raise InvalidTokenResponse("access_token holds control characters")
    return value


def _token_type(value: Any) -> str:
    """The token type: bearer (any case), Bearer when absent; else unsupported."""
    if value in (None, ""):
        return "Bearer"
    if not isinstance(value, str) or value.lower() != "bearer":
        raise UnsupportedTokenType(str(value)[:40])
    return value


def validate_token_set(token: Any) -> dict[str, Any]:
    """Return ``token`` if it is a complete stored token set; else raise.

    What a token answer must hold (the access token, a bearer type), plus what
    storing adds: ``expires_at`` a finite number, ``expires_in`` a lifetime as
    ``normalise_token`` writes it, a refresh token a non-empty string when
    present, client credentials parameters as strings, and nothing Home Assistant's JSON writer refuses (integers beyond 64 bits).
    Raises InvalidTokenResponse naming the field, never its value.
    """
    if not isinstance(token, dict):
        raise InvalidTokenResponse("the token set is not an object")
    _access_token(token.get(ACCESS_TOKEN))
    if not isinstance(token.get(TOKEN_TYPE), str):
        raise InvalidTokenResponse("the token set has no token_type")
    _token_type(token[TOKEN_TYPE])
    expires_at = token.get(EXPIRES_AT)
    if (
        not isinstance(expires_at, int | float)
        or parse_number(expires_at) != expires_at
    ):
        raise InvalidTokenResponse("the token set's expires_at is not a finite number")
    expires_in = token.get(EXPIRES_IN)
    if not isinstance(expires_in, int) or token_lifetime(expires_in) != expires_in:
        raise InvalidTokenResponse("the token set's expires_in is not a lifetime")
    if REFRESH_TOKEN in token and not (
        isinstance(token[REFRESH_TOKEN], str) and token[REFRESH_TOKEN]
    ):
        raise InvalidTokenResponse("the token set's refresh_token is not a string")
    params = token.get(CLIENT_CREDENTIALS_KEY, {})
    if not isinstance(params, dict) or not all(
        isinstance(key, str) and isinstance(value, str) for key, value in params.items()
    ):
        raise InvalidTokenResponse("the token set's client credentials are not text")
    if _storable(token) != token:
        raise InvalidTokenResponse("the token set holds a number beyond 64 bits")
    return token


def _lifetime_from_expiry(value: Any, now: float) -> int | None:
    """Seconds until an absolute expiry (Unix seconds or ms, or ISO 8601)."""
    if value in (None, ""):
        return None
    if (number := parse_number(value)) is not None:
        at = number
        if at > _MILLISECONDS_ABOVE:
            at /= 1000
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as err:
            raise InvalidTokenResponse("the token's expiry is not a time") from err
        if moment.tzinfo is None:
            raise InvalidTokenResponse("the token's expiry has no time zone")
        at = moment.timestamp()
    else:
        raise InvalidTokenResponse("the token's expiry is not a time")
    if not at - now > 0:  # also NaN
        raise InvalidTokenResponse("the token expired before it was received")
    return token_lifetime(at - now)


def token_lifetime(expires_in: Any) -> int | None:
    """Return ``expires_in`` as whole seconds within (0, 10 years], or None.

    None means the lifetime is unknown: absent, boolean, not a number (NaN, junk,
    see ``parse_number``) or 0 or less. A lifetime beyond ten years (2**63-1,
    1e12, inf, 400 digits) is clamped.
    """
    if (seconds := parse_number(expires_in)) is None:
        return None
    if seconds >= NON_EXPIRING_SECONDS:
        return NON_EXPIRING_SECONDS
    return int(seconds) if seconds >= 1 else None


def value_at_path(data: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path (``athlete.id``), or None."""
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current
