"""The device authorization grant (RFC 8628): start it, then poll for the token.

Knows nothing of entries or endpoints: it talks to the provider through the
implementation (client authentication, token-response quirks and error mapping are
the implementation's). Waiting goes through ``sleep`` and ``clock``, which tests
replace.

The provider's answer is untrusted text the dialog shows: a verification URI is only
kept as a link (and QR code) when it is https (http to a loopback host), and nothing
of the answer can end the dialog's markdown link or make one of its own.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
import logging
import re
import time
from typing import Any

from aiohttp import ClientError
from homeassistant.exceptions import (
    OAuth2TokenRequestError,
    OAuth2TokenRequestTransientError,
)

from ..client.errors import InvalidUrlError
from ..client.urls import check_request_url, is_secure_transport, parse_url
from .implementation import OAuth2RestImplementation
from .token_response import InvalidTokenResponse, TokenEndpointError, decode_body

_LOGGER = logging.getLogger(__name__)

DEFAULT_INTERVAL = 5  # RFC 8628 section 3.2: when the server names none
SLOW_DOWN_STEP = 5  # RFC 8628 section 3.5: seconds added on every slow_down
# RFC 8628 makes expires_in required; a server that leaves it out gets this.
DEFAULT_EXPIRES_IN = 900
# However long the server asks us to wait, we poll at least this often, and at
# least this many times in the code's lifetime: the approval is picked up before
# the code expires, whatever interval (10**6, say) the server names.
MAX_INTERVAL = 60
MIN_POLLS = 4
# What the dialog shows of the answer. Longer links do not fit a QR code; user codes
# are meant to be typed (RFC 8628 section 6.1).
MAX_LINK_LENGTH = 2048
MAX_USER_CODE_LENGTH = 64
# Characters that could end the dialog's markdown link or make one (in the link,
# the page address or the user code: no ``(`` or ``)``, no ``<``), and controls.
_MARKDOWN_UNSAFE = re.compile(r"[\x00-\x1f\x7f()<>\\`]")


@dataclass(frozen=True, kw_only=True, slots=True)
class DeviceAuthorization:
    """The device authorization response (RFC 8628 section 3.2)."""

    device_code: str
    user_code: str
    # None when the server's was not a link the dialog may show (see ``shown_link``).
    verification_uri: str | None
    verification_uri_complete: str | None = None
    interval: int = DEFAULT_INTERVAL
    expires_in: int = DEFAULT_EXPIRES_IN

    @property
    def link(self) -> str | None:
        """What the dialog links to and encodes in its QR code; None: nothing is."""
        return self.verification_uri_complete or self.verification_uri

    @property
    def progress_action(self) -> str:
        """The wait's text: with the page to open, or only the code."""
        return "device" if self.link else "device_no_link"

    def placeholders(self) -> dict[str, str]:
        """What the dialog's texts show: the code, and the links when safe."""
        if self.verification_uri is None:
            return {"user_code": self.user_code}
        return {
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            # A link that fills in the code when the server gives one.
            "direct_url": self.verification_uri_complete or self.verification_uri,
        }


class DeviceOutcome(StrEnum):
    """How a device login ended without a token; the values are abort reasons."""

    DENIED = "device_denied"
    EXPIRED = "device_expired"
    FAILED = "device_failed"


class DeviceFlowError(Exception):
    """The device login ended without a token."""

    def __init__(self, outcome: DeviceOutcome, detail: str) -> None:
        """Keep the outcome and a description without token material."""
        super().__init__(detail)
        self.outcome = outcome
        self.detail = detail


def shown_link(value: Any) -> str | None:
    """``value`` when the dialog may show it as a link and a QR code, else None.

    Only an absolute https URL (http to a loopback host) without user info
    (``https://bank.example@evil.example``), of a length a QR code holds, with
    nothing that ends a markdown link: never ``javascript:``, ``data:``, ``file:``.
    """
    if (
        not isinstance(value, str)
        or len(value) > MAX_LINK_LENGTH
        or _MARKDOWN_UNSAFE.search(value)
    ):
        return None
    try:
        url = parse_url(value)
        check_request_url(url)
    except InvalidUrlError:
        return None
    return value if url.host and is_secure_transport(url) else None


def _positive_int(value: Any, default: int) -> int:
    try:
        number = int(float(value))
    except TypeError, ValueError, OverflowError:
        return default
    return number if number > 0 else default


