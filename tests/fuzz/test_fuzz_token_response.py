"""Properties of token-response parsing, with every quirk, over whatever a server sends."""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any
from urllib.parse import urlencode

from homeassistant.helpers.json import json_bytes
from hypothesis import example, given, strategies as st

from custom_components.oauth2_rest.oauth.provider import (
    ProviderProfile,
    TokenResponseQuirks,
)
from custom_components.oauth2_rest.oauth.token_response import (
    MAX_NUMBER,
    NON_EXPIRING_SECONDS,
    InvalidTokenResponse,
    TokenEndpointError,
    detect_quirks,
    parse_number,
    parse_token_response,
    value_at_path,
)

from .common import count, deep_json, json_values, odd_numbers

# Token material the server sends: must never show up in an error we raise.
SECRET_ACCESS = "SECRET-access-0123456789"
SECRET_REFRESH = "SECRET-refresh-0123456789"
SECRET_ID = "SECRET-id-0123456789"

EXPIRY_FIELDS = ("expires_in", "expires", "expires_at", "expires_on", "expiry")

quirks = st.builds(
    TokenResponseQuirks,
    wrapper_key=st.none() | st.sampled_from(["body", "data"]),
    status_key=st.none() | st.sampled_from(["status", "code"]),
    status_ok=st.integers(-2, 2) | st.integers(),
    reauth_statuses=st.lists(st.integers(-5, 600), max_size=3).map(tuple),
    subject_field=st.none() | st.sampled_from(["sub", "athlete.id", "a.b.c"]),
    expires_in_field=st.sampled_from(["expires_in", "expires"]),
    expires_at_field=st.none() | st.sampled_from(EXPIRY_FIELDS[2:]),
)

# Error codes and descriptions a server writes (never our token material).
error_text = st.sampled_from(
    [
        "invalid_grant",
        "invalid_client",
        "authorization_pending",
        "slow_down",
        "server_error",
        "temporarily_unavailable",
        "whatever",
        "",
    ]
) | st.text(alphabet="abcdefghijklmnop_ ", max_size=12)

token_fields = st.fixed_dictionaries(
    {},
    optional={
        "access_token": st.just(SECRET_ACCESS) | json_values,
        "refresh_token": st.just(SECRET_REFRESH) | json_values,
        "id_token": st.just(SECRET_ID),
        "token_type": st.sampled_from(["Bearer", "bearer", "mac"]) | json_values,
        "expires_in": st.sampled_from(
            ["3600", "1e400", "-5", "0", "nan", "inf", "", "soon", " 60 "]
        )
        | json_values
        | odd_numbers,
        "scope": st.text(max_size=20)
        | st.lists(st.text(max_size=8) | json_values, max_size=3)
        | json_values,
        "error": error_text | json_values,
        "error_description": error_text,
        "status": st.integers(-2, 700) | json_values,
        "code": st.integers(-2, 700),
        "athlete": st.fixed_dictionaries({"id": json_values | odd_numbers})
        | json_values,
        "refresh_token_expires_in": odd_numbers,
        **dict.fromkeys(EXPIRY_FIELDS[1:], odd_numbers),
    },
)


@st.composite
def token_bodies(draw: st.DrawFn) -> tuple[str, bytes]:
    """A content type and body: JSON, form-encoded, wrapped, deep, or bytes."""
    fields = draw(token_fields)
    shape = draw(st.sampled_from(["json", "wrapped", "form", "bytes", "deep"]))
    if shape == "wrapped":
        key = draw(st.sampled_from(["body", "data"]))
        outer = {
            key: fields,
            **draw(
                st.fixed_dictionaries(
                    {}, optional={"status": st.integers(-2, 700), "error": error_text}
                )
            ),
        }
        body = json.dumps(outer).encode()
    elif shape == "json":
        body = json.dumps(fields).encode()
    elif shape == "form":
        flat = {k: v for k, v in fields.items() if isinstance(v, str | int)}
        body = urlencode(flat).encode()
    elif shape == "deep":
        body = draw(deep_json).encode()
    else:
        body = draw(st.binary(max_size=64))
    content_type = draw(
        st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-8",
                "application/x-www-form-urlencoded",
                "text/plain",
                "text/html",
                "",
            ]
        )
    )
    return content_type, body


statuses = st.sampled_from([200, 201, 204, 302, 400, 401, 403, 429, 500, 503]) | (
    st.integers(100, 599)
)


@given(status=statuses, answer=token_bodies(), quirks=quirks)
@example(
    status=200,
    answer=("application/json", b"[" * 200_000 + b"]" * 200_000),
    quirks=TokenResponseQuirks(),
)
def test_token_response_parsing(
    status: int, answer: tuple[str, bytes], quirks: TokenResponseQuirks
) -> None:
    """A usable token, a TokenEndpointError or an InvalidTokenResponse; nothing else.

    A token has a non-empty string access_token and a positive int expires_in; no
    error names token material.
    """
    count("token_response")
    content_type, body = answer
    try:
        token = parse_token_response(status, content_type, body, quirks)
    except TokenEndpointError as err:
        assert HTTPStatus.BAD_REQUEST <= err.status <= 599
        assert "SECRET" not in str(err)
        return
    except InvalidTokenResponse as err:
        assert "SECRET" not in str(err)
        return
    assert status < HTTPStatus.BAD_REQUEST
    assert isinstance(token["access_token"], str)
    assert token["access_token"]
    assert isinstance(token["expires_in"], int)
    assert 0 < token["expires_in"] <= NON_EXPIRING_SECONDS
    if "scope" in token and isinstance(token["scope"], list):
        raise AssertionError("scope left as a list")
    if quirks.subject_field:
        value_at_path(token, quirks.subject_field)
    json_bytes(token)  # stored in the config entry by Home Assistant's writer


@given(answer=token_bodies())
def test_quirk_detection_then_parsing(answer: tuple[str, bytes]) -> None:
    """What a first answer shows is storable and parses that answer cleanly.

    Detection never raises (400-digit expiries, '²', inf); the profile it makes
    is storable by Home Assistant; parsing with it gives a token, a
    TokenEndpointError or an InvalidTokenResponse.
    """
    count("quirk_detection")
    content_type, body = answer
    found = detect_quirks(200, content_type, body, TokenResponseQuirks())
    json_bytes(
        ProviderProfile(
            key="m", name="M", authorize_url="", token_url="x", quirks=found
        ).as_dict()
    )
    try:
        token = parse_token_response(200, content_type, body, found)
    except TokenEndpointError, InvalidTokenResponse:
        return
    assert 0 < token["expires_in"] <= NON_EXPIRING_SECONDS
    json_bytes(token)


@given(value=odd_numbers | json_values)
@example(value=10**400)
@example(value="\u00b2")
@example(value="9" * 1_000_000)
def test_parse_number(value: Any) -> None:
    """None, or a finite float within MAX_NUMBER; ASCII decimal text only."""
    count("parse_number")
    number = parse_number(value)
    if number is None:
        return
    assert isinstance(number, float)
    assert -MAX_NUMBER <= number <= MAX_NUMBER
    if isinstance(value, str):
        assert value.strip(" \t\r\n").isascii()
        assert number == max(-MAX_NUMBER, min(MAX_NUMBER, float(value)))
    else:
        assert not isinstance(value, bool)


@given(data=json_values, path=st.text(max_size=12))
def test_value_at_path(data: Any, path: str) -> None:
    """A dotted path over any JSON value returns a value or None, never raises."""
    count("value_at_path")
    value_at_path(data if isinstance(data, dict) else {"x": data}, path)
