"""Durable token rotation, one refresh per account across setups (issue 8, 1-3)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import json
import os
from pathlib import Path
import threading
import time
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
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

from .common import API_BASE, TOKEN_URL, token_requests

NEW_TOKEN = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}


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
    assert config_entry.data["token"] == relinked
    assert stored(hass, config_entry)["refresh_token"] == "stored-refresh-token"

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
