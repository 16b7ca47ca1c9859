"""Typed errors of the API client.

Each error says how a user is told about it: ``translation_key`` names the message
(the integration's ``exceptions`` and endpoint flow ``error`` translations use the
same keys) and ``translation_placeholders`` fills it. Both are plain data, so the
client stays free of Home Assistant. No message or placeholder carries a token.
"""

from __future__ import annotations

from typing import ClassVar, override


class ApiError(Exception):
    """Base class for every API client error."""

    translation_key: ClassVar[str] = "request_failed"

    @property
    def translation_placeholders(self) -> dict[str, str]:
        """Values for the message's placeholders."""
        return {}


class OriginNotAllowedError(ApiError):
    """The URL's origin may not receive the access token; nothing was sent."""

    translation_key = "origin_not_allowed"

    def __init__(self, origin: str) -> None:
        """Remember the refused origin."""
        super().__init__(f"origin {origin} is not allowed to receive the token")
        self.origin = origin

    @property
    @override
    def translation_placeholders(self) -> dict[str, str]:
        """The refused origin."""
        return {"origin": self.origin}


class InvalidUrlError(ApiError):
    """The URL cannot be parsed (bad host, port out of range…); nothing was sent.

    The message never repeats the URL: its query may carry a secret.
    """

    translation_key = "invalid_url"


class InvalidHeaderError(ApiError):
    """A header could split the request; nothing was sent.

    Its name is not a token, or its value holds a control character (CR, LF,
    NUL...). The message names neither the header's value nor the request.
    """

    translation_key = "invalid_headers"


class OwnedHeaderError(InvalidHeaderError):
    """A header the integration or the transport owns was given; nothing was sent.

    ``Authorization``, ``Host``, ``Content-Length``... (``headers.py`` says which
    and why). The name (a token, checked first) is named, never the value.
    """

    translation_key = "owned_header"

    def __init__(self, name: str) -> None:
        """Remember the header's name."""
        super().__init__(f"the {name} header is set by the integration")
        self.name = name

    @property
    @override
    def translation_placeholders(self) -> dict[str, str]:
        """The header's name."""
        return {"header": self.name}


class InvalidBodyError(ApiError):
    """The JSON body cannot be serialised (a number out of range...); nothing sent."""

    translation_key = "invalid_json_body"


class ApiConnectionError(ApiError):
    """The request got no response (connection error)."""

    translation_key = "cannot_connect"


class ApiCertificateError(ApiConnectionError):
    """The server's TLS certificate could not be verified; nothing was sent."""

    translation_key = "certificate_error"


class ApiTimeoutError(ApiConnectionError):
    """The request got no response in time."""

    translation_key = "timeout"


class ApiResponseError(ApiError):
    """The API answered with an error status."""

    translation_key = "http_error"

    def __init__(self, status: int, reason: str = "") -> None:
        """Remember the status."""
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status

    @property
    @override
    def translation_placeholders(self) -> dict[str, str]:
        """The status."""
        return {"status": str(self.status)}


class ApiNotFoundError(ApiResponseError):
    """404: nothing at this URL."""

    translation_key = "not_found"


class ApiAuthError(ApiResponseError):
    """The token refused even when freshly refreshed: the grant no longer works."""

    translation_key = "unauthorized"


class ApiForbiddenError(ApiResponseError):
    """403: the token is valid but its scopes don't allow this request.

    ``scope`` is what the resource said it needs (RFC 6750 ``scope``), if it did.
    """

    translation_key = "forbidden"

    def __init__(self, status: int, reason: str = "", scope: str | None = None) -> None:
        """Remember the status and the scope the resource needs."""
        super().__init__(status, reason)
        self.scope = scope


class ApiRateLimitedError(ApiResponseError):
    """429 or 503; ``retry_after`` seconds when the server said so."""

    translation_key = "rate_limited"

    def __init__(self, status: int, retry_after: float | None) -> None:
        """Remember when the server wants to hear from us again."""
        super().__init__(status, "rate limited or unavailable")
        self.retry_after = retry_after


class ResponseTooLargeError(ApiError):
    """The response body is larger than the configured cap; reading stopped."""

    translation_key = "too_large"

    def __init__(self, limit: int) -> None:
        """Remember the cap."""
        super().__init__(f"response larger than {limit} bytes")
        self.limit = limit

    @property
    @override
    def translation_placeholders(self) -> dict[str, str]:
        """The cap."""
        return {"limit": str(self.limit)}


class RedirectRefusedError(ApiError):
    """A 307/308 redirect to another origin would resend the request body there."""

    translation_key = "redirect_refused"


class UnsafeRedirectError(RedirectRefusedError):
    """A redirect that is not followed: not http(s), or with user info.

    ``file:``, ``data:``, ``javascript:``... and ``user:pass@`` in the Location.
    """

    translation_key = "unsafe_redirect"


class TooManyRedirectsError(ApiError):
    """The server redirected more often than allowed."""

    translation_key = "too_many_redirects"


class UndecodableBodyError(ApiError):
    """The body cannot be read as text in the endpoint's encoding.

    The encoding is not a text encoding (``base64``, ``rot13``, ``undefined``…, in
    an endpoint stored before they were refused) or its codec cannot read the body.
    A charset the API declares that is not usable is ignored, never this error.
    """

    translation_key = "undecodable_body"

    def __init__(self, encoding: str) -> None:
        """Remember the encoding (what the user configured, never the body)."""
        super().__init__(f"the body cannot be decoded as {encoding}")
        self.encoding = encoding

    @property
    @override
    def translation_placeholders(self) -> dict[str, str]:
        """The encoding."""
        return {"encoding": self.encoding}
