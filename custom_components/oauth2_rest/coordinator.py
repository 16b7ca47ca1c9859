"""Coordinators: one for the account's token lifecycle, one per endpoint."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
import logging
import time
from typing import TYPE_CHECKING, Any, override

from homeassistant.config_entries import ConfigEntry, ConfigSubentry
from homeassistant.core import CALLBACK_TYPE, HomeAssistant, callback
from homeassistant.exceptions import ConfigEntryAuthFailed
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.entity import Entity
from homeassistant.helpers.update_coordinator import DataUpdateCoordinator, UpdateFailed

from .api import AccountSession, ConfigEntryAuth, RefreshOutcome
from .client.errors import ApiForbiddenError
from .client.response import ApiResponse, JsonTooDeepError, json_too_deep
from .const import DOMAIN
from .control import SUBENTRY_TYPE_CONTROL, ControlConfig
from .endpoint import SUBENTRY_TYPE_ENDPOINT, EndpointConfig
from .errors import REQUEST_ERRORS, RequestFailed, update_failed
from .oauth.implementation import OAuth2RestImplementation
from .oauth.token_set import expiry
from .polling import PollScheduler
from .rate_limit import RateBudget, polls_per_second
from .redact import Secrets
from .request import StoredRequest, async_send, read_values
from .tls import log_unverified
from .values import EndpointData

if TYPE_CHECKING:
    from .controls import Control

_LOGGER = logging.getLogger(__name__)

ACCOUNT_MIN_INTERVAL = timedelta(seconds=30)
ACCOUNT_MAX_INTERVAL = timedelta(hours=1)
FORBIDDEN_ISSUE_PREFIX = "forbidden_"


def signal_endpoint_added(entry_id: str) -> str:
    """Dispatcher signal: an endpoint coordinator of the account started."""
    return f"{DOMAIN}_{entry_id}_endpoint_added"


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
    # The shortest poll interval of the account's endpoints now: longer than
    # configured while a rate limit would otherwise run out before its reset.
    poll_interval: timedelta | None = None


def _utc(timestamp: float | None) -> datetime | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC)


@dataclass(slots=True)
class RuntimeData:
    """What a loaded account entry holds."""

    account: AccountCoordinator
    options: dict[str, Any]
    # The title and provider profile the account was set up with (a change of
    # either sets it up again).
    title: str
    provider: Any
    endpoints: dict[str, EndpointCoordinator] = field(default_factory=dict)
    # Switches, buttons and notify entities (``controls.py``), by subentry id.
    controls: dict[str, Control] = field(default_factory=dict)
    # Endpoint and option changes are applied one at a time.
    changes: asyncio.Lock = field(default_factory=asyncio.Lock)


type OAuth2RestConfigEntry = ConfigEntry[RuntimeData]


class AccountCoordinator(DataUpdateCoordinator[AccountHealth]):
    """Owns the entry's OAuth2Session: keeps the token fresh, reports health."""

    config_entry: OAuth2RestConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: OAuth2RestConfigEntry,
        implementation: OAuth2RestImplementation,
    ) -> None:
        """Initialise for the entry: the account's only session, and its client."""
        super().__init__(
            hass,
            _LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} account {config_entry.title}",
            update_interval=ACCOUNT_MAX_INTERVAL,
        )
        self.session = AccountSession(
            hass, config_entry, implementation, on_refresh=self.record_refresh
        )
        self.auth = ConfigEntryAuth(
            async_get_clientsession(hass),
            self.session,
            config_entry,
            on_response=self.record_response,
        )
        # The endpoints' polls: shared ticks, a few requests at a time.
        self.polls = PollScheduler(hass, config_entry)
        config_entry.async_on_unload(self.polls.async_stop)
        self._last_refresh: float | None = None
        self._failures = 0
        self._last_error: str | None = None
        self._rate_limit_remaining: int | None = None
        self._budget: RateBudget | None = None
        self._polling: tuple[object, list[timedelta]] = (None, [])

    @property
    def secrets(self) -> Secrets:
        """What flows, actions and diagnostics of this account must never show."""
        return self.session.secrets

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
        if response.rate_limit_remaining is None:
            return  # the common case: the API says nothing of a rate limit
        limit = response.rate_limit
        if (budget := RateBudget.from_rate_limit(limit, time.time())) is not None:
            self._budget = budget
        if limit.remaining == self._rate_limit_remaining:
            return
        self._rate_limit_remaining = limit.remaining
        if self.data is not None:
            # Not async_set_updated_data: that would push the token's refresh
            # timer back on every response.
            self.data = replace(
                self.data,
                rate_limit_remaining=limit.remaining,
                poll_interval=self._shortest_poll_interval(),
            )
            self.async_update_listeners()

    def _configured_intervals(self) -> list[timedelta]:
        """The configured intervals of what polls: endpoints, switches' own states.

        Worked out again when the subentries change.
        """
        subentries = self.config_entry.subentries
        if self._polling[0] is not subentries:
            intervals = []
            for subentry in subentries.values():
                if subentry.subentry_type == SUBENTRY_TYPE_ENDPOINT:
                    intervals.append(
                        EndpointConfig.from_subentry(subentry).scan_interval
                    )
                elif subentry.subentry_type == SUBENTRY_TYPE_CONTROL and (
                    poll := ControlConfig.from_subentry(subentry).state_poll()
                ):
                    intervals.append(poll.scan_interval)
            self._polling = (subentries, intervals)
        return self._polling[1]

    def poll_interval(self, configured: timedelta) -> timedelta:
        """How long an endpoint configured to poll every ``configured`` waits now."""
        if self._budget is None:
            return configured
        rate = polls_per_second(self._configured_intervals())
        return self._budget.interval(configured, rate, time.time())

    def _shortest_poll_interval(self) -> timedelta | None:
        intervals = self._configured_intervals()
        return self.poll_interval(min(intervals)) if intervals else None

    def _health(self) -> AccountHealth:
        return AccountHealth(
            access_token_expires_at=_utc(expiry(self.session.token_set)),
            last_refresh=_utc(self._last_refresh),
            consecutive_refresh_failures=self._failures,
            last_refresh_error=self._last_error,
            rate_limit_remaining=self._rate_limit_remaining,
            poll_interval=self._shortest_poll_interval(),
        )

    def _next_interval(self) -> timedelta:
        """Wake up when the token's refresh is due (bounded)."""
        if (expires_at := expiry(self.session.token_set)) is None:
            return ACCOUNT_MAX_INTERVAL
        until = timedelta(
            seconds=expires_at - time.time() - self.session.refresh_margin
        )
        return max(ACCOUNT_MIN_INTERVAL, min(ACCOUNT_MAX_INTERVAL, until))

    @override
    async def _async_update_data(self) -> AccountHealth:
        """Refresh the token when it is due, so polls never wait for one."""
        try:
            await self.session.async_ensure_token_valid()
        except REQUEST_ERRORS as err:
            raise update_failed(err, self.config_entry.title) from err
        finally:
            self.update_interval = self._next_interval()
        return self._health()


