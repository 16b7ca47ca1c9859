"""The bridge between Home Assistant's OAuth2Session and the HA-agnostic client."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import time
from typing import Any, override

from aiohttp import ClientError, ClientSession
from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import OAuth2TokenRequestReauthError
from homeassistant.helpers.config_entry_oauth2_flow import (
    CLOCK_OUT_OF_SYNC_MAX_SEC,
    LocalOAuth2Implementation,
    OAuth2Session,
)

from .client.auth import DEFAULT_MAX_RESPONSE_BYTES, AbstractAuth, OriginPolicy
from .client.response import ApiResponse
from .const import CONF_ALLOWED_ORIGINS, CONF_MAX_RESPONSE_BYTES, CONF_PROVIDER
from .oauth.provider import ProviderProfile
from .oauth.token_set import (
    ACCESS_TOKEN,
    EXPIRES_AT,
    StoredToken,
    entry_token,
    lifetime,
)
from .redact import Secrets
from .token_store import account_tokens


def entry_profile(config_entry: ConfigEntry[Any]) -> ProviderProfile:
    """The provider profile an account entry was linked with."""
    return ProviderProfile.from_dict(config_entry.data[CONF_PROVIDER])


def entry_origin_policy(config_entry: ConfigEntry[Any]) -> OriginPolicy:
    """Where an account's token may go: its API base, and the origins it allows."""
    return OriginPolicy(
        entry_profile(config_entry).api_base,
        config_entry.options.get(CONF_ALLOWED_ORIGINS, ()),
    )


# Refresh at most this long before the token expires.
MAX_REFRESH_MARGIN = 120.0
# The early refresh starts at least this long before the token stops being trusted.
REFRESH_LEAD = 10.0
# The share of a token's lifetime left when it is refreshed (within the bounds).
REFRESH_SHARE = 0.1


def refresh_margin(seconds: float | None) -> float:
    """Seconds before expiry at which a token of this lifetime is refreshed.

    A tenth of the lifetime (one token request per ~0.9 lifetime), at least
    ``REFRESH_LEAD`` beyond the trust margin (HA's 20 s clock-skew margin) and at
    most 2 min, but never more than half of it. It always starts before
    ``trust_margin``: an early refresh that fails leaves time to try again while
    the token is still used. Tokens of 5 to 20 min are refreshed a tenth of their
    lifetime early, an hour's 2 min early, a 60 s token 30 s early.
    """
    if seconds is None:
        return MAX_REFRESH_MARGIN
    return min(
        MAX_REFRESH_MARGIN,
        max(CLOCK_OUT_OF_SYNC_MAX_SEC + REFRESH_LEAD, seconds * REFRESH_SHARE),
        seconds / 2,
    )


def trust_margin(seconds: float | None) -> float:
    """Seconds before expiry at which a token of this lifetime is no longer sent.

    HA's 20 s clock-skew margin, but at most a quarter of the lifetime: a short
    token (60 s) is still used after its early refresh (30 s before) failed.
    """
    if seconds is None:
        return CLOCK_OUT_OF_SYNC_MAX_SEC
    return min(CLOCK_OUT_OF_SYNC_MAX_SEC, seconds / 4)


# A token the API rejected is force-refreshed at most once in this many seconds.
FORCED_REFRESH_INTERVAL = 60.0


@dataclass(frozen=True, slots=True)
class RefreshOutcome:
    """What one token refresh attempt of the account ended in."""

    succeeded: bool
    at: float
    error: str | None = None


