"""Typed errors of the API client.

The Home Assistant runtime maps them: ``ApiAuthError`` to reauth, ``ApiForbiddenError``
to a repair issue, the rest to a retried update. No message carries a token.
"""

from __future__ import annotations


class ApiError(Exception):
    """Base class for every API client error."""


class OriginNotAllowedError(ApiError):
    """The URL's origin may not receive the access token; nothing was sent."""

    def __init__(self, origin: str) -> None:
        """Remember the refused origin."""
        super().__init__(f"origin {origin} is not allowed to receive the token")
        self.origin = origin


class InvalidUrlError(ApiError):
    """The URL cannot be parsed (bad host, port out of range…); nothing was sent.

    The message never repeats the URL: its query may carry a secret.
    """


class ApiConnectionError(ApiError):
    """The request got no response (connection error or timeout)."""


class ApiResponseError(ApiError):
    """The API answered with an error status."""

    def __init__(self, status: int, reason: str = "") -> None:
        """Remember the status."""
        super().__init__(f"HTTP {status} {reason}".strip())
        self.status = status


class ApiAuthError(ApiResponseError):
    """401 even with a freshly refreshed token: the grant no longer works."""


class ApiForbiddenError(ApiResponseError):
    """403: the token is valid but its scopes don't allow this request."""


class ApiRateLimitedError(ApiResponseError):
    """429 or 503; ``retry_after`` seconds when the server said so."""

    def __init__(self, status: int, retry_after: float | None) -> None:
        """Remember when the server wants to hear from us again."""
        super().__init__(status, "rate limited or unavailable")
        self.retry_after = retry_after


class ResponseTooLargeError(ApiError):
    """The response body is larger than the configured cap; reading stopped."""

    def __init__(self, limit: int) -> None:
        """Remember the cap."""
        super().__init__(f"response larger than {limit} bytes")
        self.limit = limit


class RedirectRefusedError(ApiError):
    """A 307/308 redirect to another origin would resend the request body there."""


class TooManyRedirectsError(ApiError):
    """The server redirected more often than allowed."""
