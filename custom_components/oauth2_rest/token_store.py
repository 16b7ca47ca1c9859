"""The account's token set on disk, and its one refresh at a time.

Home Assistant saves config entries late (a delayed, coalesced write without
fsync), while a refreshed access token is used at once. With a provider that
rotates refresh tokens and revokes the grant when an old one comes back, a crash
in between loses the grant. So every token set the token endpoint answers is
written here first: temp file in the same directory, fsync, ``os.replace``,
fsync of the directory (in the executor). Only then is the config entry updated
and the new access token handed to anyone.

The temp file is created new (``O_CREAT|O_EXCL|O_NOFOLLOW``, 0600) under a
name nobody can guess beside the token file: a link left there receives nothing.
Temp files a crash left behind are removed at the next write.

Each stored token set carries a generation, in the file and in the entry's
``data["token"]``; at setup the newer one wins, if it is a complete token set
(``validate_token_set``) of this very entry: the file names its entry id, and a
file of another entry (restored or copied) or without an id (every file this
integration wrote has one) is ignored, so a broken or foreign file never
replaces a good token. A token without a generation was linked by the config
flow (link, reauth, reconfigure): it is a new grant and wins over anything
stored before.

When the write fails (disk full, read-only, any ``OSError``) the token set is
still put in the entry and used: the provider may already have revoked the
previous refresh token, so it is the only way on. The failure is a repair issue
until a later write succeeds.

``AccountTokens`` outlives a setup (one per account, in a registry kept by this
module): a reload adopts the refresh already in flight instead of sending the
same refresh token again, and a refresh that finishes after the grant was
replaced by a re-link is dropped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
import contextlib
import json
import logging
import os
from pathlib import Path
import secrets
from typing import Any
from weakref import WeakKeyDictionary

from homeassistant.config_entries import ConfigEntry
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir

from .client.response import loads_json
from .const import DOMAIN
from .oauth.token_response import InvalidTokenResponse, validate_token_set
from .oauth.token_set import (
    GENERATION,
    REFRESH_TOKEN,
    StoredToken,
    entry_token,
    generation_of,
)

_LOGGER = logging.getLogger(__name__)

STORAGE_VERSION = 1

type TokenRefresher = Callable[[dict[str, Any]], Awaitable[dict[str, Any]]]

_ACCOUNTS: WeakKeyDictionary[HomeAssistant, dict[str, AccountTokens]] = (
    WeakKeyDictionary()
)


def account_tokens(hass: HomeAssistant, entry_id: str) -> AccountTokens:
    """Return the account's token keeper, the same one for every setup."""
    accounts = _ACCOUNTS.setdefault(hass, {})
    if (tokens := accounts.get(entry_id)) is None:
        tokens = accounts[entry_id] = AccountTokens(hass, entry_id)
    return tokens


def token_file_issue_id(entry_id: str) -> str:
    """The repair issue of an account whose token file could not be written."""
    return f"token_file_{entry_id}"


def write_durably(path: Path, payload: bytes) -> None:
    """Replace ``path`` with ``payload`` atomically, on disk when this returns.

    The temp file is created new beside ``path`` under a random name, never
    through a link, readable by the owner only; it is removed when anything
    fails. Raises OSError.
    """
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, 0o600)
    replaced = False
    try:
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        tmp.replace(path)
        replaced = True
    finally:
        if not replaced:
            with contextlib.suppress(OSError):
                tmp.unlink()
    dir_fd = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def _remove_leftovers(path: Path) -> None:
    """Remove temp files of ``path`` a crash left behind (they hold tokens)."""
    for leftover in path.parent.glob(f".{path.name}.*tmp"):
        with contextlib.suppress(OSError):
            leftover.unlink()  # a link itself, never its target


def _read(path: Path, entry_id: str) -> dict[str, Any] | None:
    """The entry's complete token set stored at ``path``; None when there is none.

    A file that is unreadable, of another entry, without an entry id, or holding
    no complete token set is logged and ignored.
    """
    try:
        data = loads_json(path.read_bytes())  # bounded depth
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as err:
        _LOGGER.warning("Ignoring unreadable token file %s: %s", path.name, err)
        return None
    if not isinstance(data, dict) or data.get("entry_id") != entry_id:
        _LOGGER.warning("Ignoring token file %s: it is not this account's", path.name)
        return None
    token = data.get("token")
    if generation_of(token) is None:
        return None
    try:
        return validate_token_set(token)
    except InvalidTokenResponse as err:
        _LOGGER.warning("Ignoring token file %s: %s", path.name, err)
        return None


def _write(path: Path, entry_id: str, token: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"version": STORAGE_VERSION, "entry_id": entry_id, "token": token}
    write_durably(path, json.dumps(payload).encode())
    _remove_leftovers(path)


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)
    _remove_leftovers(path)


