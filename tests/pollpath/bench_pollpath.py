"""Where one poll's CPU goes, layer by layer, against the floor (issue 22).

Not a test of the suite (its name keeps it out of collection): ``scripts/bench
--pollpath`` runs it with pytest, for Home Assistant's test harness (a ``hass`` on a
real event loop, asyncio debug mode off). One account with ``N`` endpoints of one
value against the bench server (``bench/server.py``, its own process, so its CPU is
nobody's), the document unchanged. Five ways to make the same ``N`` polls, 16 at a
time, measured in turns (``ROUNDS`` rounds of ``N`` polls each, ``TURNS`` turns,
median; CPU time of this process):

- **A floor**: HA's shared session, ``get``, ``raise_for_status``, ``read``,
  ``json_loads`` (orjson), one dict lookup: what the floor integration does;
- **B the aiohttp call of ours**: the same ``request`` arguments ours passes (a
  ``CIMultiDict`` of headers, no redirects, a timeout, ``ssl``), body read, no parse;
- **C the client**: ``AbstractAuth.request`` (origin policy, owned-header rule, the
  token's validity, redirect policy, size cap, rate-limit headers, refusal verdict);
- **D the endpoint coordinator**: ``DataUpdateCoordinator.async_refresh`` (HA's
  debouncer lock and bookkeeping) and ours (``async_send``, the rendered request, the
  unchanged-answer check);
- **E the shared tick**: ``PollScheduler`` polling every endpoint (what HA runs).

Then a deterministic profile (cProfile) of D and of A: each function's own time per
poll, ours and HA's named, so the difference has names. Writes
``artifacts/bench/pollpath.md``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
import cProfile
import logging
from pathlib import Path
import pstats
import socket
import statistics
import subprocess
import sys
import time

from aiohttp import ClientTimeout
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.util.json import json_loads
from multidict import CIMultiDict
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN

from ..common import AUTH_DOMAIN, ISSUER, manual_profile

ROOT = Path(__file__).resolve().parents[2]
OUT = ROOT / "artifacts" / "bench" / "pollpath.md"
N = 200
ROUNDS = 10
TURNS = 5
IN_FLIGHT = 16
STATIC_TOKEN = "bench-static-token"  # bench/server.py takes it as core rest's


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def _pool(one: Callable[[int], Awaitable[None]]) -> Callable[[], Awaitable[None]]:
    """N polls, IN_FLIGHT at a time."""

    async def round_() -> None:
        pending = iter(range(N))

        async def worker() -> None:
            for index in pending:
                await one(index)

        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))

    return round_


def _endpoint(index: int) -> ConfigSubentryData:
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": f"/data?n={index}",
            "scan_interval": 3600,
            "timeout": 10,
            "values": [
                {
                    "key": "t",
                    "name": f"t{index}",
                    "platform": "sensor",
                    "value_template": "{{ value_json.current.temperature }}",
                }
            ],
        },
        subentry_id=f"e{index}",
        subentry_type="endpoint",
        title=f"E{index}",
        unique_id=None,
    )


def _own_times(profile: cProfile.Profile, polls: int) -> list[tuple[float, str]]:
    """Each function's own time per poll (µs), largest first."""
    rows = []
    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    for (path, line, func), (_, _, own, _, _) in stats.items():
        for marker in ("site-packages/", "custom_components/", "python3.14/"):
            if marker in path:
                path = path.split(marker, 1)[1]
                break
        rows.append((own / polls * 1e6, f"{func} ({path}:{line})"))
    rows.sort(reverse=True)
    return rows


