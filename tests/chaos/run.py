"""Crash suite: SIGKILL a real Home Assistant inside the refresh-token rotation window.

A real Home Assistant (from .venv) runs the integration against the demo provider,
which rotates refresh tokens, revokes the whole grant when a rotated one comes back
(RFC 9700 4.14.2) and reports every rotation at once (``/demo/events``, long poll).
Access tokens live a few seconds and the endpoint polls every 10 s, so every poll
refreshes.

Each round: wait until the provider rotated the refresh token, wait a random
offset (most of them under HA's 1 s config-entry save delay: inside the window in
which only a durable write saves the grant), SIGKILL Home Assistant, start it
again and check that it refreshes and polls with the same grant: no reuse
detected, no reauth. A lost grant is re-linked (new storage) so the run goes on.

    python tests/chaos/run.py --kills 50
    python tests/chaos/run.py --kills 10 --without-durable-write   # must lose grants

``--without-durable-write`` runs a temporary copy of the integration whose token
file write is patched out (the shipped code has no such switch): the suite fails
unless grants are lost, which shows that it can see a lost grant.
Prints a Markdown table; ``--report FILE`` also writes it (with the settings).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
from dataclasses import dataclass, field
import os
from pathlib import Path
import random
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from tests.linked import (  # noqa: E402
    Endpoint,
    Value,
    account_entry,
    code_grant,
    fingerprint,
    stored_refresh,
    write_storage,
)

# HA's config-entry store writes at least this late (SAVE_DELAY): a kill this soon
# after a rotation loses the grant unless the token was written durably.
WINDOW = 1.0
DURABLE_WRITE = (
    "def _write(path: Path, entry_id: str, token: dict[str, Any]) -> None:\n"
)


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[chaos {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def free_port() -> int:
    """A free TCP port on loopback."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Kill:
    """One SIGKILL and what followed."""

    offset: float  # seconds after the provider rotated the refresh token
    on_disk_before_kill: bool  # the new refresh token was in the token file
    window: float | None  # rotation -> token file holding the new refresh token
    lost: bool = False
    recovery: float | None = None  # kill -> refreshed and polled again


@dataclass
class Events:
    """The provider's event log, followed with a long poll."""

    issuer: str
    events: list[dict[str, Any]] = field(default_factory=list)
    seq: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)

    async def follow(self, http: ClientSession) -> None:
        """Collect events forever."""
        while True:
            try:
                async with http.get(
                    f"{self.issuer}/demo/events",
                    params={"after": self.seq, "wait": 10},
                    timeout=ClientTimeout(total=15),
                ) as resp:
                    body = await resp.json()
            except (OSError, TimeoutError, ValueError) as err:
                log(f"event poll failed: {err!r}")
                await asyncio.sleep(0.5)
                continue
            if body["events"]:
                self.events.extend(body["events"])
                self.seq = body["events"][-1]["seq"]
                self.changed.set()
                self.changed = asyncio.Event()

    async def wait_for(
        self, kind: str, grant: str | None, after: float, timeout: float
    ) -> dict[str, Any] | None:
        """The first ``kind`` event of ``grant`` (any: None) after ``after``, or None.

        None at once when the provider revoked ``grant`` for a reused refresh token.
        """
        deadline = time.monotonic() + timeout
        while grant is None or not self.reused(grant):
            for event in self.events:
                if (
                    event["kind"] == kind
                    and grant in (None, event["grant_id"])
                    and event["at"] > after
                ):
                    return event
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.changed.wait(), left)
        return None

    def reused(self, grant: str) -> bool:
        """Whether the provider saw a rotated refresh token of ``grant`` again."""
        return any(e["kind"] == "reuse" and e["grant_id"] == grant for e in self.events)


