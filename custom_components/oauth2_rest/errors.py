"""How a failed request reaches the user: one mapping for polls, the action, the preview.

A request fails with a client error (``client/errors.py``: each carries its
translation key and placeholders) or with a token error (HA's
``OAuth2TokenRequest*Error`` hierarchy: the grant is dead, or the failure is
transient). :func:`describe` turns either into a :class:`Failure`, whose key is the
same in the ``exceptions`` translations and in the endpoint flow's form errors;
:func:`update_failed` and :func:`action_failed` build what a coordinator and an
action raise from it. A request that could not be made at all (a template that
fails, an unusable CA file) is a :class:`RequestFailed` with its own Failure; so
is a failed one, once :func:`request_failed` has described it (``request.py``).
:func:`client_credentials_failed` is the same for the client credentials grant of
the account flow, whose form shows what went wrong, and
:func:`authorization_refused` for an authorization the server sent back refused.
"""

from __future__ import annotations

from dataclasses import dataclass
import re

from aiohttp import ClientError
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    OAuth2TokenRequestError,
    OAuth2TokenRequestReauthError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed

from .client.errors import (
    ApiAuthError,
    ApiError,
    ApiRateLimitedError,
    InvalidBodyError,
    InvalidHeaderError,
    InvalidUrlError,
    OriginNotAllowedError,
)
from .const import DOMAIN
from .oauth.token_response import TokenEndpointError
from .redact import Secrets, redact_text

# What a request through the account can raise: client errors, and token errors
# (HA's OAuth2 hierarchy; its transient errors are aiohttp ClientErrors).
REQUEST_ERRORS = (ApiError, OAuth2TokenRequestReauthError, ClientError)
# A server's Retry-After is honoured up to this many seconds.
MAX_RETRY_AFTER = 3600.0

# The user did not grant the authorization (RFC 6749 4.1.2.1): Home Assistant's
# own abort reason, "not granted".
ACCESS_DENIED = "access_denied"
# Refusals that are not the user's, and what each tells the user to check; any
# other code the server sends is a refusal of the generic kind.
_AUTHORIZE_REFUSALS = {
    "invalid_request": "authorize_invalid_request",
    "unauthorized_client": "authorize_unauthorized_client",
    "invalid_scope": "authorize_invalid_scope",
    "unsupported_response_type": "authorize_unsupported_response_type",
    "server_error": "authorize_server_error",
    "temporarily_unavailable": "authorize_server_error",
}
# What of a server's error code and description is shown, at most (characters).
MAX_ERROR_CODE = 64
MAX_ERROR_DESCRIPTION = 200
# How much of a description is read (redaction is linear only in bounded text).
_MAX_READ = 1024
_WHITESPACE = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Failure:
    """A failed request as the user is told about it."""

    key: str
    placeholders: dict[str, str]
    # The grant is dead or the API refuses the token: the account must be re-linked.
    reauth: bool = False
    # Seconds the server asked us to wait, capped.
    retry_after: float | None = None


# The caller's mistake: the action raises ServiceValidationError for these.
_CALLER_ERRORS = (
    InvalidUrlError,
    InvalidHeaderError,
    InvalidBodyError,
    OriginNotAllowedError,
)


class RequestFailed(Exception):
    """A request that was not made or that failed, as the user is told about it.

    ``error`` is the client or token error it failed with (None when it was never
    sent); ``caller_error`` says the request itself was wrong (the action raises
    ServiceValidationError); ``url`` is the rendered URL it was sent to, if it was.
    """

    def __init__(
        self,
        failure: Failure,
        error: Exception | None = None,
        *,
        caller_error: bool = False,
    ) -> None:
        """Keep the failure and what it came from."""
        super().__init__(failure.key)
        self.failure = failure
        self.error = error
        self.caller_error = caller_error
        self.url: str | None = None


def request_failed(err: Exception) -> RequestFailed:
    """A client or token error of a request, described."""
    return RequestFailed(
        describe(err), err, caller_error=isinstance(err, _CALLER_ERRORS)
    )