async def async_start_device_authorization(
    impl: OAuth2RestImplementation, scope: str | None
) -> DeviceAuthorization:
    """Ask the provider for a device code and a user code.

    Raises DeviceFlowError (outcome FAILED) when it cannot be started.
    """
    url = impl.profile.device_authorization_url
    if not url:
        raise DeviceFlowError(DeviceOutcome.FAILED, "no device authorization endpoint")
    # RFC 8628 3.1 asks for client_id only from a client that does not authenticate;
    # it is sent always, since some servers (oauthlib, so django-oauth-toolkit) read
    # the client from the body alone and refuse a Basic-authenticated request
    # without it. It identifies, it does not authenticate (RFC 6749 2.3.1 holds).
    data: dict[str, Any] = {"client_id": impl.client_id}
    if scope:
        data["scope"] = scope
    try:
        received = await impl.async_post_form(url, data)
    except (ClientError, TimeoutError) as err:
        raise DeviceFlowError(
            DeviceOutcome.FAILED, f"no response from {url}: {type(err).__name__}"
        ) from err
    if (too_large := received.too_large) is not None:
        raise DeviceFlowError(
            DeviceOutcome.FAILED, f"device authorization answer from {url}: {too_large}"
        )
    try:
        answer = decode_body(received.content_type, received.body)
    except InvalidTokenResponse:
        answer = {}
    if (status := received.status) != HTTPStatus.OK or "error" in answer:
        error = answer.get("error", "unknown_error")
        raise DeviceFlowError(
            DeviceOutcome.FAILED, f"device authorization answered {status} {error}"
        )
    # Some servers (Google's older endpoint) say verification_url.
    verification_uri = answer.get("verification_uri") or answer.get("verification_url")
    values = (answer.get("device_code"), answer.get("user_code"), verification_uri)
    if not all(isinstance(value, str) and value for value in values):
        raise DeviceFlowError(
            DeviceOutcome.FAILED, "device authorization response is incomplete"
        )
    user_code = str(values[1])
    if len(user_code) > MAX_USER_CODE_LENGTH or _MARKDOWN_UNSAFE.search(user_code):
        raise DeviceFlowError(
            DeviceOutcome.FAILED, "device authorization has a user code unfit to show"
        )
    # A complete URI only beside a page the dialog may show.
    shown = shown_link(values[2])
    if shown is None:
        _LOGGER.warning(
            "The device login page given by %s is not an https link; not shown", url
        )
    return DeviceAuthorization(
        device_code=str(values[0]),
        user_code=user_code,
        verification_uri=shown,
        verification_uri_complete=shown
        and shown_link(answer.get("verification_uri_complete")),
        interval=_positive_int(answer.get("interval"), DEFAULT_INTERVAL),
        expires_in=_positive_int(answer.get("expires_in"), DEFAULT_EXPIRES_IN),
    )


def poll_interval_cap(expires_in: int) -> int:
    """The longest wait between two polls for a code living ``expires_in`` s."""
    return max(1, min(MAX_INTERVAL, expires_in // MIN_POLLS))


def _error_code(err: OAuth2TokenRequestError) -> str | None:
    cause = err.__cause__
    return cause.error if isinstance(cause, TokenEndpointError) else None


async def async_poll_device_token(
    impl: OAuth2RestImplementation,
    authorization: DeviceAuthorization,
    *,
    sleep: Callable[[float], Awaitable[Any]] | None = None,
    clock: Callable[[], float] | None = None,
) -> dict[str, Any]:
    """Poll until the user approved; return the normalised token (RFC 8628 3.4/3.5).

    ``authorization_pending`` waits the interval, ``slow_down`` adds five seconds
    to it, never beyond ``poll_interval_cap`` of the authorization; transient failures (no answer, 429, 5xx, an unusable answer) are polled
    through until the device code expires. Raises DeviceFlowError: DENIED on
    ``access_denied``, EXPIRED on ``expired_token`` or when the code's lifetime is
    over, FAILED on any other refusal or when the last poll before expiry failed.
    """
    sleep = sleep or asyncio.sleep
    clock = clock or time.monotonic
    deadline = clock() + authorization.expires_in
    cap = poll_interval_cap(authorization.expires_in)
    interval = min(authorization.interval, cap)
    transient: str | None = None
    while True:
        await sleep(interval)
        if clock() >= deadline:
            if transient is not None:
                raise DeviceFlowError(DeviceOutcome.FAILED, transient)
            raise DeviceFlowError(DeviceOutcome.EXPIRED, "the device code expired")
        try:
            return await impl.async_device_code_token(authorization.device_code)
        except OAuth2TokenRequestError as err:
            code = _error_code(err)
            _LOGGER.debug("Device code poll: %s", err)
            if code == "authorization_pending":
                transient = None
            elif code == "slow_down":
                interval = min(interval + SLOW_DOWN_STEP, cap)
                transient = None
            elif code == "access_denied":
                raise DeviceFlowError(DeviceOutcome.DENIED, str(err)) from err
            elif code == "expired_token":
                raise DeviceFlowError(DeviceOutcome.EXPIRED, str(err)) from err
            elif isinstance(err, OAuth2TokenRequestTransientError):
                transient = str(err)
            else:
                raise DeviceFlowError(DeviceOutcome.FAILED, str(err)) from err


@dataclass(slots=True)
class DeviceLogin:
    """A device login (RFC 8628) in progress: the code shown, and the wait for it."""

    authorization: DeviceAuthorization
    task: asyncio.Task[None] | None = None
    token: dict[str, Any] | None = None
    error: DeviceFlowError | None = None

    async def async_wait(self, impl: OAuth2RestImplementation) -> None:
        """Poll until the user approved, denied or gave up (the progress task)."""
        try:
            self.token = await async_poll_device_token(impl, self.authorization)
        except DeviceFlowError as err:
            self.error = err