class Chaos:
    """The provider, one Home Assistant, and the rounds of kills."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        """Lay out the work directory."""
        self.args = args
        self.workdir = workdir
        self.config_dir = workdir / "config"
        self.demo_port = free_port()
        self.ha_port = free_port()
        self.issuer = f"http://127.0.0.1:{self.demo_port}"
        self.redirect_uri = f"http://127.0.0.1:{self.ha_port}/auth/external/callback"
        self.events = Events(self.issuer)
        self.entry_id = secrets.token_hex(13).upper()
        self.grant = ""
        self.ha: asyncio.subprocess.Process | None = None
        self.demo: asyncio.subprocess.Process | None = None
        self.starts = 0

    # -- set-up --------------------------------------------------------------------
    def prepare(self) -> None:
        """HA config dir with the integration (patched when asked)."""
        components = self.config_dir / "custom_components"
        components.mkdir(parents=True)
        target = components / "oauth2_rest"
        shutil.copytree(
            ROOT / "custom_components" / "oauth2_rest",
            target,
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        if self.args.without_durable_write:
            store = target / "token_store.py"
            text = store.read_text()
            if DURABLE_WRITE not in text:
                sys.exit("cannot patch out the durable write: token_store changed")
            store.write_text(
                text.replace(
                    DURABLE_WRITE,
                    DURABLE_WRITE
                    + "    return  # chaos suite: durable write patched out\n",
                )
            )
        (self.config_dir / "configuration.yaml").write_text(
            "homeassistant:\n  name: chaos\n"
            f"http:\n  server_host: 127.0.0.1\n  server_port: {self.ha_port}\n"
            "application_credentials:\n"
            "logger:\n  default: warning\n  logs:\n"
            "    custom_components.oauth2_rest: debug\n"
        )

    async def start_demo(self) -> None:
        """The provider, with short access tokens and reuse detection."""
        log_file = (self.workdir / "demo.log").open("ab")
        self.demo = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "demo",
            "--port",
            str(self.demo_port),
            "--token-ttl",
            str(self.args.token_ttl),
            "--api-interval",
            "1",
            "--rate-limit",
            "0",
            cwd=ROOT,
            stdout=log_file,
            stderr=log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        async with ClientSession() as http:
            for _ in range(100):
                with contextlib.suppress(OSError):
                    async with http.get(
                        f"{self.issuer}/.well-known/openid-configuration"
                    ) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        sys.exit("the demo provider did not start")

    async def link(self) -> None:
        """Get a grant with the code flow + PKCE, and write HA's storage for it."""
        token = await code_grant(self.issuer, self.redirect_uri)
        weather = Endpoint(
            subentry_id="chaosweather",
            title="Weather",
            url="/api/weather",
            scan_interval=10,
            values=[Value("Temperature", "{{ value_json.temperature }}", "°C")],
        )
        write_storage(
            self.config_dir,
            [account_entry(self.issuer, self.entry_id, token, [weather])],
        )
        # The grant id is learnt from the first rotation HA makes.
        self.grant = ""

    # -- Home Assistant --------------------------------------------------------------
    async def start_ha(self) -> None:
        """Start Home Assistant on the config dir."""
        self.starts += 1
        out = (self.workdir / f"ha-{self.starts:03d}.log").open("wb")
        self.ha = await asyncio.create_subprocess_exec(
            str(Path(sys.executable).parent / "hass"),
            "-c",
            str(self.config_dir),
            "--skip-pip",
            stdout=out,
            stderr=out,
        )

    async def kill_ha(self) -> None:
        """SIGKILL: no shutdown, no pending save."""
        assert self.ha is not None
        with contextlib.suppress(ProcessLookupError):
            self.ha.send_signal(signal.SIGKILL)
        await self.ha.wait()

    def token_file_refresh(self) -> str | None:
        """Fingerprint of the refresh token in the account's token file."""
        refresh = stored_refresh(self.config_dir, self.entry_id)
        return fingerprint(refresh) if refresh is not None else None

    # -- rounds --------------------------------------------------------------------
    async def recovered(self, since: float) -> tuple[bool, float | None]:
        """After a (re)start: refreshed and polled with the grant, no reuse."""
        timeout = self.args.recovery_timeout
        if not self.grant:
            first = await self.events.wait_for("rotation", None, since, timeout)
            if first is None:
                return False, None
            self.grant = first["grant_id"]
        rotation = await self.events.wait_for("rotation", self.grant, since, timeout)
        poll = await self.events.wait_for("api", self.grant, since, timeout)
        if rotation is None or poll is None or self.events.reused(self.grant):
            return False, None
        return True, max(rotation["at"], poll["at"]) - since

    def plan_offset(self) -> float:
        """Most kills inside the window, the rest later."""
        if random.random() < self.args.inside:  # noqa: S311 - test timing, not security
            return random.uniform(0, WINDOW)  # noqa: S311
        return random.uniform(WINDOW, 3 * WINDOW)  # noqa: S311

    async def round(self, number: int, kills: list[Kill]) -> None:
        """Wait for a rotation, kill at an offset, restart, check recovery."""
        rotation = await self.events.wait_for(
            "rotation", self.grant, time.time(), self.args.recovery_timeout
        )
        if rotation is None:
            sys.exit("no rotation while Home Assistant ran (see the ha-*.log files)")
        offset = self.plan_offset()
        kill_at = rotation["at"] + offset
        window = None
        while (now := time.time()) < kill_at:
            if window is None and self.token_file_refresh() == rotation["refresh"]:
                window = now - rotation["at"]
            await asyncio.sleep(0.0005)
        on_disk = window is not None or self.token_file_refresh() == rotation["refresh"]
        killed = time.time()
        await self.kill_ha()
        kill = Kill(
            offset=killed - rotation["at"], on_disk_before_kill=on_disk, window=window
        )
        kills.append(kill)
        await self.start_ha()
        ok, recovery = await self.recovered(killed)
        kill.lost = not ok
        kill.recovery = recovery
        log(
            f"kill {number}: {kill.offset * 1000:.0f} ms after rotation, "
            f"{'on disk' if on_disk else 'NOT on disk'}, "
            + (f"recovered in {recovery:.1f} s" if ok else "GRANT LOST")
        )
        if kill.lost:
            await self.kill_ha()
            await self.link()
            await self.start_ha()
            ok, _ = await self.recovered(time.time() - 1)
            if not ok:
                sys.exit("a freshly linked grant did not work")

    async def run(self) -> list[Kill]:
        """All rounds."""
        self.prepare()
        await self.start_demo()
        kills: list[Kill] = []
        async with ClientSession() as http:
            follower = asyncio.create_task(self.events.follow(http))
            try:
                await self.link()
                await self.start_ha()
                ok, _ = await self.recovered(time.time() - 1)
                if not ok:
                    sys.exit("Home Assistant did not refresh and poll at first start")
                for number in range(1, self.args.kills + 1):
                    await self.round(number, kills)
            finally:
                follower.cancel()
                if self.ha is not None and self.ha.returncode is None:
                    await self.kill_ha()
                if self.demo is not None and self.demo.returncode is None:
                    self.demo.terminate()
                    await self.demo.wait()
        return kills