def describe(err: Exception) -> Failure:
    """The translation key and placeholders of a client or token error."""
    if isinstance(err, RequestFailed):
        return err.failure
    if isinstance(err, OAuth2TokenRequestReauthError):
        return Failure("reauth_required", {}, reauth=True)
    if isinstance(err, ApiError):
        retry_after = (
            min(err.retry_after, MAX_RETRY_AFTER)
            if isinstance(err, ApiRateLimitedError) and err.retry_after is not None
            else None
        )
        return Failure(
            err.translation_key,
            err.translation_placeholders,
            reauth=isinstance(err, ApiAuthError),
            retry_after=retry_after,
        )
    # Any other token request failure is transient (HA's OAuth2 hierarchy).
    return Failure("token_refresh_failed", {})


def update_failed(err: Exception, target: str) -> HomeAssistantError:
    """What a coordinator raises: reauth, or an update retried later."""
    failure = describe(err)
    placeholders = {"target": target, **failure.placeholders}
    if failure.reauth:
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN,
            translation_key=failure.key,
            translation_placeholders=placeholders,
        )
    return UpdateFailed(
        translation_domain=DOMAIN,
        translation_key=failure.key,
        translation_placeholders=placeholders,
        retry_after=failure.retry_after,
    )


def action_failed(err: Exception, target: str) -> HomeAssistantError:
    """What the action raises: the caller's mistake, or a failed request."""
    failure = describe(err)
    caller_error = (
        err.caller_error
        if isinstance(err, RequestFailed)
        else isinstance(err, _CALLER_ERRORS)
    )
    error_type = ServiceValidationError if caller_error else HomeAssistantError
    return error_type(
        translation_domain=DOMAIN,
        translation_key=failure.key,
        translation_placeholders={"target": target, **failure.placeholders},
    )


def client_credentials_failed(err: OAuth2TokenRequestError) -> Failure:
    """A failed client credentials grant as its form tells it.

    The provider refused the client (its secret, by ``invalid_client``, or the
    grant), or the request failed; the placeholder names the provider's error code,
    else the kind of failure.
    """
    cause = err.__cause__
    code = cause.error if isinstance(cause, TokenEndpointError) else ""
    if isinstance(err, OAuth2TokenRequestReauthError):
        key = (
            "invalid_client"
            if code == "invalid_client"
            else "client_credentials_refused"
        )
    else:
        key = "client_credentials_failed"
    return Failure(key, {"error": code or type(err).__name__})


def authorization_refused(
    error: str, description: str | None, secrets: Secrets
) -> Failure:
    """An authorization the server sent back refused, as the flow's abort tells it.

    ``access_denied`` is the user's (or the server's on the user's behalf): Home
    Assistant's "not granted". Any other code says what to check, with the
    server's ``error_description``: redacted, bounded, and shown as code so
    that nothing in it renders as a link.
    """
    code = _shown(error[:_MAX_READ], MAX_ERROR_CODE) or "unknown"
    if code == ACCESS_DENIED:
        return Failure("user_rejected_authorize", {"error": code})
    detail = f"`{code}`"
    if description:
        if len(description) > _MAX_READ:
            # Cut before a word: a secret cut in two would not be known to redact.
            description = _without_last_word(description[:_MAX_READ])
        text = redact_text(description, secrets)
        if shown := _shown(text, MAX_ERROR_DESCRIPTION):
            detail += f": `{shown}`"
    return Failure(
        _AUTHORIZE_REFUSALS.get(code, "authorize_refused"), {"error": detail}
    )


def _shown(text: str, limit: int) -> str:
    """Text from a server as one line of at most ``limit`` characters.

    Control characters and backticks (which would end the code span it is shown
    in) become spaces.
    """
    printable = "".join(c if c.isprintable() and c != "`" else " " for c in text)
    line = _WHITESPACE.sub(" ", printable).strip()
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def _without_last_word(text: str) -> str:
    """Text up to its last whitespace (empty when it has none)."""
    end = len(text)
    while end and not text[end - 1].isspace():
        end -= 1
    return text[:end]