class AccountTokens:
    """One account's stored token set and its single refresh in flight."""

    def __init__(self, hass: HomeAssistant, entry_id: str) -> None:
        """Keep the token set of ``entry_id`` under HA's .storage directory."""
        self.hass = hass
        self.entry_id = entry_id
        self.path = Path(hass.config.path(".storage", f"{DOMAIN}.token.{entry_id}"))
        self._refresh: asyncio.Task[Mapping[str, Any]] | None = None
        self._write_lock = asyncio.Lock()
        self._removed = False

    async def async_load_newest(self, entry: ConfigEntry[Any]) -> None:
        """At setup: make the entry hold the newest token set (file or entry).

        A token the flow just linked (no generation) is a new grant: it wins and
        is stored with the next generation.
        """
        stored = await self.hass.async_add_executor_job(_read, self.path, self.entry_id)
        current = entry_token(entry.data)
        current_generation = generation_of(current)
        stored_generation = generation_of(stored)
        if current_generation is None:
            await self._async_store(entry, current, (stored_generation or 0) + 1)
        elif (
            stored is not None
            and stored_generation is not None
            and stored_generation > current_generation
        ):
            _LOGGER.debug(
                "Using the stored token set (generation %s, entry had %s)",
                stored_generation,
                current_generation,
            )
            self._update_entry(entry, stored)

    async def async_refresh(
        self, entry: ConfigEntry[Any], refresher: TokenRefresher
    ) -> Mapping[str, Any]:
        """Refresh the entry's token, or join the refresh already in flight.

        The refresh runs as a task of its own: a caller cancelled by an unload
        does not cancel it, and the next setup joins it. Its result is on disk
        before it is returned. Raises what the refresher raised.
        """
        if self._refresh is None or self._refresh.done():
            # HA's task, not the entry's: unloading the entry does not cancel it,
            # and stopping HA waits for it.
            self._refresh = self.hass.async_create_task(
                self._async_refresh(entry, refresher),
                f"{DOMAIN} token refresh {self.entry_id}",
                eager_start=True,
            )
            self._refresh.add_done_callback(self._refresh_done)
        return await asyncio.shield(self._refresh)

    def _refresh_done(self, task: asyncio.Task[Mapping[str, Any]]) -> None:
        if self._refresh is task:
            self._refresh = None
        if not task.cancelled():
            task.exception()  # retrieved: joiners may all have gone

    async def _async_refresh(
        self, entry: ConfigEntry[Any], refresher: TokenRefresher
    ) -> Mapping[str, Any]:
        base = entry_token(entry.data)
        new_token = await refresher(dict(base))
        current = entry_token(entry.data)
        if self._removed or not _same_grant(current, base):
            # Re-linked (or removed) while we waited: the old grant's answer
            # must not overwrite the new one.
            _LOGGER.debug("Dropping a refresh of a grant that was replaced")
            return current
        return await self._async_store(entry, new_token, (generation_of(base) or 0) + 1)

    async def _async_store(
        self, entry: ConfigEntry[Any], token: Mapping[str, Any], generation: int
    ) -> dict[str, Any]:
        """Write the token set durably, then put it in the entry; return it.

        A failed write still puts it in the entry (see the module docstring).
        """
        token = {**token, GENERATION: generation}
        try:
            async with self._write_lock:
                await self.hass.async_add_executor_job(
                    _write, self.path, self.entry_id, token
                )
        except OSError as err:
            self._report_write_failure(entry, err)
        else:
            ir.async_delete_issue(self.hass, DOMAIN, token_file_issue_id(self.entry_id))
        self._update_entry(entry, token)
        return token

    def _report_write_failure(self, entry: ConfigEntry[Any], err: OSError) -> None:
        reason = err.strerror or type(err).__name__
        _LOGGER.error(
            "Could not write the token file of %s (%s): the new token is used and"
            " kept in the config entry, but a crash before Home Assistant saves it"
            " can lose the grant",
            entry.title,
            reason,
        )
        ir.async_create_issue(
            self.hass,
            DOMAIN,
            token_file_issue_id(self.entry_id),
            is_fixable=False,
            severity=ir.IssueSeverity.ERROR,
            translation_key="token_file_not_written",
            translation_placeholders={
                "account": entry.title,
                "path": str(self.path),
                "error": reason,
            },
        )

    def _update_entry(self, entry: ConfigEntry[Any], token: Mapping[str, Any]) -> None:
        self.hass.config_entries.async_update_entry(
            entry, data={**entry.data, "token": token}
        )

    async def async_remove(self) -> None:
        """The account is removed: delete its token file, forget the account."""
        self._removed = True
        _ACCOUNTS.get(self.hass, {}).pop(self.entry_id, None)
        ir.async_delete_issue(self.hass, DOMAIN, token_file_issue_id(self.entry_id))
        if self._refresh is not None:
            await asyncio.wait([self._refresh])
        await self.hass.async_add_executor_job(_unlink, self.path)


def _same_grant(current: StoredToken, base: StoredToken) -> bool:
    """Whether the entry still holds the token set a refresh started from."""
    return generation_of(current) == generation_of(base) and current.get(
        REFRESH_TOKEN
    ) == base.get(REFRESH_TOKEN)
