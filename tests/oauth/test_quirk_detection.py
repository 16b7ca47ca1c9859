"""Token-answer quirks found by themselves in the first answer, stored, reused.

A provider entered by hand or by discovery needs no preset for a known quirk: the
first token answer shows it (a Withings-style wrapper, tokens under ``data``, an
absolute ``expires_at``, Facebook's ``expires``, a numeric status in a 200).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import UTC, datetime
import json
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import OAuth2TokenRequestTransientError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.oauth2_rest.diagnostics import async_get_config_entry_diagnostics
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
    detect_quirks,
    normalise_token,
    parse_token_response,
)

from ..common import (
    API_BASE,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    expire_token,
    start_manual_flow,
    token_requests,
)

pytestmark = pytest.mark.usefixtures("setup_application_credentials")

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
PLAIN = TokenResponseQuirks()
NOW = 1_800_000_000.0


def body(data: Any) -> bytes:
    """A JSON body."""
    return json.dumps(data).encode()


TOKEN = {"access_token": "at", "refresh_token": "rt", "token_type": "Bearer"}


@pytest.mark.parametrize(
    ("content_type", "answer", "found"),
    [
        (  # Withings: a wrapper and a numeric status, ok being 0.
            JSON,
            body({"status": 0, "body": {**TOKEN, "expires_in": 10800}}),
            {"wrapper_key": "body", "status_key": "status", "status_ok": 0},
        ),
        (  # Tokens nested under "data", with a numeric code (ok being 200).
            JSON,
            body({"code": 200, "data": {**TOKEN, "expires_in": 600}}),
            {"wrapper_key": "data", "status_key": "code", "status_ok": 200},
        ),
        (  # Just under "data".
            JSON,
            body({"data": {**TOKEN, "expires_in": 600}}),
            {"wrapper_key": "data"},
        ),
        (  # A numeric status beside a plain token.
            JSON,
            body({**TOKEN, "expires_in": 600, "status": 0}),
            {"status_key": "status", "status_ok": 0},
        ),
        (  # An absolute expiry instead of a lifetime.
            JSON,
            body({**TOKEN, "expires_at": NOW + 600}),
            {"expires_at_field": "expires_at"},
        ),
        (  # Facebook's form-encoded ``expires``, a lifetime.
            FORM,
            b"access_token=at&expires=5183999",
            {"expires_in_field": "expires"},
        ),
        (  # ``expires`` holding a Unix time is an absolute expiry.
            JSON,
            body({**TOKEN, "expires": NOW + 600}),
            {"expires_at_field": "expires"},
        ),
        (  # Wrapped, with an absolute expiry inside.
            JSON,
            body({"status": 0, "body": {**TOKEN, "expires_at": NOW + 60}}),
            {
                "wrapper_key": "body",
                "status_key": "status",
                "status_ok": 0,
                "expires_at_field": "expires_at",
            },
        ),
    ],
)
def test_quirks_found_in_the_first_answer(
    content_type: str, answer: bytes, found: dict[str, Any]
) -> None:
    """Each shape is named in the quirks, and then parsed with them."""
    quirks = detect_quirks(200, content_type, answer, PLAIN)
    for key, value in found.items():
        assert getattr(quirks, key) == value
    assert quirks.detected == tuple(found)
    token = parse_token_response(200, content_type, answer, quirks)
    assert token["access_token"] == "at"
    assert NON_EXPIRING_MARKER not in token
    assert token["expires_in"] > 0
    # Stored as data, read back the same.
    profile = ProviderProfile(
        key="m", name="M", authorize_url="", token_url="x", quirks=quirks
    )
    stored = ProviderProfile.from_dict(json.loads(json.dumps(profile.as_dict())))
    assert stored.quirks == quirks


@pytest.mark.parametrize(
    ("status", "content_type", "answer"),
    [
        (200, JSON, body({**TOKEN, "expires_in": 3600})),  # nothing odd
        (400, JSON, body({"status": 0, "body": TOKEN})),  # an error answer
        (200, JSON, b"<html>"),  # not a token at all
        (200, JSON, body({"status": 0, "body": {"no": "token"}})),
        (200, JSON, body({**TOKEN, "status": True, "expires_in": 1})),  # a bool
    ],
)
def test_nothing_to_find(status: int, content_type: str, answer: bytes) -> None:
    """A plain, failed or unreadable answer leaves the quirks as they were."""
    assert detect_quirks(status, content_type, answer, PLAIN) is PLAIN


def test_a_preset_keeps_what_it_declares() -> None:
    """Withings' preset already says it all: nothing is 'detected' on top."""
    withings = load_presets()["withings"].quirks
    answer = body({"status": 0, "body": {**TOKEN, "expires_in": 10800}})
    assert detect_quirks(200, JSON, answer, withings) is withings


