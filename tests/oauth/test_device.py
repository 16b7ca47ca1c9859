"""The device authorization grant (RFC 8628) on its own: start and poll."""

from __future__ import annotations

from http import HTTPStatus
import json
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.oauth.device import (
    DEFAULT_EXPIRES_IN,
    DEFAULT_INTERVAL,
    MAX_INTERVAL,
    DeviceAuthorization,
    DeviceFlowError,
    DeviceOutcome,
    async_poll_device_token,
    async_start_device_authorization,
)
from custom_components.oauth2_rest.oauth.provider import ClientAuthMethod
from custom_components.oauth2_rest.oauth.token_response import MAX_TOKEN_RESPONSE_BYTES

from ..common import (
    CLIENT_ID,
    CLIENT_SECRET,
    DEVICE_RESPONSE,
    DEVICE_URL,
    ISSUER,
    TOKEN_URL,
    FakeTime,
    device_implementation,
    posted_forms,
    respond_in_turn,
    send_json_body,
    token_error,
)

TOKEN = {"access_token": "device-access-token", "expires_in": 3600}


# -- starting ----------------------------------------------------------------------


async def test_start_sends_scope_and_client_auth(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The request carries the scope and authenticates the client as profiled."""
    aioclient_mock.post(DEVICE_URL, json=DEVICE_RESPONSE)
    result = await async_start_device_authorization(
        device_implementation(hass), "read write"
    )
    assert result == DeviceAuthorization(
        device_code="the-device-code",
        user_code="WDJB-MJHT",
        verification_uri=f"{ISSUER}/device",
        verification_uri_complete=f"{ISSUER}/device?user_code=WDJB-MJHT",
        interval=3,
        expires_in=1800,
    )
    _, _, data, headers = aioclient_mock.mock_calls[0]
    # The client id in the body too: servers that read the client from it alone.
    assert data == {"client_id": CLIENT_ID, "scope": "read write"}
    assert headers["Authorization"].startswith("Basic ")
    assert headers["Accept"] == "application/json"


async def test_start_form_encoded_answer_with_defaults(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A form-encoded answer, verification_url, no interval or lifetime, no scope."""
    aioclient_mock.post(
        DEVICE_URL,
        text="device_code=dc&user_code=UC&verification_url=https%3A%2F%2Fx.example%2Fd"
        "&interval=soon&expires_in=-1",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    result = await async_start_device_authorization(
        device_implementation(hass, ClientAuthMethod.CLIENT_SECRET_POST), None
    )
    assert result == DeviceAuthorization(
        device_code="dc",
        user_code="UC",
        verification_uri="https://x.example/d",
        interval=DEFAULT_INTERVAL,
        expires_in=DEFAULT_EXPIRES_IN,
    )
    _, _, data, headers = aioclient_mock.mock_calls[0]
    assert data == {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    assert "Authorization" not in headers


@pytest.mark.parametrize(
    ("response", "detail"),
    [
        (
            {
                "status": HTTPStatus.BAD_REQUEST,
                "json": {"error": "unauthorized_client"},
            },
            "answered 400 unauthorized_client",
        ),
        ({"json": {"error": "invalid_scope"}}, "answered 200 invalid_scope"),
        ({"status": HTTPStatus.BAD_GATEWAY, "text": "<html>"}, "502 unknown_error"),
        ({"json": {"device_code": "dc", "user_code": "UC"}}, "incomplete"),
        ({"exc": aiohttp.ClientError()}, "no response"),
        ({"exc": TimeoutError()}, "TimeoutError"),
    ],
)
async def test_start_failures(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    response: dict[str, Any],
    detail: str,
) -> None:
    """Refusals, unreadable or incomplete answers and no answer: FAILED."""
    aioclient_mock.post(DEVICE_URL, **response)
    with pytest.raises(DeviceFlowError) as err:
        await async_start_device_authorization(device_implementation(hass), "read")
    assert err.value.outcome is DeviceOutcome.FAILED
    assert detail in err.value.detail


async def test_start_without_endpoint(hass: HomeAssistant) -> None:
    """A profile without a device authorization endpoint cannot start."""
    with pytest.raises(DeviceFlowError) as err:
        await async_start_device_authorization(
            device_implementation(hass, device_authorization_url=None), "read"
        )
    assert err.value.outcome is DeviceOutcome.FAILED


# -- what the dialog may show --------------------------------------------------------

HOSTILE_LINKS = [
    "javascript:alert(document.cookie)",
    "JavaScript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "file:///etc/passwd",
    "vbscript:msgbox(1)",
    "ftp://auth.example.com/device",
    "http://auth.example.com/device",  # plain http off loopback
    "https://auth.example.com@evil.example/device",  # user info
    "https://auth.example.com/device)[click](javascript:alert(1)",
    "https://auth.example.com/<img src=x onerror=alert(1)>",
    "https://auth.example.com/device\n[x](javascript:alert(1))",
    "//evil.example/device",
    "/device",
    "https:///device",
    f"{ISSUER}/{'a' * 3000}",  # no QR code holds it
]


@pytest.mark.parametrize("uri", HOSTILE_LINKS)
async def test_start_never_keeps_a_hostile_page_link(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, uri: str
) -> None:
    """A page that is not an https link: the code is shown, no link, no QR code.

    Failed on the old code (the URI was kept and shown as the dialog's link).
    """
    aioclient_mock.post(DEVICE_URL, json={**DEVICE_RESPONSE, "verification_uri": uri})
    result = await async_start_device_authorization(device_implementation(hass), "read")
    assert result.verification_uri is None
    assert result.verification_uri_complete is None  # only beside a shown page
    assert result.link is None
    assert result.placeholders() == {"user_code": "WDJB-MJHT"}
    assert result.progress_action == "device_no_link"


@pytest.mark.parametrize("uri", HOSTILE_LINKS)
async def test_start_never_keeps_a_hostile_complete_link(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, uri: str
) -> None:
    """A hostile verification_uri_complete is dropped; the page's link is shown.

    Failed on the old code (the complete URI was the link and the QR code).
    """
    aioclient_mock.post(
        DEVICE_URL, json={**DEVICE_RESPONSE, "verification_uri_complete": uri}
    )
    result = await async_start_device_authorization(device_implementation(hass), "read")
    assert result.verification_uri_complete is None
    assert result.link == f"{ISSUER}/device"
    assert result.placeholders() == {
        "user_code": "WDJB-MJHT",
        "verification_uri": f"{ISSUER}/device",
        "direct_url": f"{ISSUER}/device",
    }
    assert result.progress_action == "device"


@pytest.mark.parametrize(
    "uri",
    [
        "http://127.0.0.1:8080/device",
        "http://localhost/device",
        "http://[::1]/device",
        "https://login.microsoftonline.com/common/oauth2/deviceauth",
        "https://www.google.com/device?user_code=GQVQ-JKEC&hl=en",
        "https://例え.jp/device",
    ],
)
async def test_start_keeps_https_and_loopback_links(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, uri: str
) -> None:
    """Links to https anywhere, plain http only to a loopback host (local)."""
    aioclient_mock.post(
        DEVICE_URL,
        json={
            **DEVICE_RESPONSE,
            "verification_uri": uri,
            "verification_uri_complete": uri,
        },
    )
    result = await async_start_device_authorization(device_implementation(hass), "read")
    assert result.verification_uri == uri
    assert result.link == uri


@pytest.mark.parametrize(
    "user_code",
    ["[click](javascript:alert(1))", "<b>x</b>", "AB\nCD", "A`B", "X" * 65],
)
async def test_start_refuses_a_user_code_unfit_to_show(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, user_code: str
) -> None:
    """A user code that would make a link (or flood the dialog): the login fails.

    Failed on the old code (the code went into the dialog's markdown as it was).
    """
    aioclient_mock.post(DEVICE_URL, json={**DEVICE_RESPONSE, "user_code": user_code})
    with pytest.raises(DeviceFlowError) as err:
        await async_start_device_authorization(device_implementation(hass), "read")
    assert err.value.outcome is DeviceOutcome.FAILED
    assert "user code" in err.value.detail


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_start_answer_is_read_within_the_token_cap(
    hass: HomeAssistant, declared: bool
) -> None:
    """A device authorization answer over 1 MiB is refused, not read into memory.

    A real server sends a valid answer padded past the cap, with its length
    declared or streamed without one. Failed on the old code (read whole, accepted).
    """
    body = json.dumps(
        {**DEVICE_RESPONSE, "pad": "x" * (MAX_TOKEN_RESPONSE_BYTES + 1)}
    ).encode()

    async def device(request: web.Request) -> web.StreamResponse:
        return await send_json_body(request, body, declared=declared)

    app = web.Application()
    app.router.add_post("/device_authorization", device)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        impl = device_implementation(
            hass, device_authorization_url=str(server.make_url("/device_authorization"))
        )
        with pytest.raises(DeviceFlowError) as err:
            await async_start_device_authorization(impl, "read")
    finally:
        await server.close()
    assert err.value.outcome is DeviceOutcome.FAILED
    assert f"larger than {MAX_TOKEN_RESPONSE_BYTES} bytes" in err.value.detail


# -- polling -----------------------------------------------------------------------

AUTHORIZATION = DeviceAuthorization(
    device_code="the-device-code",
    user_code="WDJB-MJHT",
    verification_uri=f"{ISSUER}/device",
    interval=5,
    expires_in=60,
)


async def test_poll_pending_slow_down_success(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Pending waits the interval; slow_down adds five seconds; then the token."""
    respond_in_turn(
        aioclient_mock,
        TOKEN_URL,
        [
            token_error("authorization_pending"),
            token_error("slow_down"),
            token_error("authorization_pending"),
            {"json": TOKEN},
        ],
    )
    fake = FakeTime()
    token = await async_poll_device_token(
        device_implementation(hass, ClientAuthMethod.CLIENT_SECRET_POST),
        AUTHORIZATION,
        sleep=fake.sleep,
        clock=fake.clock,
    )
    assert token["access_token"] == "device-access-token"
    assert token["expires_in"] == 3600
    assert fake.sleeps == [5, 5, 10, 10]
    sent = posted_forms(aioclient_mock, TOKEN_URL)
    assert len(sent) == 4
    assert all(
        form
        == {
            "grant_type": "urn:ietf:params:oauth:grant-type:device_code",
            "device_code": "the-device-code",
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        }
        for form in sent
    )


@pytest.mark.parametrize(
    ("responses", "outcome"),
    [
        ([token_error("access_denied")], DeviceOutcome.DENIED),
        (
            [token_error("authorization_pending"), token_error("expired_token")],
            DeviceOutcome.EXPIRED,
        ),
        # In a 200 (classified by the token-response parser).
        ([{"json": {"error": "access_denied"}}], DeviceOutcome.DENIED),
        (
            [token_error("invalid_client", HTTPStatus.UNAUTHORIZED)],
            DeviceOutcome.FAILED,
        ),
        ([token_error("invalid_grant")], DeviceOutcome.FAILED),
    ],
)
async def test_poll_stops(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    responses: list[dict[str, Any]],
    outcome: DeviceOutcome,
) -> None:
    """Denied, expired and any other refusal end the polling at once."""
    respond_in_turn(aioclient_mock, TOKEN_URL, responses)
    fake = FakeTime()
    with pytest.raises(DeviceFlowError) as err:
        await async_poll_device_token(
            device_implementation(hass),
            AUTHORIZATION,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert err.value.outcome is outcome
    assert len(posted_forms(aioclient_mock, TOKEN_URL)) == len(responses)


async def test_poll_transient_then_success(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No answer, 5xx, 429 and unusable answers are polled through."""
    respond_in_turn(
        aioclient_mock,
        TOKEN_URL,
        [
            {"exc": aiohttp.ClientError()},
            token_error("server_error", HTTPStatus.INTERNAL_SERVER_ERROR),
            token_error("too_many", HTTPStatus.TOO_MANY_REQUESTS),
            {"json": {"token_type": "Bearer"}},
            {"json": TOKEN},
        ],
    )
    fake = FakeTime()
    token = await async_poll_device_token(
        device_implementation(hass), AUTHORIZATION, sleep=fake.sleep, clock=fake.clock
    )
    assert token["access_token"] == "device-access-token"
    assert fake.sleeps == [5] * 5


@pytest.mark.parametrize(
    ("response", "outcome"),
    [
        (token_error("authorization_pending"), DeviceOutcome.EXPIRED),
        (token_error("slow_down"), DeviceOutcome.EXPIRED),
        (
            token_error("server_error", HTTPStatus.SERVICE_UNAVAILABLE),
            DeviceOutcome.FAILED,
        ),
    ],
)
async def test_poll_until_the_code_expires(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    response: dict[str, Any],
    outcome: DeviceOutcome,
) -> None:
    """Past the code's lifetime: expired, or failed when the last poll failed."""
    respond_in_turn(aioclient_mock, TOKEN_URL, [response] * 20)
    fake = FakeTime()
    with pytest.raises(DeviceFlowError) as err:
        await async_poll_device_token(
            device_implementation(hass),
            AUTHORIZATION,
            sleep=fake.sleep,
            clock=fake.clock,
        )
    assert err.value.outcome is outcome
    assert fake.now >= AUTHORIZATION.expires_in
    # No poll after the lifetime is over.
    assert len(posted_forms(aioclient_mock, TOKEN_URL)) == len(fake.sleeps) - 1


@pytest.mark.parametrize(
    ("interval", "expires_in", "expected_sleep"),
    [(10**6, 900, MAX_INTERVAL), (10**6, 40, 10), (300, 20, 5)],
)
async def test_poll_interval_is_capped(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    interval: int,
    expires_in: int,
    expected_sleep: int,
) -> None:
    """A huge interval is capped: the approval is picked up before expiry.

    Failed on the old code (it slept 10**6 s, past the code's lifetime, and
    ended in "expired" without a single poll).
    """
    respond_in_turn(
        aioclient_mock,
        TOKEN_URL,
        [
            token_error("authorization_pending"),
            token_error("slow_down"),
            {"json": TOKEN},
        ],
    )
    fake = FakeTime()
    authorization = DeviceAuthorization(
        device_code="the-device-code",
        user_code="WDJB-MJHT",
        verification_uri=f"{ISSUER}/device",
        interval=interval,
        expires_in=expires_in,
    )
    token = await async_poll_device_token(
        device_implementation(hass), authorization, sleep=fake.sleep, clock=fake.clock
    )
    assert token["access_token"] == "device-access-token"
    assert fake.sleeps == [expected_sleep] * 3


async def test_poll_waits_for_real_by_default(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Without injected time it sleeps with asyncio (here: a tiny interval)."""
    aioclient_mock.post(TOKEN_URL, json=TOKEN)
    authorization = DeviceAuthorization(
        device_code="dc", user_code="UC", verification_uri="https://x", interval=0
    )
    token = await async_poll_device_token(device_implementation(hass), authorization)
    assert token["access_token"] == "device-access-token"
