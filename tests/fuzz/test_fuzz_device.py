"""Properties of the device login's answer: only https links ever reach the dialog.

Whatever a device authorization endpoint answers (any scheme, user info, markdown,
control characters, huge or odd values), starting the login either fails with
FAILED or gives an authorization whose link and QR code are https (http only to a
loopback host), and whose texts cannot end or make a markdown link.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from hypothesis import example, given, strategies as st
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from yarl import URL

from custom_components.oauth2_rest.oauth.device import (
    MAX_LINK_LENGTH,
    DeviceAuthorization,
    DeviceFlowError,
    DeviceOutcome,
    async_start_device_authorization,
    shown_link,
)

from ..common import DEVICE_RESPONSE, DEVICE_URL, device_implementation
from .common import count, json_values, nasty_text

SCHEMES = [
    "https",
    "http",
    "HTTPS",
    "javascript",
    "JavaScript",
    "data",
    "file",
    "vbscript",
    "ftp",
    "ws",
    "intent",
    "about",
    "blob",
    "",
]
HOSTS = [
    "auth.example.com",
    "127.0.0.1",
    "localhost",
    "a.localhost",
    "[::1]",
    "10.0.0.1",
    "user:pw@auth.example.com",
    "auth.example.com@evil.example",
    "",
    "例え.jp",
]
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


@st.composite
def uris(draw: st.DrawFn) -> Any:
    """Anything a server may send as a verification URI."""
    kind = draw(st.sampled_from(["built", "text", "json", "long"]))
    if kind == "text":
        return draw(nasty_text)
    if kind == "json":
        return draw(json_values)
    if kind == "long":
        return f"https://auth.example.com/{'a' * draw(st.integers(2000, 200_000))}"
    scheme = draw(st.sampled_from(SCHEMES))
    separator = draw(st.sampled_from(["://", ":", ":/", ":///", "//"]))
    host = draw(st.sampled_from(HOSTS))
    rest = draw(nasty_text)
    return f"{scheme}{separator}{host}/{rest}"


def assert_shown_safely(link: str) -> None:
    """What the dialog links to and encodes: https, or http to a loopback host."""
    url = URL(link)
    assert url.scheme == "https" or (
        url.scheme == "http"
        and (url.host in LOOPBACK_HOSTS or str(url.host).endswith(".localhost"))
    ), link
    assert url.user is None and url.password is None, link
    assert len(link) <= MAX_LINK_LENGTH
    assert not any(c in link for c in "()<>\\`"), link
    assert not any(ord(c) < 0x20 or c == "\x7f" for c in link), link


@given(uri=uris())
@example(uri="javascript:alert(1)")
@example(uri="https://auth.example.com/x)[a](javascript:alert(1)")
@example(uri="https://auth.example.com@evil.example/")
def test_shown_link_is_only_https(uri: Any) -> None:
    """Any value: never raises; what it keeps is a safe https (loopback http) link."""
    count("shown_link")
    link = shown_link(uri)
    if link is not None:
        assert link == uri
        assert_shown_safely(link)


@given(
    verification_uri=uris(),
    complete=st.none() | uris(),
    user_code=st.just("WDJB-MJHT") | nasty_text | json_values,
    extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
@example(
    verification_uri="data:text/html,<script>alert(1)</script>",
    complete="https://auth.example.com/device?user_code=WDJB-MJHT",
    user_code="WDJB-MJHT",
    extra={},
)
async def test_device_answer_shows_only_https(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    verification_uri: Any,
    complete: Any,
    user_code: Any,
    extra: dict[str, Any],
) -> None:
    """Any answer: FAILED, or only https links in the link, QR code and texts."""
    count("device_answer")
    aioclient_mock.clear_requests()
    answer = {
        **extra,
        **DEVICE_RESPONSE,
        "verification_uri": verification_uri,
        "verification_uri_complete": complete,
        "user_code": user_code,
    }
    # Serialised here: Home Assistant's encoder refuses integers beyond 64 bits.
    aioclient_mock.post(
        DEVICE_URL,
        text=json.dumps(answer),
        headers={"Content-Type": "application/json"},
    )
    try:
        shown = await async_start_device_authorization(
            device_implementation(hass), "read"
        )
    except DeviceFlowError as err:
        assert err.outcome is DeviceOutcome.FAILED
        return
    assert isinstance(shown, DeviceAuthorization)
    placeholders = shown.placeholders()
    if shown.link is None:
        assert placeholders == {"user_code": shown.user_code}
        assert shown.progress_action == "device_no_link"
    else:
        assert_shown_safely(shown.link)
        assert shown.progress_action == "device"
        assert placeholders["direct_url"] == shown.link
        assert_shown_safely(placeholders["verification_uri"])
    assert not any(c in shown.user_code for c in "()<>\\`\n\r")
