"""Token endpoint answers, quirky or not, turned into RFC 6749 token dicts."""

from __future__ import annotations

import json
from typing import Any

from homeassistant.helpers.json import json_bytes
import pytest

from custom_components.oauth2_rest.oauth import token_response
from custom_components.oauth2_rest.oauth.provider import (
    ProviderProfile,
    TokenResponseQuirks,
    load_presets,
)
from custom_components.oauth2_rest.oauth.token_response import (
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    InvalidTokenResponse,
    TokenEndpointError,
    decode_body,
    detect_quirks,
    normalise_token,
    parse_token_response,
    value_at_path,
)

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PLAIN = TokenResponseQuirks()
# The catalog's own data, so the test follows the preset.
WITHINGS = load_presets()["withings"].quirks


def _json(data: Any) -> bytes:
    return json.dumps(data).encode()


def test_plain_json() -> None:
    """An RFC 6749 answer passes through with an int expires_in."""
    token = parse_token_response(
        200,
        JSON,
        _json(
            {
                "access_token": "at",
                "refresh_token": "rt",
                "token_type": "Bearer",
                "expires_in": 3600,
                "scope": "read write",
            }
        ),
        PLAIN,
    )
    assert token == {
        "access_token": "at",
        "refresh_token": "rt",
        "token_type": "Bearer",
        "expires_in": 3600,
        "scope": "read write",
    }


def test_json_without_content_type() -> None:
    """A JSON body is read even when the server sends no content type."""
    token = parse_token_response(200, "", _json({"access_token": "at"}), PLAIN)
    assert token["access_token"] == "at"


@pytest.mark.parametrize("content_type", [FORM, "text/plain", ""])
def test_form_encoded_body(content_type: str) -> None:
    """GitHub without Accept: a form-encoded body, recognised by type or shape."""
    token = parse_token_response(
        200,
        content_type,
        b"access_token=gho_abc&scope=repo%2Cuser&token_type=bearer",
        PLAIN,
    )
    assert token["access_token"] == "gho_abc"
    assert token["scope"] == "repo,user"
    assert token["token_type"] == "bearer"
    # No expires_in: GitHub classic tokens never expire.
    assert token["expires_in"] == NON_EXPIRING_SECONDS
    assert token[NON_EXPIRING_MARKER] is True


def test_form_encoded_error_in_200() -> None:
    """GitHub reports a dead code in a 200 form body."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(
            200,
            FORM,
            b"error=bad_verification_code&error_description=The+code+is+wrong",
            PLAIN,
        )
    assert err.value.status == 400
    assert err.value.error == "bad_verification_code"
    assert err.value.description == "The code is wrong"


def test_withings_wrapper_key() -> None:
    """Withings wraps the token in ``body`` and reports status 0."""
    token = parse_token_response(
        200,
        JSON,
        _json(
            {
                "status": 0,
                "body": {
                    "userid": 12345,
                    "access_token": "at",
                    "refresh_token": "rt",
                    "scope": "user.info,user.metrics",
                    "expires_in": 10800,
                    "token_type": "Bearer",
                },
            }
        ),
        WITHINGS,
    )
    assert token == {
        "userid": 12345,
        "access_token": "at",
        "refresh_token": "rt",
        "scope": "user.info,user.metrics",
        "expires_in": 10800,
        "token_type": "Bearer",
    }


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        # Withings' real answer to a dead refresh token.
        ({"status": 401, "body": {}, "error": "XRequestID: Not provided invalid_token"},
         400, "XRequestID: Not provided invalid_token"),
        ({"status": 503, "body": {}}, 400, "status_503"),
        ({"status": 601, "error": "temporarily_unavailable"}, 503, "temporarily_unavailable"),
        ({"status": 401, "error": "invalid_grant"}, 400, "invalid_grant"),
        # Not a grant problem: too many requests, the provider's own failure.
        ({"status": 601, "error": "Too Many Requests"}, 503, "Too Many Requests"),
        ({"status": 2555, "body": {}}, 503, "status_2555"),
    ],
)  # fmt: skip
def test_withings_status_error_in_200(
    body: dict[str, Any], status: int, error: str
) -> None:
    """A non-zero status in a 200 body is an error, classified by its code."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(200, JSON, _json(body), WITHINGS)
    assert err.value.status == status
    assert err.value.error == error


