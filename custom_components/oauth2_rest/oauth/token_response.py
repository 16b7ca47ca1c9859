"""Turn whatever a token endpoint answered into an RFC 6749 token dict.

Pure functions, no I/O: the implementation feeds them the status, content type and
body it received. Quirks come from the provider profile as data.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qsl

from ..client.response import loads_json
from .provider import TokenResponseQuirks

# A token without ``expires_in`` never expires (GitHub's classic tokens). HA's session
# needs an expiry, so such tokens get one far away and are marked as non-expiring.
NON_EXPIRING_SECONDS = 10 * 365 * 24 * 3600
NON_EXPIRING_MARKER = "non_expiring"

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

    def __str__(self) -> str:
        """Describe the error without any token material."""
        detail = f": {self.description}" if self.description else ""
        return f"token endpoint error {self.status} {self.error}{detail}"


class InvalidTokenResponse(ValueError):
    """The token endpoint answered something that is not a usable token."""


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
    return normalise_token(data)


def _raise_error_in_success(
    data: Mapping[str, Any], quirks: TokenResponseQuirks
) -> None:
    """Raise the error some providers report inside an HTTP 200 answer."""
    if quirks.status_key is not None and quirks.status_key in data:
        code = data[quirks.status_key]
        if code != quirks.status_ok:
            error = str(data.get("error", f"status_{code}"))
            if error in _ERROR_CODE_STATUS:
                status = _ERROR_CODE_STATUS[error]
            elif code in quirks.reauth_statuses:
                status = HTTPStatus.BAD_REQUEST
            else:  # Rate limits and the provider's own failures: retry.
                status = HTTPStatus.SERVICE_UNAVAILABLE
            raise TokenEndpointError(status, error, _description(data))
    if "error" in data and "access_token" not in data:
        error = str(data["error"])
        raise TokenEndpointError(
            _ERROR_CODE_STATUS.get(error, HTTPStatus.BAD_REQUEST),
            error,
            _description(data),
        )


def _description(data: Mapping[str, Any]) -> str | None:
    description = data.get("error_description")
    return str(description)[:200] if description else None


def normalise_token(data: Mapping[str, Any]) -> dict[str, Any]:
    """Return a JSON-serialisable token dict with an integer ``expires_in``.

    - ``scope`` given as a list (Twitch) becomes the space-separated string of RFC 6749;
    - ``expires_in`` given as a string becomes an int; a missing one (or 0 or less)
      marks the token as non-expiring;
    - a response without ``access_token`` is rejected.
    """
    token = dict(data)
    if not isinstance(token.get("access_token"), str) or not token["access_token"]:
        raise InvalidTokenResponse("no access_token in token response")
    if isinstance(token.get("scope"), list):
        token["scope"] = " ".join(str(scope) for scope in token["scope"])
    expires_in = token.get("expires_in")
    if expires_in not in (None, ""):
        try:
            expires_in = int(float(expires_in))
        except (TypeError, ValueError, OverflowError) as err:
            raise InvalidTokenResponse("expires_in is not a number") from err
    if expires_in in (None, "") or expires_in <= 0:
        # Absent, or a lifetime that says nothing (0 or less): the token is used
        # until the API rejects it, which forces a refresh.
        token["expires_in"] = NON_EXPIRING_SECONDS
        token[NON_EXPIRING_MARKER] = True
    else:
        token["expires_in"] = expires_in
        token.pop(NON_EXPIRING_MARKER, None)
    return token


def value_at_path(data: Mapping[str, Any], path: str) -> Any:
    """Return the value at a dotted path (``athlete.id``), or None."""
    current: Any = data
    for part in path.split("."):
        if not isinstance(current, Mapping) or part not in current:
            return None
        current = current[part]
    return current
