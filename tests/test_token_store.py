"""Durable token rotation: one refresh per account across setups, never a lost grant."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import errno
import json
import os
from pathlib import Path
import threading
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.helpers import issue_registry as ir
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)

from custom_components.oauth2_rest import token_store
from custom_components.oauth2_rest.token_store import (
    GENERATION,
    account_tokens,
    write_durably,
)

from .common import API_BASE, NEW_TOKEN, TOKEN_URL, token_requests


def token_file(hass: HomeAssistant, entry: MockConfigEntry) -> Path:
    """Where the account's token set is kept."""
    return Path(hass.config.path(".storage", f"oauth2_rest.token.{entry.entry_id}"))


def stored(hass: HomeAssistant, entry: MockConfigEntry) -> dict[str, Any]:
    """The token set in the account's file."""
    data: dict[str, Any] = json.loads(token_file(hass, entry).read_text())
    assert data["entry_id"] == entry.entry_id
    return data["token"]


def expire(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Make the entry's token due for refresh."""
    hass.config_entries.async_update_entry(
        entry, data={**entry.data, "token": {**entry.data["token"], "expires_at": 0}}
    )


async def test_refreshed_token_is_on_disk_before_anyone_gets_it(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The write (fsynced, off the loop) happens before the entry and callers see it."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    # A fresh link is stored at setup as generation 1.
    assert stored(hass, config_entry)[GENERATION] == 1
    assert config_entry.data["token"][GENERATION] == 1

    seen_at_write: list[tuple[str, bool]] = []
    real_write = token_store.write_durably

    def spy(path: Path, payload: bytes) -> None:
        seen_at_write.append(
            (
                config_entry.data["token"]["access_token"],
                threading.current_thread() is threading.main_thread(),
            )
        )
        real_write(path, payload)

    monkeypatch.setattr(token_store, "write_durably", spy)
    expire(hass, config_entry)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    auth = config_entry.runtime_data.account.auth
    assert await auth.async_get_access_token() == "new-access-token"
    # When the file was written the entry still held the old token, and the
    # write ran in the executor, not in the event loop.
    assert seen_at_write == [("stored-access-token", False)]
    on_disk = stored(hass, config_entry)
    assert on_disk["access_token"] == "new-access-token"
    assert on_disk["refresh_token"] == "new-refresh-token"
    assert on_disk[GENERATION] == 2
    assert config_entry.data["token"] == on_disk


def test_write_durably_fsyncs_file_and_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Temp file, fsync, replace, fsync of the directory; nothing left behind."""
    synced: list[bool] = []
    real_fsync = os.fsync

    def fsync(fd: int) -> None:
        synced.append(Path(f"/proc/self/fd/{fd}").is_dir())
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    (tmp_path / "d").mkdir()
    path = tmp_path / "d" / "token"
    path.write_bytes(b"old")
    write_durably(path, b"new" * 10000)
    assert path.read_bytes() == b"new" * 10000
    assert synced == [False, True]
    assert [p.name for p in path.parent.iterdir()] == ["token"]
    assert path.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize("token_data", [{"generation": 3}], indirect=False)
async def test_newer_file_wins_at_setup(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    token_data: dict[str, Any],
) -> None:
    """A crash after the write, before HA saved the entry: the file is used."""
    token_data.update(
        access_token="stored-access-token",
        refresh_token="stored-refresh-token",
        token_type="Bearer",
        expires_in=3600,
        expires_at=time.time() + 3600,
    )
    newer = {**NEW_TOKEN, "expires_at": time.time() + 3600, GENERATION: 4}
    path = token_file(hass, config_entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"version": 1, "entry_id": config_entry.entry_id, "token": newer})
    )
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["token"] == newer
    assert not token_requests(aioclient_mock)
    (call,) = [c for c in aioclient_mock.mock_calls if str(c[1]).startswith(API_BASE)]
    assert call[3]["Authorization"] == "Bearer new-access-token"


@pytest.mark.parametrize(
    ("entry_generation", "file_generation", "generation_after"),
    [
        # The file is older (a restored backup): the entry is kept, file untouched.
        (5, 4, 5),
        # Re-linked by the flow: a new grant always wins, stored as the next one.
        (None, 9, 10),
    ],
)
async def test_entry_wins_when_newer_or_relinked(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entry_generation: int | None,
    file_generation: int,
    generation_after: int,
) -> None:
    """The entry's token set is used when it is newer, or a new grant."""
    if entry_generation is not None:
        config_entry.data["token"][GENERATION] = entry_generation
    older = {**NEW_TOKEN, "expires_at": time.time() + 3600, GENERATION: file_generation}
    path = token_file(hass, config_entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"version": 1, "entry_id": config_entry.entry_id, "token": older})
    )
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.data["token"]["access_token"] == "stored-access-token"
    assert config_entry.data["token"][GENERATION] == generation_after
    on_disk = stored(hass, config_entry)
    if entry_generation is None:
        assert on_disk == config_entry.data["token"]
    else:
        assert on_disk == older


