"""OAuth2 REST: Home Assistant sensors for any OAuth 2.0-protected web API."""

from __future__ import annotations

from collections.abc import Iterable

from homeassistant.config_entries import ConfigEntry, ConfigEntryState, ConfigSubentry
from homeassistant.const import Platform
from homeassistant.core import HomeAssistant, callback
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import (
    config_validation as cv,
    entity_registry as er,
    issue_registry as ir,
)
from homeassistant.helpers.dispatcher import async_dispatcher_send
from homeassistant.helpers.typing import ConfigType

from .application_credentials import async_get_entry_implementation
from .const import CONF_PROVIDER, DOMAIN
from .control import SUBENTRY_TYPE_CONTROL, ControlConfig
from .controls import Control, signal_control_added, start_control
from .coordinator import (
    AccountCoordinator,
    EndpointCoordinator,
    OAuth2RestConfigEntry,
    RuntimeData,
    forbidden_issue_prefix,
    signal_endpoint_added,
)
from .endpoint import SUBENTRY_TYPE_ENDPOINT, EndpointConfig
from .oauth.token_set import entry_token
from .restart import needs_setup_again
from .services import async_setup_services
from .token_store import account_tokens

PLATFORMS: list[Platform] = [
    Platform.BINARY_SENSOR,
    Platform.BUTTON,
    Platform.NOTIFY,
    Platform.SENSOR,
    Platform.SWITCH,
]

CONFIG_SCHEMA = cv.config_entry_only_config_schema(DOMAIN)


async def async_setup(hass: HomeAssistant, config: ConfigType) -> bool:
    """Register the actions; accounts come from the UI only."""
    async_setup_services(hass)
    return True


async def async_setup_entry(hass: HomeAssistant, entry: OAuth2RestConfigEntry) -> bool:
    """Set up an account: implementation -> account (session, client) -> endpoints -> controls."""
    implementation = await async_get_entry_implementation(hass, entry)
    # The token set on disk may be newer than the entry (HA saves entries late).
    await account_tokens(hass, entry.entry_id).async_load_newest(entry)
    account = AccountCoordinator(hass, entry, implementation)
    # A dead grant means reauth, an unreachable token endpoint a retried setup.
    await account.async_config_entry_first_refresh()

    runtime = RuntimeData(
        account=account,
        options=dict(entry.options),
        title=entry.title,
        provider=entry.data.get(CONF_PROVIDER),
        endpoints={
            subentry.subentry_id: EndpointCoordinator(hass, entry, subentry, account)
            for subentry in _subentries(entry, SUBENTRY_TYPE_ENDPOINT)
        },
    )
    runtime.controls = {
        subentry.subentry_id: start_control(
            hass, entry, subentry, account, runtime.endpoints
        )
        for subentry in _subentries(entry, SUBENTRY_TYPE_CONTROL)
    }
    # One failing endpoint must not keep the account or the others from loading:
    # its entities start unavailable and it retries on its own interval.
    await account.polls.async_refresh_all(
        [*runtime.endpoints.values(), *_owned_states(runtime.controls.values())]
    )
    entry.runtime_data = runtime

    _async_clear_stale_issues(hass, entry, keep=set(entry.subentries))
    _async_remove_stale_entities(hass, entry)
    await hass.config_entries.async_forward_entry_setups(entry, PLATFORMS)
    entry.async_on_unload(entry.add_update_listener(_async_apply_changes))
    return True


@callback
def _async_clear_stale_issues(
    hass: HomeAssistant, entry: ConfigEntry, keep: set[str] | None = None
) -> None:
    """Drop this account's 403 repair issues, but those of endpoints in ``keep``."""
    prefix = forbidden_issue_prefix(entry.entry_id)
    keep_ids = {prefix + subentry_id for subentry_id in keep or ()}
    for domain, issue_id in list(ir.async_get(hass).issues):
        if (
            domain == DOMAIN
            and issue_id.startswith(prefix)
            and issue_id not in keep_ids
        ):
            ir.async_delete_issue(hass, DOMAIN, issue_id)


@callback
def _async_remove_stale_entities(
    hass: HomeAssistant, entry: OAuth2RestConfigEntry
) -> None:
    """Drop entities of values that were removed from (or moved within) an endpoint."""
    runtime = entry.runtime_data
    wanted = {
        (value.platform, value.unique_id(subentry_id))
        for subentry_id, coordinator in runtime.endpoints.items()
        for value in coordinator.endpoint.values
    } | {
        (control.config.kind, subentry_id)
        for subentry_id, control in runtime.controls.items()
    }
    registry = er.async_get(hass)
    for entity in er.async_entries_for_config_entry(registry, entry.entry_id):
        if (
            entity.config_subentry_id in runtime.endpoints
            or entity.config_subentry_id in runtime.controls
        ) and (entity.domain, entity.unique_id) not in wanted:
            registry.async_remove(entity.entity_id)


def _subentries(entry: ConfigEntry, subentry_type: str) -> list[ConfigSubentry]:
    return [
        subentry
        for subentry in entry.subentries.values()
        if subentry.subentry_type == subentry_type
    ]