def test_wrapper_key_missing() -> None:
    """Status ok but no ``body`` object: not a usable token."""
    with pytest.raises(InvalidTokenResponse, match="missing 'body' object"):
        parse_token_response(200, JSON, _json({"status": 0, "body": []}), WITHINGS)


def test_status_key_absent_uses_wrapper() -> None:
    """Without the status key the wrapper is still unwrapped."""
    token = parse_token_response(
        200, JSON, _json({"body": {"access_token": "at", "expires_in": 5}}), WITHINGS
    )
    assert token["access_token"] == "at"


@pytest.mark.parametrize(
    ("error", "status"),
    [
        ("invalid_grant", 400),
        ("invalid_client", 401),
        ("incorrect_client_credentials", 401),
        ("slow_down", 429),
        ("temporarily_unavailable", 503),
        ("server_error", 503),
        ("something_new", 400),
    ],
)
def test_error_in_200(error: str, status: int) -> None:
    """An ``error`` without a token in a 200 (GitHub) maps by its code."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(
            200, JSON, _json({"error": error, "error_description": "x" * 500}), PLAIN
        )
    assert err.value.status == status
    assert err.value.error == error
    # Descriptions are capped.
    assert err.value.description == "x" * 200


def test_error_next_to_token_is_ignored() -> None:
    """A token with an informational ``error`` field is still a token."""
    token = parse_token_response(
        200, JSON, _json({"access_token": "at", "error": "none"}), PLAIN
    )
    assert token["access_token"] == "at"


@pytest.mark.parametrize("status", [400, 401, 403, 429, 500, 503])
def test_error_statuses(status: int) -> None:
    """Error statuses raise with the server's error code and description."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(
            status,
            JSON,
            _json({"error": "invalid_grant", "error_description": "Token revoked"}),
            PLAIN,
        )
    assert err.value.status == status
    assert err.value.error == "invalid_grant"
    assert (
        str(err.value) == f"token endpoint error {status} invalid_grant: Token revoked"
    )