class AccountSession(OAuth2Session):
    """The account's one OAuth2Session: every token refresh goes through it.

    HA's session makes refreshes single-flight per session and saves the new token
    late. This adds what an API client needs on top:
    - every refresh goes through the account's ``AccountTokens`` (token_store.py):
      the new token set is on disk before anyone gets it, and one refresh runs per
      account, also across reloads;
    - refresh ahead of expiry (a tenth of the token's lifetime, 30 s to 2 min
      before it, at most half of it), and when that early refresh fails
      transiently, keep using the still-valid token instead of failing the caller;
    - a forced refresh after the API rejected a token that looked valid, at most
      one per token per minute;
    - callers that waited while a refresh was attempted take its outcome instead
      of each sending a token request of their own;
    - once the grant is dead (a reauth error) no further token requests are made
      until the entry is re-linked and reloaded: no retry storm;
    - a callback per refresh attempt, so the account coordinator can show health.

    ``valid_token`` and ``async_ensure_token_valid`` replace HA's without calling
    them: HA's would send a refresh token of its own beside ours (its lock is per
    session, ours per account and across reloads) and save the new token late.
    What HA's versions add there is covered here instead: the new token set is
    checked where it is made (``normalise_token``: a non-empty access token;
    ``stamp_expiry``: an expiry) before it is stored; a reauth error is not turned
    into a reauth flow here but by the callers, through the one error mapping
    (``errors.py``: the coordinators raise ConfigEntryAuthFailed, so HA starts
    reauth; the action starts it; the preview shows ``reauth_required``).
    tests/test_ha_session_contract.py pins HA's methods replaced here, so a new HA
    version that changes them fails until this is reviewed again.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        config_entry: ConfigEntry[Any],
        implementation: LocalOAuth2Implementation,
        on_refresh: Callable[[RefreshOutcome], None],
    ) -> None:
        """Initialise like HA's session; ``on_refresh`` hears every refresh attempt."""
        super().__init__(hass, config_entry, implementation)
        self._rejected_access_token: str | None = None
        self._dead_grant: OAuth2TokenRequestReauthError | None = None
        self._on_refresh = on_refresh
        self._attempt_lock = asyncio.Lock()
        self._attempts = 0
        self._last_failure: ClientError | None = None
        self._last_forced: tuple[str, float] | None = None
        self._last_refreshed: tuple[str, float] | None = None
        self._tokens = account_tokens(hass, config_entry.entry_id)
        # What must never be shown: the client secret and every token issued.
        self.secrets = Secrets(implementation.client_secret)
        self.secrets.add_token(self.token_set)

    @property
    def token_set(self) -> StoredToken:
        """The account's current token set (validity not checked)."""
        return entry_token(self.config_entry.data)

    @property
    def access_token(self) -> str:
        """The current access token (validity not checked)."""
        return self.token_set[ACCESS_TOKEN]

    @property
    def refresh_margin(self) -> float:
        """Seconds before expiry at which the token is refreshed (``refresh_margin``)."""
        return refresh_margin(lifetime(self.token_set))

    @property
    def trust_margin(self) -> float:
        """Seconds before expiry at which the token is no longer sent."""
        return trust_margin(lifetime(self.token_set))

    @property
    def usable(self) -> bool:
        """Whether the current token can still be sent (not expired, not rejected)."""
        token = self.token_set
        if token[ACCESS_TOKEN] == self._rejected_access_token:
            return False
        return token[EXPIRES_AT] > time.time() + self.trust_margin

    @property
    @override
    def valid_token(self) -> bool:
        """Usable and not yet due for its refresh (the refresh margin is the wider)."""
        token = self.token_set
        if token[ACCESS_TOKEN] == self._rejected_access_token:
            return False
        return token[EXPIRES_AT] > time.time() + refresh_margin(lifetime(token))

    @override
    async def async_ensure_token_valid(self) -> None:
        """Refresh when due; report the attempt; stop once the grant is dead."""
        if self._dead_grant is not None:
            raise self._dead_grant
        if self.valid_token:
            return
        attempts_seen = self._attempts
        async with self._attempt_lock:
            if self._dead_grant is not None:
                raise self._dead_grant
            if self._attempts != attempts_seen:
                # A refresh was attempted while we waited: take its outcome.
                if self._last_failure is not None and not self.usable:
                    raise self._last_failure
                return
            await self._async_attempt_refresh()

    async def _async_attempt_refresh(self) -> None:
        """One refresh attempt, under the attempt lock; waiters see it counted."""
        try:
            await self._async_refresh_once()
        finally:
            self._attempts += 1

    async def _async_refresh_once(self) -> None:
        before = self.access_token
        try:
            # On disk before anyone gets it; one refresh per account, across setups.
            token = await self._tokens.async_refresh(
                self.config_entry, self.implementation.async_refresh_token
            )
        except OAuth2TokenRequestReauthError as err:
            self._dead_grant = err
            self._report(RefreshOutcome(False, time.time(), type(err).__name__))
            raise
        except ClientError as err:
            # Transient token errors (HA's OAuth2 hierarchy are aiohttp ClientErrors).
            self._last_failure = err
            self._report(RefreshOutcome(False, time.time(), type(err).__name__))
            if self.usable:
                return  # The early refresh failed; the token still works meanwhile.
            raise
        self._last_failure = None
        self.secrets.add_token(token)
        # The token endpoint stands by the token, even when it is the same one.
        self._rejected_access_token = None
        self._last_refreshed = (token[ACCESS_TOKEN], time.monotonic())
        if token[ACCESS_TOKEN] != before:
            self._report(RefreshOutcome(True, time.time()))

    def just_refreshed(self, token: str) -> bool:
        """Whether ``token`` is what a refresh gave less than a minute ago.

        The API refusing such a token with a bare 403 refuses the request, not the
        token: no second refresh for it.
        """
        return (
            self._last_refreshed is not None
            and self._last_refreshed[0] == token
            and time.monotonic() - self._last_refreshed[1] < FORCED_REFRESH_INTERVAL
        )

    async def async_force_refresh(self, rejected_token: str) -> None:
        """Refresh because the API rejected ``rejected_token``.

        When another caller already replaced that token, nothing is requested; nor
        when that token was force-refreshed less than a minute ago (the endpoint
        answered with the same token, or the API rejects every token): no storm.
        """
        now = time.monotonic()
        if self.access_token == rejected_token and (
            self._last_forced is None
            or self._last_forced[0] != rejected_token
            or now - self._last_forced[1] >= FORCED_REFRESH_INTERVAL
        ):
            self._last_forced = (rejected_token, now)
            self._rejected_access_token = rejected_token
        # Also when rate-limited: a forced refresh still in flight is waited for.
        await self.async_ensure_token_valid()

    def _report(self, outcome: RefreshOutcome) -> None:
        self._on_refresh(outcome)