class EndpointCoordinator(DataUpdateCoordinator[EndpointData]):
    """Polls one endpoint through the account's session.

    Also a switch's own state request (a ``control`` subentry's ``state_poll``).
    """

    # Its own attributes are few: with Home Assistant's, at most 30 fit the
    # instance's inline values (beyond, they become a dict of their own).

    config_entry: OAuth2RestConfigEntry

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: OAuth2RestConfigEntry,
        subentry: ConfigSubentry,
        account: AccountCoordinator,
        endpoint: EndpointConfig | None = None,
    ) -> None:
        """Initialise for one endpoint subentry (or ``endpoint`` of a control's)."""
        self.endpoint = (
            EndpointConfig.from_subentry(subentry) if endpoint is None else endpoint
        )
        super().__init__(
            hass,
            _LOGGER,
            config_entry=config_entry,
            name=f"{DOMAIN} endpoint {subentry.title}",
            # No timer of its own: the account's PollScheduler polls it on the
            # account's shared ticks while an entity listens.
            update_interval=None,
            # A 304 (the very same data object) or an unchanged body notifies no
            # entity, unless a value asks for a state write at every poll
            # (force_update).
            always_update=any(value.force_update for value in self.endpoint.values),
        )
        self.subentry_id = subentry.subentry_id
        self._account = account
        self._request = StoredRequest(hass, self.endpoint)
        self._unverified_logged = False
        self._too_deep_logged = False
        # The entities showing this endpoint's values, while they are in HA.
        self.entities: set[Entity] = set()
        # A 403 issue may survive a restart: the first success clears it.
        self._forbidden_issue = True

    @callback
    @override
    def async_add_listener(
        self, update_callback: CALLBACK_TYPE, context: Any = None
    ) -> CALLBACK_TYPE:
        """Listen for data; the first listener starts the polls.

        Home Assistant's own remover is returned: when it takes the last
        listener away, ``_unschedule_refresh`` stops the polls.
        """
        remove = super().async_add_listener(update_callback, context)
        if self.data is not None:
            # An entity added now renders data its listeners were not told of:
            # once it has, the parsed JSON can go.
            self.hass.loop.call_soon(self.data.release_json)
        if len(self._listeners) == 1:
            self._account.polls.add(self)
        return remove

    @callback
    @override
    def _unschedule_refresh(self) -> None:
        """The last listener is gone (Home Assistant calls this then): stop polling."""
        super()._unschedule_refresh()
        if not self._listeners:
            self._account.polls.discard(self)

    @property
    def poll_interval(self) -> timedelta:
        """How long this endpoint waits between polls now.

        Its interval, stretched while the account's rate limit would otherwise run out.
        """
        return self._account.poll_interval(self.endpoint.scan_interval)

    def poll_delay(self) -> float | None:
        """Seconds until the next poll, or None.

        The server's Retry-After after a 429/503 when it is longer than the
        interval (a Retry-After of 0 or a past date never makes an endpoint poll
        faster than configured); None after the credentials were refused (the
        re-linked account starts anew).
        """
        interval = self.poll_interval.total_seconds()
        if not self.last_update_success:
            err = self.last_exception
            if isinstance(err, ConfigEntryAuthFailed):
                return None
            if isinstance(err, UpdateFailed) and err.retry_after is not None:
                return max(err.retry_after, interval)
        return interval

    @override
    async def async_shutdown(self) -> None:
        """Stop polling for good (the endpoint or the account goes away)."""
        self._account.polls.discard(self)
        await super().async_shutdown()

    async def async_stop(self) -> None:
        """Stop polling and take this endpoint's entities out of HA (not the registry)."""
        await self.async_shutdown()
        await asyncio.gather(*(entity.async_remove() for entity in list(self.entities)))
        ir.async_delete_issue(self.hass, DOMAIN, self.forbidden_issue_id)

    @property
    def secrets(self) -> Secrets:
        """The account's secrets: what this endpoint's entities never show."""
        return self._account.secrets

    async def async_poll_now(self) -> None:
        """Poll now (a command changed what this endpoint reads), then tell listeners.

        Listeners hear of it even when the answer is unchanged: a switch then
        leaves the state it assumed for the one polled.
        """
        await self._account.polls.async_poll_now(self)
        self.async_update_listeners()

    @property
    def forbidden_issue_id(self) -> str:
        """Repair issue id for a 403 on this endpoint."""
        return forbidden_issue_prefix(self.config_entry.entry_id) + self.subentry_id

    @override
    async def _async_update_data(self) -> EndpointData:
        """Fetch the endpoint; a 304 keeps the last data."""
        endpoint = self.endpoint
        previous = self.data
        if not self._unverified_logged and not endpoint.verify_ssl:
            log_unverified(endpoint.name, self.config_entry.title)
            self._unverified_logged = True
        try:
            sent = await async_send(
                self._account.auth,
                self._request,
                conditional=lambda target: (
                    previous.conditional
                    if previous and previous.request == target
                    else None
                ),
            )
        except RequestFailed as err:
            if err.error is None:  # a template or the CA file: never sent
                _LOGGER.debug(
                    "Request of %s not sent: %s", endpoint.name, err.__cause__
                )
            if isinstance(err.error, ApiForbiddenError):
                self._async_raise_forbidden_issue(err.error.scope)
            raise update_failed(err, endpoint.name) from err.__cause__
        response, request = sent.response, sent.request.target
        if self._forbidden_issue:
            ir.async_delete_issue(self.hass, DOMAIN, self.forbidden_issue_id)
            self._forbidden_issue = False
        conditional = response.conditional_state
        if (
            previous is not None
            and previous.request == request
            and (
                response.not_modified
                or (
                    response.status == previous.status
                    and response.body == previous.body
                    and conditional == previous.conditional
                )
            )
        ):
            return previous  # the same answer: nothing to parse, nothing to show
        try:
            json_data, text = read_values(response, endpoint.encoding)
        except RequestFailed as err:
            raise update_failed(err, endpoint.name) from err.__cause__
        self._log_too_deep(json_data, text)
        data = EndpointData(
            status=response.status,
            body=response.body,
            text=text,
            fetched_at=datetime.now(UTC),
            conditional=conditional,
            request=request,
            parsed=json_data,
        )
        if data == previous:
            # No entity is told of an equal answer: nobody reads its JSON now.
            data.release_json()
        return data

    @callback
    @override
    def async_update_listeners(self) -> None:
        """Tell the listeners, then let the parsed JSON go (they have rendered it)."""
        super().async_update_listeners()
        if self.data is not None:
            self.data.release_json()

    def _log_too_deep(self, json_data: Any, text: str) -> None:
        """Log once that the response is JSON nested too deep.

        Its values then read no ``value_json``; logged again only after the
        endpoint answered usable JSON.
        """
        if json_data is not None or not json_too_deep(text):
            self._too_deep_logged = False
            return
        if not self._too_deep_logged:
            _LOGGER.warning(
                "The response of endpoint %s is not used as JSON: %s",
                self.endpoint.name,
                JsonTooDeepError(),
            )
            self._too_deep_logged = True

    @callback
    def _async_raise_forbidden_issue(self, scope: str | None) -> None:
        """A 403: the granted scopes probably don't cover this endpoint.

        When the API named the ``scope`` it needs, the issue says which.
        """
        self._forbidden_issue = True
        placeholders = {
            "endpoint": self.endpoint.name,
            "account": self.config_entry.title,
        }
        if scope is not None:
            placeholders["scope"] = scope
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            self.forbidden_issue_id,
            is_fixable=False,
            severity=ir.IssueSeverity.WARNING,
            translation_key="endpoint_forbidden"
            if scope is None
            else "endpoint_forbidden_scope",
            translation_placeholders=placeholders,
        )