def test_error_status_without_error_code() -> None:
    """An error status with an object lacking ``error``."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(500, JSON, _json({"message": "boom"}), PLAIN)
    assert err.value.error == "unknown_error"
    assert err.value.description is None
    assert str(err.value) == "token endpoint error 500 unknown_error"


@pytest.mark.parametrize("body", [b"<html>Bad Gateway</html>", b"", b"[1, 2]"])
def test_error_status_with_unreadable_body(body: bytes) -> None:
    """An HTML error page still gives an error with the status."""
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(502, "text/html", body, PLAIN)
    assert err.value.status == 502
    assert err.value.error == "unreadable_error_response"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"<html>ok</html>", "not JSON"),
        (b"", "not JSON"),
        (b"[1, 2]", "not an object"),
        (b'"text"', "not an object"),
    ],
)
def test_non_json_body(body: bytes, message: str) -> None:
    """A 200 that is neither JSON nor a form is unusable."""
    with pytest.raises(InvalidTokenResponse, match=message):
        parse_token_response(200, "text/html", body, PLAIN)


def test_scope_as_list() -> None:
    """Twitch and Netatmo send scope as a JSON list."""
    token = parse_token_response(
        200,
        JSON,
        _json(
            {
                "access_token": "at",
                "refresh_token": "rt",
                "expires_in": 14124,
                "scope": ["openid", "user:read:email"],
                "token_type": "bearer",
            }
        ),
        PLAIN,
    )
    assert token["scope"] == "openid user:read:email"


@pytest.mark.parametrize(
    ("value", "expected"), [("3600", 3600), ("59.9", 59), (7.0, 7)]
)
def test_expires_in_as_string(value: Any, expected: int) -> None:
    """expires_in as a string or float becomes an int."""
    token = normalise_token({"access_token": "at", "expires_in": value})
    assert token["expires_in"] == expected
    assert NON_EXPIRING_MARKER not in token


@pytest.mark.parametrize("value", ["soon", [1], {}])
def test_expires_in_not_a_number(value: Any) -> None:
    """A nonsensical expires_in says nothing: unknown, not a failed refresh."""
    token = normalise_token({"access_token": "at", "expires_in": value})
    assert token[NON_EXPIRING_MARKER] is True


@pytest.mark.parametrize("data", [{}, {"expires_in": None}, {"expires_in": ""}])
def test_missing_expires_in_is_non_expiring(data: dict[str, Any]) -> None:
    """No expires_in: a far expiry and the non-expiring marker."""
    token = normalise_token({"access_token": "at", **data})
    assert token["expires_in"] == NON_EXPIRING_SECONDS
    assert token[NON_EXPIRING_MARKER] is True


def test_marker_dropped_when_expiry_given() -> None:
    """A token that now expires loses a stale non-expiring marker."""
    token = normalise_token(
        {"access_token": "at", "expires_in": 60, NON_EXPIRING_MARKER: True}
    )
    assert NON_EXPIRING_MARKER not in token


@pytest.mark.parametrize(
    "data",
    [{}, {"access_token": ""}, {"access_token": None}, {"access_token": 42}],
)
def test_missing_access_token(data: dict[str, Any]) -> None:
    """No usable access_token: rejected."""
    with pytest.raises(InvalidTokenResponse, match="no access_token"):
        parse_token_response(200, JSON, _json({"token_type": "Bearer", **data}), PLAIN)


def test_decode_body_prefers_json_shape() -> None:
    """A JSON-looking body is JSON even when it contains ``=``."""
    assert decode_body("text/plain", b' {"a": "b=c"} ') == {"a": "b=c"}


def test_decode_body_form_blank_values() -> None:
    """Blank form values are kept."""
    assert decode_body(FORM, b"access_token=at&scope=") == {
        "access_token": "at",
        "scope": "",
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("athlete.id", 227615),
        ("athlete", {"id": 227615}),
        ("athlete.name", None),
        ("missing.id", None),
        ("user_id.x", None),
        ("user_id", "ABC"),
    ],
)
def test_value_at_path(path: str, expected: Any) -> None:
    """Dotted paths into a token response."""
    assert value_at_path({"athlete": {"id": 227615}, "user_id": "ABC"}, path) == (
        expected
    )


# -- numbers in token fields: huge, non-ASCII, odd types ------------------------------

# What a careless or hostile server writes where a number belongs.
ODD_NUMBERS: list[Any] = [
    10**400,
    -(10**400),
    "9" * 400,
    "-" + "9" * 400,
    "1e400",
    "-1e400",
    float("inf"),
    float("-inf"),
    float("nan"),
    "inf",
    "NaN",
    "²",
    "①",
    "١٢٣",
    "１２",
    "1_000",
    "0x10",
    True,
    False,
    None,
    [],
    {},
    -5,
    "9" * 100_000,
    "1." + "9" * 100_000,
]
EXPIRY_FIELDS = ["expires_in", "expires", "expires_at", "expires_on", "expiry"]


def _storable(quirks: TokenResponseQuirks) -> None:
    """Home Assistant can store a profile with these quirks."""
    json_bytes(
        ProviderProfile(
            key="m", name="M", authorize_url="", token_url="x", quirks=quirks
        ).as_dict()
    )


def _odd_id(value: Any) -> str:
    text = repr(value)
    return text if len(text) < 24 else f"{text[:12]}...({len(text)})"


@pytest.mark.parametrize("field", [*EXPIRY_FIELDS, "refresh_token_expires_in"])
@pytest.mark.parametrize("value", ODD_NUMBERS, ids=_odd_id)
def test_odd_numbers_in_token_fields(field: str, value: Any) -> None:
    """Detected, parsed and stored: a clamped lifetime or a clear refusal.

    Never an OverflowError, and nothing Home Assistant cannot store (its JSON
    writer refuses integers beyond 64 bits: every config entry would go unsaved).
    """
    answer = _json({"access_token": "at", "refresh_token": "rt", field: value})
    quirks = detect_quirks(200, JSON, answer, PLAIN)
    _storable(quirks)
    refusal = ""
    try:
        token = parse_token_response(200, JSON, answer, quirks)
    except InvalidTokenResponse as err:
        refusal = str(err)
    if refusal:
        assert "expir" in refusal or "JSON" in refusal
        return
    assert isinstance(token["expires_in"], int)
    assert 0 < token["expires_in"] <= NON_EXPIRING_SECONDS
    json_bytes(token)


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (3600, 3600.0),
        (59.5, 59.5),
        ("3600", 3600.0),
        (" 60 ", 60.0),
        ("-5", -5.0),
        ("1.5e3", 1500.0),
        (".5", 0.5),
        (10**400, "max"),
        (-(10**400), "-max"),
        ("9" * 400, "max"),
        ("1e400", "max"),
        (float("inf"), "max"),
        (float("-inf"), "-max"),
        (float("nan"), None),
        ("nan", None),
        ("inf", None),
        ("²", None),
        ("①", None),
        ("١٢٣", None),
        ("１２", None),
        ("1_000", None),
        ("0x10", None),
        ("", None),
        ("1e", None),
        (True, None),
        (None, None),
        ([1], None),
        ({"a": 1}, None),
    ],
    ids=_odd_id,
)
def test_parse_number(value: Any, number: float | str | None) -> None:
    """ASCII decimal notation or a JSON number, finite and clamped; else None."""
    clamped = {"max": token_response.MAX_NUMBER, "-max": -token_response.MAX_NUMBER}
    assert token_response.parse_number(value) == clamped.get(number, number)


@pytest.mark.parametrize("value", ["١٢٣", "１２", "²", "1_000"])
def test_non_ascii_digits_are_no_lifetime(value: str) -> None:
    """A lifetime in another script's digits is no number (as RFC 6749 says)."""
    answer = _json({"access_token": "at", "expires": value})
    quirks = detect_quirks(200, JSON, answer, PLAIN)
    assert quirks.expires_in_field == "expires_in"
    token = parse_token_response(200, JSON, answer, quirks)
    assert token[NON_EXPIRING_MARKER] is True
    token = normalise_token({"access_token": "at", "expires_in": value})
    assert token[NON_EXPIRING_MARKER] is True


@pytest.mark.parametrize("status", [10**400, -(2**70), 2**63], ids=_odd_id)
def test_huge_status_beside_a_token_is_no_status(status: int) -> None:
    """A status no server uses is not taken as the answer's status field.

    Stored with the provider, it would make Home Assistant's entry store fail.
    """
    answer = _json({"access_token": "at", "expires_in": 60, "status": status})
    quirks = detect_quirks(200, JSON, answer, PLAIN)
    assert quirks.status_key is None
    _storable(quirks)


def test_subject_holding_a_huge_number_is_kept_storable() -> None:
    """The subject's root is kept; a number beyond 64 bits becomes its digits."""
    quirks = TokenResponseQuirks(subject_field="athlete.id")
    token = normalise_token(
        {"access_token": "at", "athlete": {"id": 10**30, "name": "J", "n": [2**64]}},
        quirks,
    )
    assert token["athlete"] == {"id": str(10**30), "name": "J", "n": [str(2**64)]}
    assert value_at_path(token, "athlete.id") == str(10**30)
    json_bytes(token)
