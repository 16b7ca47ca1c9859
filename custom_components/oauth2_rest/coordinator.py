"""Coordinators: one for the account's token lifecycle, one per endpoint."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
import json
import logging
import time
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import (
    ConfigEntryAuthFailed,
    HomeAssistantError,
    OAuth2TokenRequestReauthError,
    TemplateError,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.template import Template
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import AccountSession, ConfigEntryAuth, RefreshOutcome
from .client.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiRateLimitedError,
    ApiResponseError,
    OriginNotAllowedError,
    ResponseTooLargeError,
)
from .client.response import ApiResponse, ConditionalState
from .const import DOMAIN
from .endpoint import EndpointConfig
from .oauth.token_response import NON_EXPIRING_MARKER

if TYPE_CHECKING:
    from . import OAuth2RestConfigEntry

_LOGGER = logging.getLogger(__name__)

ACCOUNT_MIN_INTERVAL = timedelta(seconds=30)
ACCOUNT_MAX_INTERVAL = timedelta(hours=1)
# A server's Retry-After is honoured up to this many seconds.
MAX_RETRY_AFTER = 3600.0
FORBIDDEN_ISSUE_PREFIX = "forbidden_"


def forbidden_issue_prefix(entry_id: str) -> str:
    """Start of the ids of an account's 403 repair issues."""
    return f"{FORBIDDEN_ISSUE_PREFIX}{entry_id}_"


@dataclass(frozen=True, slots=True)
class AccountHealth:
    """What a user needs to see to know why a sensor stopped."""

    access_token_expires_at: datetime | None
    last_refresh: datetime | None
    consecutive_refresh_failures: int
    last_refresh_error: str | None
    rate_limit_remaining: int | None


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


def map_token_error(err: Exception) -> HomeAssistantError:
    """Map a token request failure as HA's OAuth2 error hierarchy defines it."""
    if isinstance(err, OAuth2TokenRequestReauthError):
        return ConfigEntryAuthFailed(
            translation_domain=DOMAIN, translation_key="reauth_required"
        )
    return UpdateFailed(
        translation_domain=DOMAIN, translation_key="token_refresh_failed"
    )


class AccountCoordinator(DataUpdateCoordinator[AccountHealth]):
    """Owns the entry's OAuth2Session: keeps the token fresh, reports health."""

    config_entry: OAuth2RestConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: OAuth2RestConfigEntry,
        session: AccountSession,
    ) -> None:
        """Initialise for the entry; ``session`` is the account's only session."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} account {config_entry.title}",
            update_interval=ACCOUNT_MAX_INTERVAL,
        )
        self.session = session
        self._last_refresh: float | None = None
        self._failures = 0
        self._last_error: str | None = None
        self._rate_limit_remaining: int | None = None

    @callback
    def record_refresh(self, outcome: RefreshOutcome) -> None:
        """Hear about a refresh attempt made by anyone using the session."""
        if outcome.succeeded:
            self._last_refresh = outcome.at
            self._failures = 0
            self._last_error = None
        else:
            self._failures += 1
            self._last_error = outcome.error
        if self.data is not None:
            self.async_set_updated_data(self._health())

    @callback
    def record_response(self, response: ApiResponse) -> None:
        """Hear about an API response (rate-limit headers)."""
        remaining = response.rate_limit_remaining
        if remaining is None or remaining == self._rate_limit_remaining:
            return
        self._rate_limit_remaining = remaining
        if self.data is not None:
            self.async_set_updated_data(
                replace(self.data, rate_limit_remaining=remaining)
            )

    def _health(self) -> AccountHealth:
        token = self.session.token
        expires_at = None if token.get(NON_EXPIRING_MARKER) else token.get("expires_at")
        return AccountHealth(
            access_token_expires_at=_utc(expires_at),
            last_refresh=_utc(self._last_refresh),
            consecutive_refresh_failures=self._failures,
            last_refresh_error=self._last_error,
            rate_limit_remaining=self._rate_limit_remaining,
        )

    def _next_interval(self) -> timedelta:
        """Wake up when the token's refresh is due (bounded)."""
        token = self.session.token
        if token.get(NON_EXPIRING_MARKER) or "expires_at" not in token:
            return ACCOUNT_MAX_INTERVAL
        until = timedelta(
            seconds=token["expires_at"] - time.time() - self.session.refresh_margin
        )
        return max(ACCOUNT_MIN_INTERVAL, min(ACCOUNT_MAX_INTERVAL, until))

    async def _async_update_data(self) -> AccountHealth:
        """Refresh the token when it is due, so polls never wait for one."""
        try:
            await self.session.async_ensure_token_valid()
        except (OAuth2TokenRequestReauthError, ClientError) as err:
            raise map_token_error(err) from err
        finally:
            self.update_interval = self._next_interval()
        return self._health()