def test_expires_at_is_not_never_expiring() -> None:
    """An absolute expiry makes a lifetime (it was taken as never expiring)."""
    quirks = TokenResponseQuirks(expires_at_field="expires_at")
    token = normalise_token({"access_token": "a", "expires_at": NOW + 900}, quirks, NOW)
    assert token["expires_in"] == 900
    assert NON_EXPIRING_MARKER not in token


@pytest.mark.parametrize(
    ("value", "lifetime"),
    [
        ((NOW + 900) * 1000, 900),  # milliseconds
        (str(NOW + 60), 60),  # a numeric string
        (datetime.fromtimestamp(NOW + 120, UTC).isoformat(), 120),
        (datetime.fromtimestamp(NOW + 30, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"), 30),
        (None, None),  # absent: used until rejected, as before
    ],
)
def test_absolute_expiry_forms(value: Any, lifetime: int | None) -> None:
    """Seconds, milliseconds, numeric strings and ISO 8601 with a zone."""
    quirks = TokenResponseQuirks(expires_at_field="expiry")
    token = normalise_token({"access_token": "a", "expiry": value}, quirks, NOW)
    if lifetime is None:
        assert token[NON_EXPIRING_MARKER] is True
    else:
        assert token["expires_in"] == lifetime


@pytest.mark.parametrize(
    "value", [NOW - 5, "2026-01-01T00:00:00", "tomorrow", [1], {"at": 1}]
)
def test_unusable_absolute_expiry(value: Any) -> None:
    """Past, zoneless, or not a time: not a usable token (a transient error)."""
    quirks = TokenResponseQuirks(expires_at_field="expires_at")
    with pytest.raises(InvalidTokenResponse):
        normalise_token({"access_token": "a", "expires_at": value}, quirks, NOW)


def test_detected_status_tells_an_error_in_a_200() -> None:
    """Once a status was seen with the token, another status is an error."""
    quirks = detect_quirks(
        200, JSON, body({"code": 0, "data": {**TOKEN, "expires_in": 60}}), PLAIN
    )
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(200, JSON, body({"code": 7, "msg": "busy"}), quirks)
    assert err.value.status == 503  # unknown: retried, never a reauth
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(
            200, JSON, body({"code": 1, "error": "invalid_grant"}), quirks
        )
    assert err.value.status == 400  # a known code: the grant is dead


@pytest.mark.parametrize(
    ("answer", "status"),
    [
        ({"status": 401}, 400),  # read as HTTP: the grant is dead
        ({"status": 400, "error": "bad"}, 400),
        ({"status": 499}, 400),
        ({"status": 429}, 503),  # too many requests: retried
        ({"status": 503}, 503),
        ({"status": 601}, 503),
        ({"status": 399}, 503),
        ({"status": 7, "error": "invalid_token"}, 400),
        ({"status": 7, "error": "invalid_grant"}, 400),
    ],
)
def test_detected_wrapper_status_ends_a_dead_grant(
    answer: dict[str, Any], status: int
) -> None:
    """A wrapper found by detection: a 4xx status or a dead-grant error is final."""
    quirks = detect_quirks(
        200, JSON, body({"status": 0, "body": {**TOKEN, "expires_in": 60}}), PLAIN
    )
    with pytest.raises(TokenEndpointError) as err:
        parse_token_response(200, JSON, body(answer), quirks)
    assert err.value.status == status


def test_a_preset_list_of_dead_statuses_wins() -> None:
    """A preset that names its dead-grant statuses: only those end the grant."""
    quirks = TokenResponseQuirks(
        wrapper_key="body", status_key="status", status_ok=0, reauth_statuses=(100,)
    )
    for code, status in ((100, 400), (401, 503)):
        with pytest.raises(TokenEndpointError) as err:
            parse_token_response(200, JSON, body({"status": code}), quirks)
        assert err.value.status == status


# -- in the flow: found at link time, stored, used by every refresh ----------------


def wrapped(access: str, refresh: str, lifetime: int) -> dict[str, Any]:
    """A Withings-style answer with an absolute expiry ``lifetime`` from now."""
    return {
        "status": 0,
        "body": {
            "access_token": access,
            "refresh_token": refresh,
            "token_type": "Bearer",
            "expires_at": int(time.time()) + lifetime,
        },
    }


@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_quirks_found_at_link_are_stored_and_used(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A hand-entered provider with a wrapped, absolute-expiry token answer."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": "test-client", "client_secret": "test-secret", "scopes": "read"},
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(
        TOKEN_URL, json=wrapped("wrapped-access", "wrapped-refresh", 900)
    )
    aioclient_mock.get(USERINFO_URL, json={"sub": "u-1"})
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry: MockConfigEntry = result["result"]

    token = entry.data["token"]
    assert token["access_token"] == "wrapped-access"
    assert NON_EXPIRING_MARKER not in token  # it was, before
    assert 880 <= token["expires_in"] <= 900
    quirks = entry.data["provider"]["quirks"]
    assert quirks["wrapper_key"] == "body"
    assert quirks["status_key"] == "status"
    assert quirks["status_ok"] == 0
    assert quirks["expires_at_field"] == "expires_at"
    assert quirks["detected"] == [
        "wrapper_key",
        "status_key",
        "status_ok",
        "expires_at_field",
    ]
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # Every later refresh reads the answer the same way.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json=wrapped("second-access", "second-refresh", 600))
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 2})
    expire_token(hass, entry)
    await entry.runtime_data.account.async_refresh()
    assert len(token_requests(aioclient_mock)) == 1
    token = entry.data["token"]
    assert token["access_token"] == "second-access"
    assert token["refresh_token"] == "second-refresh"
    assert 580 <= token["expires_in"] <= 600

    # ... and a status other than the one seen is an error, even in a 200.
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json={"status": 601, "body": {}})
    implementation = entry.runtime_data.account.session.implementation
    with pytest.raises(OAuth2TokenRequestTransientError):
        await implementation.async_refresh_token(token)

    # Diagnostics say what was found.
    diagnostics = await async_get_config_entry_diagnostics(hass, entry)
    shown = diagnostics["entry"]["data"]["provider"]["quirks"]
    assert shown["detected"] == quirks["detected"]
    assert shown["wrapper_key"] == "body"