def _owned_states(controls: Iterable[Control]) -> list[EndpointCoordinator]:
    """The switches' own state requests (their first poll is the caller's)."""
    return [
        control.state
        for control in controls
        if control.owns_state and control.state is not None
    ]


def _loaded(entry: ConfigEntry) -> bool:
    return entry.state is ConfigEntryState.LOADED


async def _async_apply_changes(
    hass: HomeAssistant, entry: OAuth2RestConfigEntry
) -> None:
    """Apply endpoint, control and option changes in place; the account keeps running.

    A new grant or title (a reauth or reconfigure flow) sets the account up
    again instead: Home Assistant leaves that reload to this listener.

    An added endpoint starts its own coordinator and entities, a removed one stops
    them, an edited one is replaced; the account, its session and the other
    endpoints are left alone; so with controls. Options (allowed origins, size cap)
    are taken by the running client. Token updates change none of this.
    """
    if not _loaded(entry):
        return  # Not running: the next setup reads the entry as it is.
    runtime = entry.runtime_data
    async with runtime.changes:
        if not _loaded(entry):
            return  # Being unloaded: it waited for us, or we for it.
        if needs_setup_again(entry, runtime.title, runtime.provider):
            # A flow linked a new grant, renamed the account or changed its
            # provider profile: set up again.
            hass.config_entries.async_schedule_reload(entry.entry_id)
            return
        if runtime.options != entry.options:
            runtime.account.auth.apply_options(entry)
            runtime.options = dict(entry.options)
        stopped = await _async_apply_endpoints(hass, entry, runtime)
        await _async_apply_controls(hass, entry, runtime, stopped)


async def _async_apply_endpoints(
    hass: HomeAssistant, entry: OAuth2RestConfigEntry, runtime: RuntimeData
) -> set[str]:
    """Stop removed and edited endpoints, start added and edited ones.

    Returns the ids of the endpoints stopped (the controls reading them follow).
    """
    configured = {
        sub.subentry_id: sub for sub in _subentries(entry, SUBENTRY_TYPE_ENDPOINT)
    }
    stopped = runtime.endpoints.keys() - configured.keys()
    for subentry_id in stopped:
        await runtime.endpoints.pop(subentry_id).async_stop()
    started: list[EndpointCoordinator] = []
    for subentry_id, subentry in configured.items():
        running = runtime.endpoints.get(subentry_id)
        if running is not None:
            if running.endpoint == EndpointConfig.from_subentry(subentry):
                continue
            await runtime.endpoints.pop(subentry_id).async_stop()
            stopped.add(subentry_id)
        started.append(EndpointCoordinator(hass, entry, subentry, runtime.account))
    if started:
        await runtime.account.polls.async_refresh_all(started)
        runtime.endpoints.update({c.subentry_id: c for c in started})
        _async_remove_stale_entities(hass, entry)
        for coordinator in started:
            async_dispatcher_send(
                hass, signal_endpoint_added(entry.entry_id), coordinator
            )
    return stopped


async def _async_apply_controls(
    hass: HomeAssistant,
    entry: OAuth2RestConfigEntry,
    runtime: RuntimeData,
    endpoints_stopped: set[str],
) -> None:
    """Stop removed and edited controls, start added and edited ones.

    A switch reading an endpoint that was edited or removed starts again, on the
    endpoint's new coordinator (or without a state source).
    """
    configured = {
        sub.subentry_id: sub for sub in _subentries(entry, SUBENTRY_TYPE_CONTROL)
    }
    for subentry_id in runtime.controls.keys() - configured.keys():
        await runtime.controls.pop(subentry_id).async_stop()
    started: list[Control] = []
    for subentry_id, subentry in configured.items():
        running = runtime.controls.get(subentry_id)
        if running is not None:
            if (
                running.config == ControlConfig.from_subentry(subentry)
                and running.config.state_endpoint not in endpoints_stopped
            ):
                continue
            await runtime.controls.pop(subentry_id).async_stop()
        started.append(
            start_control(hass, entry, subentry, runtime.account, runtime.endpoints)
        )
    if not started:
        return
    await runtime.account.polls.async_refresh_all(_owned_states(started))
    runtime.controls.update({c.subentry_id: c for c in started})
    _async_remove_stale_entities(hass, entry)
    for control in started:
        async_dispatcher_send(hass, signal_control_added(entry.entry_id), control)


async def async_unload_entry(hass: HomeAssistant, entry: OAuth2RestConfigEntry) -> bool:
    """Unload an account, once a change being applied is done."""
    async with entry.runtime_data.changes:
        return await hass.config_entries.async_unload_platforms(entry, PLATFORMS)


async def async_remove_entry(hass: HomeAssistant, entry: OAuth2RestConfigEntry) -> None:
    """Revoke the grant at the provider when the user removes the account."""
    _async_clear_stale_issues(hass, entry)
    await account_tokens(hass, entry.entry_id).async_remove()
    try:
        implementation = await async_get_entry_implementation(hass, entry)
    except HomeAssistantError:
        return  # The credential is gone: nothing to authenticate the revocation with.
    await implementation.async_revoke(entry_token(entry.data))