def render_body(hass: HomeAssistant, body: str | None) -> tuple[Any, str | None]:
    """Render an endpoint's body template: ``(json, None)`` or ``(None, text)``.

    A body that renders to JSON is sent as JSON, anything else as text.
    Raises TemplateError when the template fails.
    """
    if not body:
        return None, None
    rendered = Template(body, hass).async_render(parse_result=False)
    try:
        return json.loads(rendered), None
    except ValueError:
        return None, rendered


@dataclass(frozen=True, slots=True)
class EndpointData:
    """The last good response of an endpoint."""

    status: int
    json: Any
    text: str
    fetched_at: datetime
    conditional: ConditionalState


class EndpointCoordinator(DataUpdateCoordinator[EndpointData]):
    """Polls one endpoint through the account's session."""

    config_entry: OAuth2RestConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: OAuth2RestConfigEntry,
        subentry: ConfigSubentry,
        auth: ConfigEntryAuth,
        account: AccountCoordinator,
    ) -> None:
        """Initialise for one endpoint subentry."""
        self.endpoint = EndpointConfig.from_subentry(subentry)
        super().__init__(
            hass,
            _LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} endpoint {subentry.title}",
            update_interval=self.endpoint.scan_interval,
            # A 304 returns the very same data object: no state writes then.
            always_update=False,
        )
        self.subentry_id = subentry.subentry_id
        self._auth = auth
        self._account = account

    @property
    def forbidden_issue_id(self) -> str:
        """Repair issue id for a 403 on this endpoint."""
        return forbidden_issue_prefix(self.config_entry.entry_id) + self.subentry_id

    async def _async_update_data(self) -> EndpointData:
        """Fetch the endpoint; a 304 keeps the last data."""
        endpoint = self.endpoint
        previous = self.data
        try:
            json_body, text_body = render_body(self.hass, endpoint.body)
        except TemplateError as err:
            _LOGGER.debug("Body template of %s failed: %s", endpoint.name, err)
            raise UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="api_error",
                translation_placeholders={"endpoint": endpoint.name},
            ) from err
        try:
            response = await self._auth.request(
                endpoint.method,
                endpoint.url,
                params=endpoint.params,
                headers=endpoint.headers,
                json=json_body,
                data=text_body,
                timeout=endpoint.timeout,
                conditional=previous.conditional if previous else None,
            )
        except (OAuth2TokenRequestReauthError, ClientError) as err:
            raise map_token_error(err) from err
        except ApiError as err:
            raise self._map_api_error(err) from err
        self._account.record_response(response)
        ir.async_delete_issue(self.hass, DOMAIN, self.forbidden_issue_id)
        if response.not_modified and previous is not None:
            return previous
        return EndpointData(
            status=response.status,
            json=response.json_or_none(),
            text=response.text,
            fetched_at=datetime.now(UTC),
            conditional=response.conditional_state,
        )

    def _map_api_error(self, err: ApiError) -> HomeAssistantError:
        """Translate a client error into reauth or a retried update."""
        placeholders = {"endpoint": self.endpoint.name}
        if isinstance(err, ApiAuthError):
            return ConfigEntryAuthFailed(
                translation_domain=DOMAIN,
                translation_key="api_unauthorized",
                translation_placeholders=placeholders,
            )
        if isinstance(err, ApiForbiddenError):
            ir.async_create_issue(
                self.hass,
                DOMAIN,
                self.forbidden_issue_id,
                is_fixable=False,
                severity=ir.IssueSeverity.WARNING,
                translation_key="endpoint_forbidden",
                translation_placeholders={
                    **placeholders,
                    "account": self.config_entry.title,
                },
            )
            key = "api_forbidden"
        elif isinstance(err, ApiRateLimitedError):
            return UpdateFailed(
                translation_domain=DOMAIN,
                translation_key="api_rate_limited",
                translation_placeholders=placeholders,
                retry_after=None
                if err.retry_after is None
                else min(err.retry_after, MAX_RETRY_AFTER),
            )
        elif isinstance(err, ResponseTooLargeError):
            key = "response_too_large"
            placeholders["limit"] = str(err.limit)
        elif isinstance(err, OriginNotAllowedError):
            key = "origin_not_allowed"
            placeholders["origin"] = err.origin
        elif isinstance(err, ApiResponseError):
            key = "api_error_status"
            placeholders["status"] = str(err.status)
        elif isinstance(err, ApiConnectionError):
            key = "api_cannot_connect"
        else:
            key = "api_error"
        return UpdateFailed(
            translation_domain=DOMAIN,
            translation_key=key,
            translation_placeholders=placeholders,
        )