def table(kills: list[Kill], args: argparse.Namespace) -> str:
    """The Markdown report."""
    inside = [k for k in kills if k.offset < WINDOW]
    lost = [k for k in kills if k.lost]
    recoveries = [k.recovery for k in kills if k.recovery is not None]
    windows = [k.window for k in kills if k.window is not None]
    not_on_disk = [k for k in kills if not k.on_disk_before_kill]

    def ms(values: list[float], q: float) -> str:
        if not values:
            return "n/a"
        values = sorted(values)
        return f"{values[min(len(values) - 1, int(q * len(values)))] * 1000:.1f}"

    mode = "durable write PATCHED OUT" if args.without_durable_write else "shipped code"
    rows = [
        f"| {mode} | {len(kills)} | {len(inside)} | {len(not_on_disk)} | "
        f"{len(lost)} | "
        + (f"{statistics.median(recoveries):.1f} s" if recoveries else "n/a")
        + f" | {ms(windows, 0.5)} / {ms(windows, 0.95)} / {ms(windows, 1.0)} |"
    ]
    header = (
        "| run | kills | kills inside the window (< 1 s after a rotation) "
        "| kills before the new token was on disk | lost grants "
        "| median recovery | rotation → on disk, ms (median / p95 / max) |\n"
        "|---|---|---|---|---|---|---|"
    )
    return header + "\n" + "\n".join(rows)


def main() -> None:
    """Parse arguments, run, report, exit non-zero on the wrong outcome."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kills", type=int, default=50)
    parser.add_argument("--token-ttl", type=int, default=6)
    parser.add_argument(
        "--inside", type=float, default=0.8, help="share of kills inside the window"
    )
    parser.add_argument("--recovery-timeout", type=float, default=90.0)
    parser.add_argument("--without-durable-write", action="store_true")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--report", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else secrets.randbits(32)
    random.seed(seed)
    workdir = Path(tempfile.mkdtemp(prefix="oauth2_rest_chaos_"))
    log(f"work directory {workdir}, seed {seed}")
    started = time.monotonic()
    try:
        kills = asyncio.run(Chaos(args, workdir).run())
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    report = table(kills, args)
    print(report)
    print(
        f"\n{len(kills)} kills in {time.monotonic() - started:.0f} s, "
        f"token lifetime {args.token_ttl} s, seed {seed}"
    )
    if args.report:
        args.report.write_text(report + "\n")
    lost = sum(k.lost for k in kills)
    if args.without_durable_write:
        if lost == 0:
            sys.exit("FAILED: no grant lost with the durable write patched out")
        log(f"as expected, {lost} grant(s) lost without the durable write")
    elif lost:
        sys.exit(f"FAILED: {lost} grant(s) lost")


if __name__ == "__main__":
    main()