# -- numbers no clock holds: 400 digits, infinity --------------------------------------

HUGE = "9" * 400


@pytest.mark.parametrize("field", ["expires_at", "expires", "expires_on"])
@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_link_with_a_400_digit_expiry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    field: str,
) -> None:
    """The link flow detects, clamps and stores: the account is linked."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": "test-client", "client_secret": "test-secret", "scopes": "read"},
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(
        TOKEN_URL,
        text=f'{{"access_token": "huge-access", "refresh_token": "r", "{field}": {HUGE}}}',
        headers={"Content-Type": JSON},
    )
    aioclient_mock.get(USERINFO_URL, json={"sub": "u-1"})
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    token = result["result"].data["token"]
    assert token["access_token"] == "huge-access"
    assert token["expires_in"] == NON_EXPIRING_SECONDS
    assert result["result"].data["provider"]["quirks"]["expires_at_field"] == field
    await hass.async_block_till_done()
    assert result["result"].state is ConfigEntryState.LOADED


@pytest.mark.parametrize(
    ("answer_expiry", "stored"),
    [
        (HUGE, True),  # the far future: clamped to ten years, stored
        ("-" + HUGE, False),  # long past: a clear, transient refusal
        ('"\u00b2"', False),  # not a time
    ],
    ids=["400 digits", "minus 400 digits", "superscript two"],
)
async def test_refresh_with_an_odd_absolute_expiry(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    answer_expiry: str,
    stored: bool,
) -> None:
    """A rotated token with a 400-digit expiry is stored; junk is refused cleanly.

    Never a raw OverflowError out of the refresh (the rotated token lost).
    """
    profile = ProviderProfile.from_dict(config_entry.data["provider"])
    quirks = TokenResponseQuirks(expires_at_field="expires_at")
    config_entry.data["provider"].update(replace(profile, quirks=quirks).as_dict())
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    aioclient_mock.post(
        TOKEN_URL,
        text=(
            '{"access_token": "rotated-access", "refresh_token": "rotated-refresh",'
            f' "expires_at": {answer_expiry}}}'
        ),
        headers={"Content-Type": JSON},
    )
    expire_token(hass, config_entry)
    session = config_entry.runtime_data.account.session
    if stored:
        await session.async_ensure_token_valid()
        token = config_entry.data["token"]
        assert token["refresh_token"] == "rotated-refresh"
        assert token["expires_in"] == NON_EXPIRING_SECONDS
        assert token["expires_at"] > time.time() + 9 * 365 * 24 * 3600
    else:
        with pytest.raises(OAuth2TokenRequestTransientError):
            await session.async_ensure_token_valid()
        assert config_entry.data["token"]["refresh_token"] == "stored-refresh-token"


@pytest.mark.usefixtures("current_request_with_host", "setup_credentials")
async def test_link_with_an_expiry_that_is_no_time(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An expiry in superscript digits: the flow ends with a clear reason."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": "test-client", "client_secret": "test-secret", "scopes": "read"},
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json={"access_token": "a", "expires_at": "\u00b2"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "oauth_failed"
    assert not hass.config_entries.async_entries("oauth2_rest")