@pytest.mark.parametrize(
    "content",
    ["{not json", "[]", '{"token": "x"}', '{"token": {"access_token": "a"}}'],
)
async def test_unreadable_file_is_ignored(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    content: str,
) -> None:
    """A damaged file never stops the account: the entry's token is used."""
    config_entry.data["token"][GENERATION] = 2
    path = token_file(hass, config_entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["token"]["access_token"] == "stored-access-token"


async def test_removing_the_entry_deletes_the_file(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Nothing of the account is left on disk."""
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert token_file(hass, config_entry).exists()
    first = account_tokens(hass, config_entry.entry_id)
    await hass.config_entries.async_remove(config_entry.entry_id)
    await hass.async_block_till_done()
    assert not token_file(hass, config_entry).exists()
    # The account is forgotten too: a new keeper if the id came back.
    assert account_tokens(hass, config_entry.entry_id) is not first


# -- one refresh per account, across reloads and re-links (items 2 and 3) -------------


def gated_token_endpoint(
    aioclient_mock: AiohttpClientMocker, gate: asyncio.Event, answer: dict[str, Any]
) -> None:
    """A token endpoint that answers ``answer`` once ``gate`` is set."""

    async def side_effect(
        method: str, url: Any, data: Any
    ) -> AiohttpClientMockResponse:
        await gate.wait()
        return AiohttpClientMockResponse(method, url, json=answer)

    aioclient_mock.post(TOKEN_URL, side_effect=side_effect)


async def start_gated_refresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> tuple[asyncio.Event, asyncio.Task[None]]:
    """Set the account up, expire its token and start a refresh.

    The token endpoint holds the refresh until the returned gate is set.
    """
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    expire(hass, config_entry)
    gate = asyncio.Event()
    gated_token_endpoint(aioclient_mock, gate, NEW_TOKEN)
    session = config_entry.runtime_data.account.session
    refresh = hass.async_create_task(session.async_ensure_token_valid())
    await asyncio.sleep(0)
    return gate, refresh


async def test_reload_adopts_the_refresh_in_flight(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A reload while a refresh is in flight: the new setup waits for it.

    The same refresh token is never sent twice (a rotating provider would revoke
    the grant); the reloaded entry uses the refreshed token.
    """
    gate, in_flight = await start_gated_refresh(
        hass, config_entry, setup_integration, aioclient_mock
    )
    assert len(token_requests(aioclient_mock)) == 1

    reload = hass.async_create_task(
        hass.config_entries.async_reload(config_entry.entry_id)
    )
    for _ in range(10):
        await asyncio.sleep(0)
    gate.set()
    await reload
    await asyncio.gather(in_flight, return_exceptions=True)
    await hass.async_block_till_done(wait_background_tasks=True)
    assert config_entry.state is ConfigEntryState.LOADED
    assert len(token_requests(aioclient_mock)) == 1
    assert config_entry.data["token"]["refresh_token"] == "new-refresh-token"
    assert stored(hass, config_entry)["refresh_token"] == "new-refresh-token"


async def test_cancelled_caller_does_not_cancel_the_refresh(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An unload cancels the caller; the rotated token is still stored."""
    gate, caller = await start_gated_refresh(
        hass, config_entry, setup_integration, aioclient_mock
    )
    caller.cancel()
    gate.set()
    await hass.async_block_till_done()
    assert caller.cancelled()
    assert config_entry.data["token"]["refresh_token"] == "new-refresh-token"
    assert stored(hass, config_entry)["refresh_token"] == "new-refresh-token"


async def test_refresh_of_a_replaced_grant_is_dropped(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Reauth stores a new grant while the old one's refresh is in flight.

    When that refresh ends it must not overwrite the re-linked token; the new grant
    is stored at the next setup as the next generation.
    """
    gate, in_flight = await start_gated_refresh(
        hass, config_entry, setup_integration, aioclient_mock
    )

    relinked = {
        "access_token": "relinked-access-token",
        "refresh_token": "relinked-refresh-token",
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": time.time() + 3600,
    }
    # What the reauth flow does: new token (no generation), then a reload.
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, "token": relinked}
    )
    gate.set()
    await in_flight
    # The re-linked grant stays (its update listener may already have set the
    # account up again, which stamps its generation); the old grant's refresh is
    # neither in the entry nor on disk.
    token = config_entry.data["token"]
    assert {k: v for k, v in token.items() if k != GENERATION} == relinked
    assert stored(hass, config_entry)["refresh_token"] in (
        "stored-refresh-token",
        "relinked-refresh-token",
    )

    await hass.config_entries.async_reload(config_entry.entry_id)
    await hass.async_block_till_done()
    assert config_entry.data["token"]["refresh_token"] == "relinked-refresh-token"
    assert config_entry.data["token"][GENERATION] == 2
    assert stored(hass, config_entry) == config_entry.data["token"]
    assert len(token_requests(aioclient_mock)) == 1


async def test_removal_waits_for_the_refresh_in_flight(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A refresh ending after the account was removed writes nothing back."""
    gate, in_flight = await start_gated_refresh(
        hass, config_entry, setup_integration, aioclient_mock
    )
    remove = hass.async_create_task(
        hass.config_entries.async_remove(config_entry.entry_id)
    )
    for _ in range(10):
        await asyncio.sleep(0)
    gate.set()
    await remove
    await asyncio.gather(in_flight, return_exceptions=True)
    await hass.async_block_till_done()
    assert not token_file(hass, config_entry).exists()


# -- a token file never wipes a good token (validated, the entry's own) --------------


def plant(hass: HomeAssistant, entry: MockConfigEntry, payload: Any) -> None:
    """Put ``payload`` (JSON) in the account's token file."""
    path = token_file(hass, entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload))


def newer(**changes: Any) -> dict[str, Any]:
    """A complete token set of a newer generation than the entry's, changed."""
    token = {**NEW_TOKEN, "expires_at": time.time() + 3600, GENERATION: 9, **changes}
    return {key: value for key, value in token.items() if value is not ...}


BAD_SETS = {
    "no access token": newer(access_token=...),
    "null access token": newer(access_token=None),
    "empty access token": newer(access_token=""),
    "line break in access token": newer(access_token="line\nbreak"),
    "number as access token": newer(access_token=42),
    "text expiry": newer(expires_at="2030-01-01T00:00:00Z"),
    "null expiry": newer(expires_at=None),
    "no expiry": newer(expires_at=...),
    "infinite expiry": newer(expires_at=float("inf")),
    "400-digit expiry": newer(expires_at=10**400),
    "boolean expiry": newer(expires_at=True),
    "text lifetime": newer(expires_in="3600"),
    "null lifetime": newer(expires_in=None),
    "negative lifetime": newer(expires_in=-1),
    "mac token": newer(token_type="mac"),
    "null token type": newer(token_type=None),
    "null refresh token": newer(refresh_token=None),
    "number as refresh token": newer(refresh_token=7),
    "client credentials as text": newer(client_credentials="scope=all"),
    "400-digit generation": newer(generation=10**400),
    "65-bit subject": newer(athlete={"id": 2**64}),
    "null": None,
    "list": [],
    "true": True,
    "text": "token",
}


@pytest.mark.parametrize("token", BAD_SETS.values(), ids=BAD_SETS.keys())
async def test_incomplete_newer_file_never_replaces_the_token(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    token: Any,
) -> None:
    """A newer generation holding no usable token set is ignored, not adopted.

    Adopted, it was saved into the entry (the good token lost) and setup failed
    at every retry.
    """
    config_entry.data["token"][GENERATION] = 2
    before = dict(config_entry.data["token"])
    plant(
        hass,
        config_entry,
        {"version": 1, "entry_id": config_entry.entry_id, "token": token},
    )
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["token"] == before
    (call,) = [c for c in aioclient_mock.mock_calls if str(c[1]).startswith(API_BASE)]
    assert call[3]["Authorization"] == "Bearer stored-access-token"


@pytest.mark.parametrize(
    "file_entry_id", ["another-account-entry", None], ids=["another entry", "no id"]
)
async def test_file_of_another_entry_is_not_adopted(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    file_entry_id: str | None,
) -> None:
    """A restored or copied file of another account never rotates its grant here.

    A file without the entry id was not written by this integration (every file
    it wrote carries it): ignored too.
    """
    config_entry.data["token"][GENERATION] = 2
    payload: dict[str, Any] = {"version": 1, "token": newer()}
    if file_entry_id is not None:
        payload["entry_id"] = file_entry_id
    plant(hass, config_entry, payload)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["token"]["refresh_token"] == "stored-refresh-token"
    assert config_entry.data["token"][GENERATION] == 2


def test_planted_link_at_the_old_temp_name_gets_nothing(tmp_path: Path) -> None:
    """The temp file is never opened through a link someone left beside the file."""
    (tmp_path / "d").mkdir()
    path = tmp_path / "d" / "token"
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    (tmp_path / "d" / ".token.tmp").symlink_to(victim)
    write_durably(path, b"refresh-token-material")
    assert victim.read_bytes() == b"untouched"
    assert path.read_bytes() == b"refresh-token-material"
    assert not path.is_symlink()
    assert path.stat().st_mode & 0o777 == 0o600


def test_temp_file_is_created_new_never_through_a_link(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever name the temp file gets, a link raced in there receives nothing.

    An attacker who planted a link at the very name the writer picks makes the
    write fail (O_EXCL, O_NOFOLLOW): nothing goes through the link, nothing is
    left behind. The name differs at every write.
    """
    (tmp_path / "d").mkdir()
    path = tmp_path / "d" / "token"
    victim = tmp_path / "victim"
    victim.write_bytes(b"untouched")
    real_open = os.open
    opened: list[str] = []

    def racing_open(file: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        name = Path(file)
        if name.parent == path.parent and name.name != path.parent.name:
            opened.append(name.name)
            if len(opened) == 1:
                name.symlink_to(victim)
        return real_open(file, flags, mode, **kw)

    monkeypatch.setattr(os, "open", racing_open)
    with pytest.raises(OSError):  # whichever errno the OS picks
        write_durably(path, b"refresh-token-material")
    assert victim.read_bytes() == b"untouched"
    assert not path.exists()
    write_durably(path, b"refresh-token-material")
    assert path.read_bytes() == b"refresh-token-material"
    assert opened[0] != opened[1]
    assert sorted(p.name for p in path.parent.iterdir()) == [opened[0], "token"]


# -- a failed write keeps the rotated grant and says so ------------------------------


def failing_token_writes(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Make every write to a token (temp) file fail with ENOSPC, at os.write.

    Returns the list of refused writes. Other writes go through.
    """
    refused: list[int] = []
    real_write = os.write

    def write(fd: int, data: Any) -> int:
        if "oauth2_rest.token." in str(Path(f"/proc/self/fd/{fd}").readlink()):
            refused.append(fd)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real_write(fd, data)

    monkeypatch.setattr(os, "write", write)
    return refused


async def test_failed_write_keeps_the_rotated_grant(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Disk full at a rotation: the new token set still reaches entry and session.

    The provider already revoked the old refresh token, so dropping the answer
    would lose the grant. The failure is a repair issue, gone once a write works.
    """
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    issue_id = f"token_file_{config_entry.entry_id}"
    refused = failing_token_writes(monkeypatch)
    expire(hass, config_entry)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    auth = config_entry.runtime_data.account.auth
    assert await auth.async_get_access_token() == "new-access-token"
    assert refused
    assert config_entry.data["token"]["refresh_token"] == "new-refresh-token"
    assert config_entry.data["token"][GENERATION] == 2
    assert stored(hass, config_entry)["refresh_token"] == "stored-refresh-token"
    assert [p.name for p in token_file(hass, config_entry).parent.glob(".*tmp")] == []
    issue = issue_registry.async_get_issue("oauth2_rest", issue_id)
    assert issue is not None
    assert issue.translation_key == "token_file_not_written"
    assert issue.severity is ir.IssueSeverity.ERROR
    assert "new-refresh-token" not in json.dumps(issue.translation_placeholders)

    # The next refresh sends the rotated refresh token, and its write works.
    monkeypatch.undo()
    aioclient_mock.clear_requests()
    aioclient_mock.post(TOKEN_URL, json={**NEW_TOKEN, "refresh_token": "third"})
    expire(hass, config_entry)
    await auth.async_get_access_token()
    (call,) = token_requests(aioclient_mock)
    assert call[2]["refresh_token"] == "new-refresh-token"
    assert stored(hass, config_entry)["refresh_token"] == "third"
    assert stored(hass, config_entry)[GENERATION] == 3
    assert issue_registry.async_get_issue("oauth2_rest", issue_id) is None


async def test_failed_write_at_link_still_loads(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    issue_registry: ir.IssueRegistry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A freshly linked grant whose first write fails: loaded, issue raised."""
    failing_token_writes(monkeypatch)
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert config_entry.state is ConfigEntryState.LOADED
    assert config_entry.data["token"][GENERATION] == 1
    assert not token_file(hass, config_entry).exists()
    assert issue_registry.async_get_issue(
        "oauth2_rest", f"token_file_{config_entry.entry_id}"
    )


async def test_temp_files_a_crash_left_are_removed(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A kill between temp file and rename leaves tokens beside the file: removed."""
    path = token_file(hass, config_entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    leftovers = [
        path.with_name(f".{path.name}.0123456789abcdef.tmp"),
        path.with_name(f".{path.name}.tmp"),
    ]
    for leftover in leftovers:
        leftover.write_text('{"token": {"refresh_token": "old"}}')
    other = path.with_name(".oauth2_rest.token.another-entry.0123456789abcdef.tmp")
    other.write_text("{}")
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 1})
    await setup_integration()
    assert stored(hass, config_entry)[GENERATION] == 1
    assert not any(leftover.exists() for leftover in leftovers)
    assert other.exists()