class ConfigEntryAuth(AbstractAuth):
    """AbstractAuth whose tokens come from the account's session."""

    def __init__(
        self,
        websession: ClientSession,
        session: AccountSession,
        config_entry: ConfigEntry[Any],
        on_response: Callable[[ApiResponse], None],
    ) -> None:
        """Initialise with the account's session; the entry's options set the policy.

        ``on_response`` hears about every response read: polls, previews and
        actions alike.
        """
        super().__init__(
            websession,
            entry_origin_policy(config_entry),
            on_response=on_response,
            dead_token_answers=entry_profile(config_entry).api_dead_token,
        )
        self._session = session
        self.apply_options(config_entry)

    def apply_options(self, config_entry: ConfigEntry[Any]) -> None:
        """Take the entry's options (allowed origins, size cap), in place."""
        self.policy = entry_origin_policy(config_entry)
        self.max_response_bytes = config_entry.options.get(
            CONF_MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES
        )

    @override
    async def async_get_access_token(self) -> str:
        """Return a valid access token from the session."""
        await self._session.async_ensure_token_valid()
        return self._session.access_token

    @override
    def just_refreshed(self, token: str) -> bool:
        """Whether the session's last refresh gave ``token`` moments ago."""
        return self._session.just_refreshed(token)

    @override
    async def async_force_refresh(self, rejected_token: str) -> str:
        """Refresh once after the API refused the token; return the new token."""
        await self._session.async_force_refresh(rejected_token)
        return self._session.access_token
