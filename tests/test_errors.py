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
    MAX_RETRY_AFTER,
    action_failed,
    describe,
    update_failed,
)

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