@pytest.mark.usefixtures("setup_credentials")
async def test_pollpath(hass: HomeAssistant, socket_enabled: None) -> None:
    """Measure and write the table (asserts nothing about speed)."""
    hass.loop.set_debug(False)
    # As in the bench's Home Assistants (logger default: warning): no debug records.
    for name in ("", "homeassistant", "custom_components"):
        logging.getLogger(name).setLevel(logging.WARNING)
    port = _free_port()
    server = subprocess.Popen(  # noqa: ASYNC220, S603
        [sys.executable, "-m", "bench.server", "--port", str(port)], cwd=ROOT
    )
    base = f"http://127.0.0.1:{port}"
    session = async_get_clientsession(hass)
    try:
        for _ in range(100):
            try:
                async with session.get(f"{base}/bench/stats") as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            await asyncio.sleep(0.1)
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Pollpath",
            unique_id=f"{ISSUER}#subject-1",
            data={
                "auth_implementation": AUTH_DOMAIN,
                "token": {
                    "access_token": STATIC_TOKEN,
                    "refresh_token": "unused",
                    "token_type": "Bearer",
                    "expires_in": 36000,
                    "expires_at": time.time() + 36000,
                },
                "provider": manual_profile(
                    api_base_url=f"{base}/api", token_url=f"{base}/token"
                ).as_dict(),
                "scopes": ["read"],
                "subject": "subject-1",
            },
            subentries_data=[_endpoint(index) for index in range(N)],
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        coordinators = list(entry.runtime_data.endpoints.values())
        assert len(coordinators) == N
        auth = entry.runtime_data.account.auth
        scheduler = entry.runtime_data.account.polls
        urls = [URL(f"{base}/api/data?n={index}") for index in range(N)]
        headers = {"Authorization": f"Bearer {STATIC_TOKEN}"}
        timeout = ClientTimeout(total=10)

        async def floor(index: int) -> None:
            async with session.get(
                urls[index], headers=headers, timeout=timeout
            ) as resp:
                resp.raise_for_status()
                json_loads(await resp.read())["current"]["temperature"]

        async def our_call(index: int) -> None:
            async with session.request(
                "GET",
                urls[index],
                headers=CIMultiDict(headers),
                json=None,
                data=None,
                allow_redirects=False,
                timeout=ClientTimeout(total=10),
                ssl=True,
            ) as resp:
                await resp.read()

        async def client(index: int) -> None:
            await auth.request("GET", f"{base}/api/data?n={index}")

        async def coordinator(index: int) -> None:
            await coordinators[index].async_refresh()

        async def tick() -> None:
            await scheduler.async_refresh_all(coordinators)

        ways: dict[str, Callable[[], Awaitable[None]]] = {
            "A floor (get, read, orjson, one lookup)": _pool(floor),
            "B our aiohttp call, body read": _pool(our_call),
            "C the client (AbstractAuth.request)": _pool(client),
            "D the endpoint coordinator (async_refresh)": _pool(coordinator),
            "E the shared tick (PollScheduler)": tick,
        }
        for way in ways.values():  # warm every path up
            await way()
        times: dict[str, list[float]] = {name: [] for name in ways}
        for _ in range(TURNS):
            for name, way in ways.items():
                start = time.process_time()
                for _ in range(ROUNDS):
                    await way()
                times[name].append((time.process_time() - start) / (ROUNDS * N) * 1e6)
        profiles = {}
        for name in (
            "A floor (get, read, orjson, one lookup)",
            "D the endpoint coordinator (async_refresh)",
        ):
            profile = cProfile.Profile()
            profile.enable()
            for _ in range(ROUNDS):
                await ways[name]()
            profile.disable()
            profiles[name[0]] = _own_times(profile, ROUNDS * N)
        await hass.config_entries.async_unload(entry.entry_id)
    finally:
        server.terminate()
        server.wait()
    floor_us = statistics.median(times["A floor (get, read, orjson, one lookup)"])
    lines = [
        f"# Where a poll's CPU goes (N = {N}, one value, unchanged document)",
        "",
        (
            f"{ROUNDS} rounds of {N} polls per turn, {TURNS} turns, median; CPU time of the "
            "process (the bench server runs in its own)."
        ),
        "",
        "| way | µs per poll (median) | turns | / floor |",
        "| --- | ---: | --- | ---: |",
    ]
    for name, values in times.items():
        median = statistics.median(values)
        lines.append(
            f"| {name} | {median:.1f} | {', '.join(f'{v:.0f}' for v in values)} "
            f"| {median / floor_us:.2f}× |"
        )
    floor_own = {where: us for us, where in profiles["A"]}
    lines += [
        "",
        (
            "Own time per poll under cProfile (inflated by the profiler), D against A: the "
            "functions of D with the most own time, and what A spends in the same function."
        ),
        "",
        "| function | D µs | A µs |",
        "| --- | ---: | ---: |",
    ]
    for us, where in profiles["D"][:40]:
        lines.append(f"| `{where}` | {us:.1f} | {floor_own.get(where, 0.0):.1f} |")
    total_d = sum(us for us, _ in profiles["D"])
    total_a = sum(us for us, _ in profiles["A"])
    ours = sum(us for us, where in profiles["D"] if "oauth2_rest/" in where)
    coordinator_ha = sum(
        us
        for us, where in profiles["D"]
        if "update_coordinator.py" in where
        or "debounce.py" in where
        or "contextlib.py" in where
    )
    lines += [
        "",
        (
            f"Totals under the profiler: D {total_d:.0f} µs, A {total_a:.0f} µs per poll; in D, "
            f"functions of oauth2_rest {ours:.0f} µs, HA's DataUpdateCoordinator and its "
            f"debouncer lock {coordinator_ha:.0f} µs."
        ),
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text("\n".join(lines) + "\n")
