"""One mapping from client and token errors to what users are told."""

from __future__ import annotations

import json
from pathlib import Path

from aiohttp import ClientError
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
    ServiceValidationError,
)
from homeassistant.helpers.update_coordinator import UpdateFailed
import pytest

from custom_components.oauth2_rest.client import errors as client_errors
from custom_components.oauth2_rest.client.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiError,
    ApiRateLimitedError,
    InvalidUrlError,
    OriginNotAllowedError,
)
from custom_components.oauth2_rest.errors import (
    MAX_ERROR_DESCRIPTION,
    MAX_RETRY_AFTER,
    action_failed,
    authorization_refused,
    describe,
    update_failed,
)
from custom_components.oauth2_rest.redact import NO_SECRETS, Secrets

STRINGS = json.loads(
    (
        Path(__file__).parents[1] / "custom_components/oauth2_rest/strings.json"
    ).read_text(encoding="utf-8")
)


def _token_error(error_type: type[Exception]) -> Exception:
    return error_type(request_info=None, history=(), status=400, domain="oauth2_rest")


def test_every_client_error_is_translated_everywhere() -> None:
    """Each client error's key is an exception message and an endpoint form error."""
    keys = {
        cls.translation_key
        for cls in vars(client_errors).values()
        if isinstance(cls, type) and issubclass(cls, ApiError)
    } | {"reauth_required", "token_refresh_failed", "invalid_body"}
    form_errors = STRINGS["config_subentries"]["endpoint"]["error"]
    for key in keys:
        assert "{target}" in STRINGS["exceptions"][key]["message"], key
        assert key in form_errors, key


def test_describe() -> None:
    """Token errors: reauth or transient; client errors carry their own key."""
    dead = describe(_token_error(OAuth2TokenRequestReauthError))
    assert (dead.key, dead.reauth) == ("reauth_required", True)
    transient = describe(_token_error(OAuth2TokenRequestTransientError))
    assert (transient.key, transient.reauth) == ("token_refresh_failed", False)
    assert describe(ClientError()).key == "token_refresh_failed"
    assert describe(ApiAuthError(401)).reauth
    limited = describe(ApiRateLimitedError(429, 10 * MAX_RETRY_AFTER))
    assert limited.retry_after == MAX_RETRY_AFTER
    assert describe(ApiRateLimitedError(429, None)).retry_after is None


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (ApiAuthError(401), ConfigEntryAuthFailed),
        (_token_error(OAuth2TokenRequestReauthError), ConfigEntryAuthFailed),
        (ApiConnectionError("down"), UpdateFailed),
        (_token_error(OAuth2TokenRequestTransientError), UpdateFailed),
    ],
)
def test_update_failed(error: Exception, raised: type[Exception]) -> None:
    """Polls: reauth for a dead grant, a retried update otherwise."""
    result = update_failed(error, "Weather")
    assert type(result) is raised
    assert result.translation_placeholders["target"] == "Weather"


def test_update_failed_keeps_retry_after() -> None:
    """A rate limit's Retry-After reaches the coordinator."""
    result = update_failed(ApiRateLimitedError(429, 30), "Weather")
    assert isinstance(result, UpdateFailed)
    assert result.retry_after == 30


@pytest.mark.parametrize(
    ("error", "raised"),
    [
        (InvalidUrlError("bad"), ServiceValidationError),
        (OriginNotAllowedError("https://x"), ServiceValidationError),
        (ApiConnectionError("down"), HomeAssistantError),
        (ApiAuthError(401), HomeAssistantError),
    ],
)
def test_action_failed(error: Exception, raised: type[Exception]) -> None:
    """The action: the caller's mistakes are validation errors."""
    result = action_failed(error, "/x")
    assert type(result) is raised
    assert result.translation_key == describe(error).key


def test_every_refusal_is_translated() -> None:
    """Each code maps to an abort of the account flow that shows the code."""
    for code in (
        "access_denied",
        "invalid_request",
        "unauthorized_client",
        "invalid_scope",
        "unsupported_response_type",
        "server_error",
        "temporarily_unavailable",
        "consent_required",
    ):
        failure = authorization_refused(code, "why", NO_SECRETS)
        assert "{error}" in STRINGS["config"]["abort"][failure.key], code
        assert code in failure.placeholders["error"]


def test_refusal_description_is_not_shown_in_part() -> None:
    """A secret cut at the read limit is left out whole, not shown in part."""
    secret = "S3cr3t-" + "k" * 40
    failure = authorization_refused(
        "invalid_request", " " * 1000 + secret + " tail", Secrets(secret)
    )
    assert failure.placeholders == {"error": "`invalid_request`"}


def test_refusal_of_megabytes() -> None:
    """A huge description (or code) is read only up to a bound."""
    failure = authorization_refused(
        "invalid_request" * 100_000, "word " * 400_000, NO_SECRETS
    )
    code, description = failure.placeholders["error"].split(": ")
    assert len(code) <= 64 + 2
    assert len(description) == MAX_ERROR_DESCRIPTION + 2
