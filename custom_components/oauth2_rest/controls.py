"""A control at run time: its commands, sent through the account; its state's source.

A switch, button or notify entity never sends anything itself (entities never see
a token nor call the network): it asks its :class:`Control`, which sends the
command through the one request path (``request.py``: templates, TLS, origin
policy, the account's token with its single-flight refresh and the refused-token
retry, size cap) and maps a failure through ``errors.py``, as the action does: a
translated ``HomeAssistantError`` (``ServiceValidationError`` for a request that
is wrong in itself, such as a URL on an origin the token may not go to), which
names the control and never a token, a body or a secret. A dead grant also
starts the re-link flow.

A switch's state comes from a coordinator: one of the account's endpoints, or the
switch's own state request, polled as an endpoint is (this control owns that
coordinator). After a command the switch asks for that coordinator to be polled
again at once (:meth:`Control.async_poll_state`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
import logging

from homeassistant.config_entries import ConfigSubentry
from homeassistant.core import HomeAssistant
from homeassistant.helpers.entity import Entity

from .client.response import ApiResponse
from .const import DOMAIN
from .control import KIND_NOTIFY, KIND_SWITCH, SEND, STATE_FROM_ENDPOINT, ControlConfig
from .coordinator import AccountCoordinator, EndpointCoordinator, OAuth2RestConfigEntry
from .errors import RequestFailed, action_failed
from .redact import Secrets
from .request import MessageRequest, RequestSource, StoredRequest, async_send
from .tls import log_unverified

_LOGGER = logging.getLogger(__name__)


class Commands:
    """A control's requests, compiled once: what each of its commands sends."""

    def __init__(self, hass: HomeAssistant, config: ControlConfig) -> None:
        """Compile every request of ``config`` (templates, TLS read at first send)."""
        self.config = config
        self._requests = {
            which: StoredRequest(hass, config.command(which))
            for which in config.requests
        }
        self._message_data = (
            MessageRequest.compile(hass, config) if config.kind == KIND_NOTIFY else {}
        )

    def source(
        self, which: str, *, message: str = "", title: str | None = None
    ) -> RequestSource:
        """The request ``which`` (a notification's with its message)."""
        request = self._requests[which]
        if which == SEND and self.config.kind == KIND_NOTIFY:
            return MessageRequest(
                request, self.config, self._message_data, message, title
            )
        return request


class Control:
    """A switch, button or notify entity's requests, and where a switch's state is."""

    def __init__(
        self,
        hass: HomeAssistant,
        entry: OAuth2RestConfigEntry,
        subentry: ConfigSubentry,
        account: AccountCoordinator,
        state: EndpointCoordinator | None,
        *,
        owns_state: bool = False,
    ) -> None:
        """Compile the control's requests; ``state``: where a switch reads its state.

        ``owns_state``: ``state`` is the switch's own state request, which stops
        with the control.
        """
        self.hass = hass
        self.entry = entry
        self.config = ControlConfig.from_subentry(subentry)
        self.subentry_id = subentry.subentry_id
        self.state = state
        self.owns_state = owns_state
        self._account = account
        self._commands = Commands(hass, self.config)
        self._unverified_logged = False
        # The control's entity, while it is in HA.
        self.entities: set[Entity] = set()

    @property
    def secrets(self) -> Secrets:
        """The account's secrets: never in what the control's entity shows or logs."""
        return self._account.secrets

    async def async_send(
        self, which: str, *, message: str = "", title: str | None = None
    ) -> ApiResponse:
        """Send the request ``which`` (a notification: with ``message``, ``title``).

        Raises HomeAssistantError (translated) when it was not sent or failed,
        an error status included.
        """
        config = self.config
        source = self._commands.source(which, message=message, title=title)
        if not config.verify_ssl and not self._unverified_logged:
            log_unverified(config.name, self.entry.title)
            self._unverified_logged = True
        try:
            sent = await async_send(self._account.auth, source)
        except RequestFailed as err:
            if err.error is None:  # a template or the CA file: never sent
                _LOGGER.debug("Request of %s not sent: %s", config.name, err.__cause__)
            if err.failure.reauth:
                self.entry.async_start_reauth(self.hass)
            raise action_failed(err, config.name) from err.__cause__
        return sent.response

    async def async_poll_state(self) -> None:
        """Poll the switch's state source now (after a command), if it has one."""
        if self.state is not None:
            await self.state.async_poll_now()

    async def async_stop(self) -> None:
        """Take the control's entity out of HA (not the registry); stop its state poll."""
        if self.owns_state and self.state is not None:
            await self.state.async_stop()
        await asyncio.gather(*(entity.async_remove() for entity in list(self.entities)))


def signal_control_added(entry_id: str) -> str:
    """Dispatcher signal: a control of the account started."""
    return f"{DOMAIN}_{entry_id}_control_added"


def start_control(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    subentry: ConfigSubentry,
    account: AccountCoordinator,
    endpoints: Mapping[str, EndpointCoordinator],
) -> Control:
    """A control for ``subentry``, its state read where it says.

    A switch's own state request gets a coordinator of its own (polled once the
    caller refreshes it); a switch reading an endpoint that no longer exists
    (deleted since) has no state source: it assumes what it last sent.
    """
    config = ControlConfig.from_subentry(subentry)
    if (poll := config.state_poll()) is not None:
        own = EndpointCoordinator(hass, entry, subentry, account, endpoint=poll)
        return Control(hass, entry, subentry, account, own, owns_state=True)
    state: EndpointCoordinator | None = None
    if config.kind == KIND_SWITCH and config.state_source == STATE_FROM_ENDPOINT:
        state = endpoints.get(config.state_endpoint or "")
        if state is None:
            _LOGGER.warning(
                "Switch %s of %s reads its state from an endpoint that no longer "
                "exists: it assumes the state it last sent; reconfigure it",
                config.name,
                entry.title,
            )
    return Control(hass, entry, subentry, account, state)
