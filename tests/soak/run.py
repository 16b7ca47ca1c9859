"""Soak: a real Home Assistant with many accounts under random faults, for minutes or an hour.

A real Home Assistant (``bench/ha.py``: ``.venv``'s ``hass``, onboarded, driven over its
HTTP API) runs this checkout's integration against the demo provider (``python -m demo``
with short access tokens, refresh-token rotation with reuse detection and a state file,
so that it can be restarted with its grants kept). ``--accounts`` accounts are linked
(code flow + PKCE at the provider, HA's storage written as the flow leaves it:
``tests/linked.py``), each with ``--endpoints`` endpoints of ``--values`` values polling
``/api/weather?soak=<tag>`` every 10 to 60 s (the query tells the endpoints apart in
the provider's events).

While the faults run (the first ~90 % of the run), at random: the token endpoint and
the API answer 5xx, 429, garbage, late, or not at all (the demo's injected faults;
API 401s too), the provider is restarted, one account's grant is revoked at the
provider (RFC 7009), Home Assistant is SIGKILLed and started again every ``--minutes``
/ 6 minutes (every 10 minutes in an hour), and now and then an account's options are
saved or an endpoint's interval is edited through Home Assistant's HTTP API, as the
frontend does. Meanwhile Home Assistant's RSS, open fds and CPU (/proc) and its asyncio
task count and event-loop lag (a soak-only custom component, ``tests/soak/probe``) are
sampled every few seconds.

After the faults stop, the checks: no grant lost but the revoked one, exactly the
revoked account asks for reauth, every endpoint polls within two of its intervals, no
token refreshed before half its lifetime, memory flat, no token or secret the provider
issued anywhere in Home Assistant's log. A Markdown report (``--report``), a CSV of the
samples and a PNG plot beside it; exit status 1 when a check fails.

    python tests/soak/run.py --minutes 3 --accounts 2 --endpoints 10 --values 2
    scripts/soak                     # the full hour: 10 x 100 x 5 = 5000 entities
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
from dataclasses import dataclass, field
import itertools
import json
import os
from pathlib import Path
import random
import re
import secrets
import shutil
import signal
import statistics
import sys
import tempfile
import time
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout
import psutil

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.flows import FlowError, reconfigure_endpoint, save_options, websocket  # noqa: E402
from bench.ha import HomeAssistant, free_port  # noqa: E402

from custom_components.oauth2_rest.api import refresh_margin  # noqa: E402

from tests.linked import (  # noqa: E402
    CLIENT_SECRET,
    Endpoint,
    Value,
    account_entry,
    basic_auth,
    code_grant,
    fingerprint,
    stored_refresh,
    write_storage,
)

DOMAIN = "oauth2_rest"
PROBE = Path(__file__).resolve().parent / "probe"
VALUES = (
    Value("Temperature", "{{ value_json.temperature }}", "°C"),
    Value("Humidity", "{{ value_json.humidity }}", "%"),
    Value("Pressure", "{{ value_json.pressure }}", "hPa"),
    Value("Condition", "{{ value_json.condition }}"),
    Value("Place", "{{ value_json.location.name }}"),
)
TAG = re.compile(r"(?:^|&)soak=(a\d+e\d+)(?:&|$)")
# What the token endpoint answers instead of a token, now and then.
TOKEN_FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500, "body": '{"error": "server_error"}'},
    "502 HTML": {
        "status": 502,
        "body": "<html>Bad gateway</html>",
        "content_type": "text/html",
    },
    "503 Retry-After": {
        "status": 503,
        "body": '{"error": "temporarily_unavailable"}',
        "headers": {"Retry-After": "3"},
    },
    "429 Retry-After": {
        "status": 429,
        "body": '{"error": "slow_down"}',
        "headers": {"Retry-After": "5"},
    },
    "200 HTML": {
        "body": "<html>not a token</html>",
        "content_type": "text/html",
    },
    "200 truncated JSON": {"body": '{"access_token": "abc'},
    "slow (4 s), then the token": {"delay": 4, "pass": True},
    "timeout (15 s), then 504": {"delay": 15, "status": 504},
    "connection dropped": {"drop": True},
}
# The API refusing the token (a forced refresh follows): on its own clock.
REFUSAL = "401 invalid_token"
# What a poll gets instead of the document, now and then.
API_FAULTS: dict[str, dict[str, Any]] = {
    "500": {"status": 500, "body": '{"error": "boom"}'},
    "503 HTML": {
        "status": 503,
        "body": "<html>down</html>",
        "content_type": "text/html",
    },
    "429 Retry-After": {
        "status": 429,
        "body": '{"error": "rate_limited"}',
        "headers": {"Retry-After": "5"},
    },
    "401 invalid_token": {
        "status": 401,
        "body": '{"error": "invalid_token"}',
        "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
    },
    "200 HTML": {"body": "<html>garbage", "content_type": "text/html"},
    "200 truncated JSON": {"body": '{"temperature": 2'},
    "slow (3 s), then the document": {"delay": 3, "pass": True},
    "timeout (15 s), then 504": {"delay": 15, "status": 504},
}


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[soak {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


@dataclass
class Poll:
    """One endpoint: where it is, how often it polls, when the provider saw it."""

    tag: str
    account: int
    subentry_id: str
    title: str
    interval: int
    polls: list[float] = field(default_factory=list)

    @property
    def url(self) -> str:
        """The endpoint's path (the query names it in the provider's events)."""
        return f"/api/weather?soak={self.tag}"


@dataclass
class Account:
    """One linked account (config entry) and its endpoints."""

    index: int
    entry_id: str
    endpoints: list[Poll]
    grants: set[str] = field(default_factory=set)
    max_response_bytes: int = 1_048_576

    @property
    def name(self) -> str:
        """As the report names it."""
        return f"a{self.index:02d}"


@dataclass
class Seen:
    """What the provider reported (``/demo/events``), kept compact."""

    rotations: list[tuple[float, str]] = field(default_factory=list)
    # The fingerprint of the refresh token each rotation issued, by grant: the newest.
    newest: dict[str, tuple[float, str]] = field(default_factory=dict)
    reuse: list[tuple[float, str]] = field(default_factory=list)
    faults: list[tuple[float, str, str, int]] = field(default_factory=list)
    api_calls: int = 0


@dataclass
class Sample:
    """One look at Home Assistant."""

    t: float
    life: int
    rss_mb: float | None = None
    fds: int | None = None
    cpu_s: float | None = None
    tasks: int | None = None
    lag_median_ms: float | None = None
    lag_max_ms: float | None = None
    late_ms: list[float] = field(default_factory=list, repr=False)
    cpu_pct: float | None = None


@dataclass
class Moment:
    """Something the soak did, for the report and the plot."""

    t: float
    kind: str
    detail: str = ""


class Provider:
    """The demo provider as a process that can be restarted with its grants."""

    def __init__(self, workdir: Path, token_ttl: int) -> None:
        """A port, a state file, a log."""
        self.port = free_port()
        self.issuer = f"http://127.0.0.1:{self.port}"
        self.state_file = workdir / "demo-state.json"
        self.log_path = workdir / "demo.log"
        self.token_ttl = token_ttl
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> None:
        """Start it and wait until it answers."""
        log_file = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "demo",
            "--port",
            str(self.port),
            "--token-ttl",
            str(self.token_ttl),
            "--rate-limit",
            "0",
            "--state-file",
            str(self.state_file),
            cwd=ROOT,
            stdout=log_file,
            stderr=log_file,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        log_file.close()
        async with ClientSession() as http:
            for _ in range(150):
                with contextlib.suppress(OSError):
                    async with http.get(
                        f"{self.issuer}/.well-known/openid-configuration"
                    ) as resp:
                        if resp.status == 200:
                            return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the demo provider did not start; see {self.log_path}")

    async def stop(self) -> None:
        """SIGTERM: it writes its state file on the way out."""
        if self.proc is None or self.proc.returncode is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            self.proc.kill()
            await self.proc.wait()

    def issued_secrets(self) -> set[str]:
        """Every access and refresh token it issued (from its state file)."""
        state = json.loads(self.state_file.read_text())
        found = set()
        for token in state["tokens"]:
            found.add(token["access_token"])
            if token["refresh_token"]:
                found.add(token["refresh_token"])
        return found


class Soak:
    """The provider, one Home Assistant, the accounts, the faults and the measurements."""

    def __init__(self, args: argparse.Namespace, workdir: Path) -> None:
        """Plan the run."""
        self.args = args
        self.workdir = workdir
        self.rng = random.Random(args.seed)
        self.provider = Provider(workdir, args.token_ttl)
        self.ha = HomeAssistant(
            workdir / "config",
            ROOT / "custom_components" / DOMAIN,
            extra_yaml="soak_probe:\n",
            debug=(f"custom_components.{DOMAIN}",),
        )
        shutil.copytree(PROBE, workdir / "config" / "custom_components" / "soak_probe")
        self.logs = workdir / "logs"
        self.logs.mkdir()
        self.accounts: list[Account] = []
        self.by_tag: dict[str, Poll] = {}
        self.seen = Seen()
        self.samples: list[Sample] = []
        self.moments: list[Moment] = []
        self.life = 1
        self.t0 = 0.0
        self.duration = args.minutes * 60.0
        self.quiet = max(0.1 * self.duration, 2.0 * args.max_interval + 30.0)
        self.faults_end = self.duration - self.quiet
        self.quiet_start = 0.0  # when the faults really stopped (run time)
        self.revoked: Account | None = None
        self.injected: dict[str, int] = {}
        self.restarts: list[float] = []  # seconds from kill to RUNNING
        self.checks: list[tuple[str, str, str, bool | None]] = []
        # Kills that came after a rotation and before the token file held it:
        # (account, seconds from the rotation to the kill).
        self.not_on_disk: list[tuple[Account, float]] = []

    def now(self) -> float:
        """Seconds since the run started."""
        return time.time() - self.t0

    # -- set-up ----------------------------------------------------------------------
    async def link(self) -> None:
        """One grant per account, and HA's storage for all of them."""
        redirect = f"{self.ha.url}/auth/external/callback"
        entries = []
        for index in range(1, self.args.accounts + 1):
            token = await code_grant(self.provider.issuer, redirect)
            entry_id = secrets.token_hex(13).upper()
            polls = []
            for number in range(1, self.args.endpoints + 1):
                tag = f"a{index:02d}e{number:03d}"
                poll = Poll(
                    tag=tag,
                    account=index,
                    subentry_id=f"soak{tag}",
                    title=tag,
                    interval=self.rng.randint(
                        self.args.min_interval, self.args.max_interval
                    ),
                )
                polls.append(poll)
                self.by_tag[tag] = poll
            self.accounts.append(Account(index, entry_id, polls))
            endpoints = [
                Endpoint(
                    subentry_id=p.subentry_id,
                    title=p.title,
                    url=p.url,
                    scan_interval=p.interval,
                    values=VALUES[: self.args.values],
                )
                for p in polls
            ]
            entries.append(
                account_entry(
                    self.provider.issuer,
                    entry_id,
                    token,
                    endpoints,
                    title=f"Soak {index:02d}",
                    unique_id=f"{self.provider.issuer}#soak-{index:02d}",
                )
            )
        write_storage(self.ha.dir, entries)

    async def entries(self) -> dict[str, str]:
        """entry_id -> state of our config entries."""
        answer = await self.ha.api(
            "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
        )
        return {e["entry_id"]: e["state"] for e in answer if e["domain"] == DOMAIN}

    async def wait_loaded(self, timeout: float) -> None:
        """Until every account but the revoked one is loaded."""
        deadline = time.monotonic() + timeout
        wanted = {a.entry_id for a in self.accounts if a is not self.revoked}
        while time.monotonic() < deadline:
            with contextlib.suppress(ClientError, FlowError, OSError, TimeoutError):
                states = await self.entries()
                if all(states.get(entry) == "loaded" for entry in wanted):
                    return
            await asyncio.sleep(1)
        raise RuntimeError("the accounts did not load in time")

    async def reauth_entries(self) -> set[str]:
        """Entries with a reauth flow in progress."""
        flows = await websocket(self.ha, {"type": "config_entries/flow/progress"})
        return {
            f["context"].get("entry_id")
            for f in flows
            if f["handler"] == DOMAIN and f["context"].get("source") == "reauth"
        }

    # -- the provider's events -------------------------------------------------------
    async def follow(self) -> None:
        """Collect the provider's events (long poll), across its restarts."""
        after = 0
        async with ClientSession(timeout=ClientTimeout(total=20)) as http:
            while True:
                try:
                    async with http.get(
                        f"{self.provider.issuer}/demo/events",
                        params={"after": after, "wait": 10},
                    ) as resp:
                        body = await resp.json()
                except ClientError, OSError, TimeoutError, ValueError:
                    await asyncio.sleep(0.5)
                    continue
                for event in body["events"]:
                    self.note(event)
                if body["events"]:
                    after = body["events"][-1]["seq"]

    def note(self, event: dict[str, Any]) -> None:
        """Keep what the checks need of one event."""
        at = event["at"] - self.t0
        kind = event["kind"]
        if kind == "api":
            self.seen.api_calls += 1
            match = TAG.search(event.get("query", ""))
            if match and (poll := self.by_tag.get(match.group(1))):
                poll.polls.append(at)
                self.accounts[poll.account - 1].grants.add(event["grant_id"])
        elif kind == "rotation":
            self.seen.rotations.append((at, event["grant_id"]))
            self.seen.newest[event["grant_id"]] = (at, event["refresh"])
        elif kind == "reuse":
            self.seen.reuse.append((at, event["grant_id"]))
        elif kind == "fault":
            self.seen.faults.append(
                (at, event["where"], event["grant_id"], event["status"])
            )

    # -- measuring -------------------------------------------------------------------
    async def sample_forever(self) -> None:
        """RSS, fds, CPU from /proc; tasks and loop lag from the probe."""
        last: Sample | None = None
        while True:
            await asyncio.sleep(self.args.sample)
            sample = Sample(t=self.now(), life=self.life)
            if self.ha.proc is None or self.ha.proc.poll() is not None:
                continue  # between a kill and the restart
            try:
                sample.rss_mb = self.ha.rss() / 1e6
                sample.fds = self.ha.fds()
                sample.cpu_s = self.ha.cpu()
            except psutil.Error, OSError, AssertionError:
                continue  # between a kill and the restart
            with contextlib.suppress(
                ClientError, FlowError, OSError, TimeoutError, RuntimeError
            ):
                probe = await asyncio.wait_for(self.ha.api("GET", "/api/soak_probe"), 5)
                sample.tasks = probe["tasks"]
                late = sorted(probe["late_ms"])
                if late:
                    sample.lag_median_ms = late[len(late) // 2]
                    sample.lag_max_ms = late[-1]
                    sample.late_ms = late
            if last is not None and last.life == sample.life and last.cpu_s is not None:
                sample.cpu_pct = (
                    100 * (sample.cpu_s - last.cpu_s) / max(sample.t - last.t, 1e-6)
                )
            self.samples.append(sample)
            last = sample

    # -- faults ----------------------------------------------------------------------
    async def inject_forever(self) -> None:
        """Queue a token or API fault now and then, at most one of each waiting.

        An API 401 (which rightly forces a refresh) comes on its own clock, about
        once per account per two token lifetimes: often enough to test the
        forced refresh, rarely enough that most tokens live to their scheduled
        refresh, which the token-request check counts.
        """
        polls_per_s = sum(1 / p.interval for p in self.by_tag.values())
        ttl = self.args.token_ttl
        refreshes_per_s = self.args.accounts / (ttl - refresh_margin(ttl))
        api_gap = min(15.0, max(0.3, 1 / (self.args.api_fault_share * polls_per_s)))
        # About 30 % of the refreshes meet a fault (one waits at most).
        token_gap = max(1.0, 1 / (0.3 * refreshes_per_s))
        refusal_gap = 2 * ttl / self.args.accounts
        others = [name for name in API_FAULTS if name != REFUSAL]
        clocks = {"api": api_gap, "token": token_gap / 2, "refusal": refusal_gap / 2}
        async with ClientSession(timeout=ClientTimeout(total=10)) as http:
            while True:
                which = min(clocks, key=lambda name: clocks[name])
                wait = clocks[which]
                await asyncio.sleep(wait)
                for name in clocks:
                    clocks[name] -= wait
                body: dict[str, Any] = {"append": True}
                if which == "api":
                    name = self.rng.choice(others)
                    body["api"] = [API_FAULTS[name]]
                    clocks["api"] = self.rng.uniform(0.5, 1.5) * api_gap
                    kind = f"API {name}"
                elif which == "refusal":
                    body["api"] = [API_FAULTS[REFUSAL]]
                    clocks["refusal"] = self.rng.uniform(0.5, 1.5) * refusal_gap
                    kind = f"API {REFUSAL}"
                else:
                    name = self.rng.choice(list(TOKEN_FAULTS))
                    body["token"] = [TOKEN_FAULTS[name]]
                    clocks["token"] = self.rng.uniform(0.5, 1.5) * token_gap
                    kind = f"token {name}"
                with contextlib.suppress(ClientError, OSError, TimeoutError):
                    async with http.post(
                        f"{self.provider.issuer}/demo/faults", json=body
                    ) as resp:
                        queued = (await resp.json())["queued"]
                    self.injected[kind] = self.injected.get(kind, 0) + 1
                    if queued["token"] > 1 or queued["api"] > 1:
                        # Not taken yet: keep at most one waiting of each.
                        async with http.post(
                            f"{self.provider.issuer}/demo/faults", json={}
                        ):
                            pass

    def plan(self) -> list[tuple[float, str]]:
        """When to kill, restart the provider, revoke, edit: (run time, action)."""
        f = self.faults_end
        period = self.duration / 6
        actions = [
            (k * period, "kill")
            for k in range(1, 7)
            if k * period <= f - self.args.restart_room
        ]
        restarts = max(1, round(self.duration / 1200))
        actions += [
            (self.rng.uniform(0.1, 0.9) * f, "provider") for _ in range(restarts)
        ]
        actions.append((self.rng.uniform(0.15, 0.5) * f, "revoke"))
        edits = max(2, round(self.duration / 300))
        actions += [
            (self.rng.uniform(0.05, 0.95) * f, ("options", "endpoint")[n % 2])
            for n in range(edits)
        ]
        return sorted(actions)

    async def kill_and_restart(self) -> None:
        """SIGKILL Home Assistant, keep its log, start it again."""
        killed = self.now()
        await self.ha.kill()
        self.moments.append(Moment(killed, "kill", f"life {self.life}"))
        await asyncio.sleep(1)  # the provider's last events arrive
        for account in self.accounts:
            refresh = stored_refresh(self.ha.dir, account.entry_id)
            on_disk = fingerprint(refresh) if refresh is not None else None
            for grant in account.grants:
                at, newest = self.seen.newest.get(grant, (0.0, ""))
                if newest and newest != on_disk:
                    # Killed after the provider rotated, before the token file held it.
                    self.not_on_disk.append((account, killed - at))
        self.keep_log()
        self.life += 1
        await self.ha.start(timeout=self.args.start_timeout, onboard=False)
        await self.ha.wait_running(timeout=self.args.start_timeout)
        self.restarts.append(self.now() - killed)
        log(f"Home Assistant killed and running again in {self.restarts[-1]:.1f} s")

    def keep_log(self) -> None:
        """HA moves its log aside at each start: keep each life's."""
        path = self.ha.dir / "home-assistant.log"
        if path.exists():
            shutil.copyfile(path, self.logs / f"home-assistant-{self.life:03d}.log")

    async def restart_provider(self) -> None:
        """Stop the provider (state kept), leave it down a few seconds, start it."""
        at = self.now()
        await self.provider.stop()
        down = self.rng.uniform(1, 5)
        await asyncio.sleep(down)
        await self.provider.start()
        self.moments.append(Moment(at, "provider restart", f"down {down:.1f} s"))
        log(f"provider restarted (down {down:.1f} s)")

    async def revoke(self) -> None:
        """Revoke one account's grant at the provider (RFC 7009, its refresh token)."""
        account = self.rng.choice(self.accounts)
        refresh = stored_refresh(self.ha.dir, account.entry_id)
        if refresh is None:
            raise RuntimeError(f"no token file for {account.name}")
        async with (
            ClientSession() as http,
            http.post(
                f"{self.provider.issuer}/revoke",
                data={"token": refresh, "token_type_hint": "refresh_token"},
                headers=basic_auth(),
            ) as resp,
        ):
            if resp.status != 200:
                raise RuntimeError(f"revocation answered {resp.status}")
        self.revoked = account
        self.moments.append(Moment(self.now(), "revoke", account.name))
        log(f"grant of {account.name} revoked at the provider")

    async def edit(self, what: str) -> None:
        """An options save, or an endpoint's interval edited, as the frontend does."""
        account = self.rng.choice([a for a in self.accounts if a is not self.revoked])
        try:
            if what == "options":
                account.max_response_bytes = (
                    2_097_152 if account.max_response_bytes != 2_097_152 else 1_048_576
                )
                await save_options(
                    self.ha,
                    account.entry_id,
                    {
                        "allowed_origins": "",
                        "max_response_bytes": account.max_response_bytes,
                    },
                )
                detail = f"{account.name} options"
            else:
                poll = self.rng.choice(account.endpoints)
                interval = self.rng.randint(
                    self.args.min_interval, self.args.max_interval
                )
                await reconfigure_endpoint(
                    self.ha,
                    account.entry_id,
                    poll.subentry_id,
                    {
                        "name": poll.title,
                        "method": "GET",
                        "url": poll.url,
                        "scan_interval": interval,
                        "timeout": 10,
                    },
                )
                poll.interval = interval
                detail = f"{poll.tag} every {interval} s"
        except (ClientError, FlowError, OSError, TimeoutError) as err:
            # A flow that meets the account reloading is a finding, not a crash.
            self.moments.append(Moment(self.now(), "edit failed", f"{what}: {err}"))
            log(f"{what} edit failed: {err}")
            return
        self.moments.append(Moment(self.now(), "edit", detail))
        log(f"edited: {detail}")

    # -- the run ---------------------------------------------------------------------
    async def run(self) -> None:
        """Set up, run the faults, let it settle, check."""
        await self.provider.start()
        log(
            f"provider at {self.provider.issuer}; linking {self.args.accounts} accounts"
        )
        await self.link()
        started = time.monotonic()
        await self.ha.start(timeout=self.args.start_timeout)
        self.ha.token = await websocket(
            self.ha,
            {
                "type": "auth/long_lived_access_token",
                "client_name": "soak",
                "lifespan": 30,
            },
        )
        await self.ha.wait_running(timeout=self.args.start_timeout)
        await self.wait_loaded(self.args.start_timeout)
        log(
            f"Home Assistant running with {len(self.by_tag)} endpoints in "
            f"{time.monotonic() - started:.0f} s"
        )
        self.t0 = time.time()
        tasks = [
            asyncio.create_task(self.follow()),
            asyncio.create_task(self.sample_forever()),
        ]
        injector = asyncio.create_task(self.inject_forever())
        try:
            ready = 0.0  # actions keep a gap, so that a kill never chases an edit
            for planned, action in self.plan():
                at = max(planned, ready)
                if at > self.faults_end - (
                    self.args.restart_room if action == "kill" else 0
                ):
                    log(f"no time left for the {action} planned at {planned:.0f} s")
                    continue
                await asyncio.sleep(max(0.0, at - self.now()))
                if action == "kill":
                    await self.kill_and_restart()
                elif action == "provider":
                    await self.restart_provider()
                elif action == "revoke":
                    await self.revoke()
                else:
                    await self.edit(action)
                ready = self.now() + self.args.gap
            await asyncio.sleep(max(0.0, self.faults_end - self.now()))
            injector.cancel()
            async with (
                ClientSession() as http,
                http.post(f"{self.provider.issuer}/demo/faults", json={}),
            ):
                pass
            self.quiet_start = self.now()
            self.moments.append(Moment(self.quiet_start, "faults stop"))
            log(f"faults stopped at {self.quiet_start:.0f} s; quiet until the end")
            await asyncio.sleep(max(0.0, self.duration - self.now()))
            await self.final_checks()
        finally:
            injector.cancel()
            for task in tasks:
                task.cancel()
            await self.ha.stop()
            self.keep_log()
            await self.provider.stop()

    async def final_checks(self) -> None:
        """What HA says at the end: entry states and reauth flows."""
        states = await self.entries()
        reauth = await self.reauth_entries()
        self.final_states = states
        self.final_reauth = reauth

    # -- the report ------------------------------------------------------------------
    def account_of(self, grant: str) -> Account | None:
        """Whose grant it is."""
        return next((a for a in self.accounts if grant in a.grants), None)

    def check(self, name: str, result: str, target: str, ok: bool | None) -> None:
        """One row of the checks table (None: reported, not checked)."""
        self.checks.append((name, result, target, ok))

    def evaluate(self) -> None:
        """All the checks."""
        q = self.quiet_start
        ttl = self.args.token_ttl
        revoked = self.revoked
        reused = {g for _, g in self.seen.reuse}
        # A kill between the provider rotating the refresh token and HA writing the
        # new one loses the grant whatever the client does: the crash suite's window,
        # a few ms (up to ~150 ms on a busy machine). Such a loss is reported, not
        # failed; a token not on disk longer after its rotation is a lost grant.
        in_window = [
            a
            for a in self.accounts
            if a is not revoked
            and a.grants & reused
            and any(
                who is a and late <= self.args.window for who, late in self.not_on_disk
            )
        ]
        self.in_window = in_window
        others = [a for a in self.accounts if a is not revoked and a not in in_window]
        lost = []
        for account in others:
            quiet_rotations = [
                t for t, g in self.seen.rotations if g in account.grants and t >= q
            ]
            if (
                account.grants & reused
                or account.entry_id in self.final_reauth
                or self.final_states.get(account.entry_id) != "loaded"
                or (self.duration - q >= ttl and not quiet_rotations)
                or len(account.grants) != 1
            ):
                lost.append(account.name)
        self.check(
            "grants lost (the revoked one aside)",
            f"{len(lost)}"
            + (f" ({', '.join(lost)})" if lost else "")
            + (
                f"; and {len(in_window)} to a kill between a rotation and its "
                f"write (< {self.args.window:g} s after it) "
                f"({', '.join(a.name for a in in_window)}): unavoidable, not counted"
                if in_window
                else ""
            ),
            "0",
            not lost,
        )
        prompts = sorted(
            a.name for a in self.accounts if a.entry_id in self.final_reauth
        )
        expected = sorted(a.name for a in [revoked, *in_window] if a is not None)
        self.check(
            "accounts asking for reauth",
            ", ".join(prompts) or "none",
            f"exactly the revoked one ({revoked.name if revoked else 'none'})"
            + (" and those lost inside the window" if in_window else ""),
            prompts == expected,
        )
        stuck = []
        late = []
        for account in others:
            for poll in account.endpoints:
                after = [t for t in poll.polls if t >= q]
                if not after or after[0] > q + 2 * poll.interval + 1:
                    stuck.append(poll.tag)
                else:
                    late.append((after[0] - q) / poll.interval)
        total = sum(len(a.endpoints) for a in others)
        self.check(
            "endpoints stuck after the faults stopped",
            f"{len(stuck)} of {total}"
            + (
                f" ({', '.join(stuck[:10])}{' …' if len(stuck) > 10 else ''})"
                if stuck
                else ""
            )
            + (f"; first poll after {max(late):.2f} intervals at most" if late else ""),
            "0: each polls within two of its intervals",
            not stuck,
        )
        # The refresh rule (api.refresh_margin): one token request per token, made
        # ``margin`` before it expires, so lifetime / (lifetime - margin) of them per
        # lifetime. On top of it: a refresh forced by an API that refused the token
        # (an injected 401), and the retries of failed token requests.
        margin = refresh_margin(ttl)
        expected = ttl / (ttl - margin)
        ratios = []
        scheduled = []
        spacing = []
        requests_per_token = []
        for account in others:
            mine = sorted(t for t, g in self.seen.rotations if g in account.grants)
            failed = sum(
                1
                for _, w, g, _ in self.seen.faults
                if w == "token" and g in account.grants
            )
            refused = sorted(
                t
                for t, w, g, status in self.seen.faults
                if w == "api" and status == 401 and g in account.grants
            )
            lifetimes = self.duration / ttl
            ratios.append(len(mine) / lifetimes)
            scheduled.append((len(mine) - _forced(mine, refused)) / lifetimes)
            if mine:
                requests_per_token.append((len(mine) + failed) / len(mine))
            quiet = [t for t in mine if t >= q]
            spacing += [b - a for a, b in itertools.pairwise(quiet)]
        self.check(
            "token requests per account per token lifetime, the refreshes forced by "
            "an injected 401 aside",
            _spread(scheduled),
            f"1 per token: {expected:.2f} per lifetime for {ttl} s tokens refreshed "
            f"{margin:.0f} s early (at most 5 % more)",
            (max(scheduled) <= expected * 1.05) if scheduled else None,
        )
        self.check(
            "token requests per account per token lifetime, all successful ones",
            _spread(ratios),
            "reported",
            None,
        )
        self.check(
            "token requests per token issued (failed ones retried)",
            _spread(requests_per_token),
            "1 + the injected token faults and provider restarts that hit the account",
            None,
        )
        self.check(
            "shortest time between two refreshes of an account, faults stopped",
            f"{min(spacing):.1f} s" if spacing else "n/a (quiet phase too short)",
            f"≥ half a token lifetime ({ttl / 2:.0f} s, less 2 s)",
            (min(spacing) >= ttl / 2 - 2) if spacing else None,
        )
        self.check_resources()
        self.check_log()

    def segments(self) -> list[list[Sample]]:
        """The samples of each Home Assistant life, after its warm-up."""
        lives: dict[int, list[Sample]] = {}
        for sample in self.samples:
            lives.setdefault(sample.life, []).append(sample)
        out = []
        for life in lives.values():
            start = life[0].t
            length = life[-1].t - start
            warm = min(self.args.warmup, 0.3 * length)
            out.append([s for s in life if s.t >= start + warm])
        return out

    def check_resources(self) -> None:
        """Memory slope, tasks, fds, loop lag, CPU."""
        segments = self.segments()
        slopes = []
        for seg in segments:
            points = [(s.t, s.rss_mb) for s in seg if s.rss_mb is not None]
            if len(points) >= 3 and points[-1][0] - points[0][0] >= self.args.slope_min:
                slopes.append(_slope(points) * 600)
        self.slopes = slopes
        self.check(
            "RSS slope after warm-up, MB per 10 min (per HA life)",
            ", ".join(f"{s:+.2f}" for s in slopes)
            or f"n/a (no life of {self.args.slope_min:.0f} s after warm-up)",
            "< 1 (median of the lives)",
            (statistics.median(slopes) < 1) if slopes else None,
        )
        rss = [s.rss_mb for seg in segments for s in seg if s.rss_mb is not None]
        self.check(
            "RSS after warm-up, MB (min / max)",
            f"{min(rss):.0f} / {max(rss):.0f}" if rss else "n/a",
            "flat",
            None,
        )
        last = segments[-1] if segments else []
        for name, attr in (("asyncio tasks", "tasks"), ("open fds", "fds")):
            values = [getattr(s, attr) for s in last if getattr(s, attr) is not None]
            every = [
                getattr(s, attr)
                for seg in segments
                for s in seg
                if getattr(s, attr) is not None
            ]
            self.check(
                f"{name} after warm-up: last life first → last (all lives min / max)",
                f"{values[0]} → {values[-1]} ({min(every)} / {max(every)})"
                if values
                else "n/a",
                "flat",
                None,
            )
        lags = [s for seg in segments for s in seg if s.lag_max_ms is not None]
        quiet = [s for s in lags if s.t >= self.quiet_start]
        self.check(
            "event-loop lag of a 100 ms timer after warm-up, ms: p99 / max",
            _lag(lags) + " (whole run); " + _lag(quiet) + " (faults stopped)",
            "reported",
            None,
        )
        cpu = [s.cpu_pct for seg in segments for s in seg if s.cpu_pct is not None]
        cpu_q = [
            s.cpu_pct
            for seg in segments
            for s in seg
            if s.cpu_pct is not None and s.t >= self.quiet_start
        ]
        self.check(
            "Home Assistant CPU, % of one core (mean)",
            (f"{statistics.mean(cpu):.1f} (whole run)" if cpu else "n/a")
            + (f"; {statistics.mean(cpu_q):.1f} (faults stopped)" if cpu_q else ""),
            "reported",
            None,
        )

    def check_log(self) -> None:
        """No token the provider issued, nor the client secret, in any of HA's logs."""
        issued = self.provider.issued_secrets()
        words = re.compile(rb"[A-Za-z0-9_\-]{20,}")
        found: set[str] = set()
        size = 0
        files = [*sorted(self.logs.glob("*.log")), self.ha.dir / "hass.out"]
        for path in files:
            if not path.exists():
                continue
            data = path.read_bytes()
            size += len(data)
            for word in words.findall(data):
                text = word.decode()
                if text in issued:
                    found.add(text)
            if CLIENT_SECRET.encode() in data:
                found.add(CLIENT_SECRET)
        self.check(
            "secrets in Home Assistant's log",
            f"{len(found)} of {len(issued)} tokens issued + the client secret, "
            f"in {size / 1e6:.1f} MB of log ({len(files)} files)",
            "0",
            not found,
        )

    def report(self) -> str:
        """The Markdown report."""
        a = self.args
        lines = [
            (
                f"Soak of {a.minutes:g} min: {a.accounts} accounts × {a.endpoints} endpoints × "
                f"{a.values} values = {a.accounts * a.endpoints * a.values} entities, "
                f"intervals {a.min_interval}–{a.max_interval} s, access tokens {a.token_ttl} s, "
                f"seed {a.seed}. Faults until {self.quiet_start / 60:.1f} min, then quiet."
            ),
            "",
            "| check | result | target | |",
            "|---|---|---|---|",
        ]
        for name, result, target, ok in self.checks:
            mark = {True: "pass", False: "**FAIL**", None: "—"}[ok]
            lines.append(f"| {name} | {result} | {target} | {mark} |")
        token_faults = sum(1 for f in self.seen.faults if f[1] == "token")
        api_faults = sum(1 for f in self.seen.faults if f[1] == "api")
        kills = [m for m in self.moments if m.kind == "kill"]
        lines += [
            "",
            f"What happened: {len(kills)} kills of Home Assistant (running again after "
            + (", ".join(f"{r:.0f}" for r in self.restarts) or "-")
            + " s), "
            f"provider restarts: "
            f"{sum(1 for m in self.moments if m.kind == 'provider restart')}, {sum(1 for m in self.moments if m.kind == 'edit')} edits "
            f"({sum(1 for m in self.moments if m.kind == 'edit failed')} failed), "
            f"the grant of {self.revoked.name if self.revoked else 'nobody'} revoked; "
            f"{len(self.not_on_disk)} times an account's newest refresh token was not "
            "in its token file at a kill"
            + (
                " ("
                + ", ".join(f"{late * 1000:.0f} ms" for _, late in self.not_on_disk)
                + " after the rotation)"
                if self.not_on_disk
                else ""
            )
            + "; "
            f"{self.seen.api_calls} API calls and {len(self.seen.rotations)} refreshes "
            f"seen by the provider; faults answered: {token_faults} at the token "
            f"endpoint, {api_faults} at the API "
            f"({sum(self.injected.values())} queued: "
            + ", ".join(f"{k} ×{v}" for k, v in sorted(self.injected.items()))
            + ").",
        ]
        return "\n".join(lines)

    def write_samples(self, path: Path) -> None:
        """The samples as CSV."""
        with path.open("w", newline="") as out:
            writer = csv.writer(out)
            names = [n for n in Sample.__dataclass_fields__ if n != "late_ms"]
            writer.writerow(names)
            for sample in self.samples:
                writer.writerow([getattr(sample, n) for n in names])

    def plot(self, path: Path) -> bool:
        """RSS, tasks, fds, loop lag and CPU over time; False without matplotlib."""
        try:
            import matplotlib as mpl

            mpl.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            return False
        rows = (
            ("RSS, MB", ("rss_mb",)),
            ("asyncio tasks", ("tasks",)),
            ("open fds", ("fds",)),
            ("loop lag, ms", ("lag_median_ms", "lag_max_ms")),
            ("CPU, % of a core", ("cpu_pct",)),
        )
        fig, axes = plt.subplots(len(rows), 1, figsize=(10, 11), sharex=True)
        for ax, (label, attrs) in zip(axes, rows, strict=True):
            for attr in attrs:
                for life in sorted({s.life for s in self.samples}):
                    points = [
                        (s.t / 60, getattr(s, attr))
                        for s in self.samples
                        if s.life == life and getattr(s, attr) is not None
                    ]
                    if points:
                        xs, ys = zip(*points, strict=True)
                        ax.plot(
                            xs,
                            ys,
                            color="C0" if attr != "lag_max_ms" else "C1",
                            linewidth=1,
                            label={"lag_median_ms": "median", "lag_max_ms": "max"}.get(
                                attr
                            )
                            if life == self.samples[0].life
                            else None,
                        )
            if label.startswith("loop lag"):
                ax.set_yscale("log")
                ax.legend(loc="upper right", fontsize=8)
            ax.set_ylabel(label)
            for moment in self.moments:
                color = {
                    "kill": "red",
                    "provider restart": "orange",
                    "revoke": "purple",
                    "faults stop": "green",
                }.get(moment.kind, "grey")
                ax.axvline(moment.t / 60, color=color, linewidth=0.8, linestyle=":")
        axes[-1].set_xlabel(
            "minutes (red: HA killed, orange: provider restarted, purple: grant revoked, "
            "grey: edit, green: faults stop)"
        )
        fig.suptitle(
            f"Soak: {self.args.accounts}×{self.args.endpoints}×{self.args.values} entities, "
            f"{self.args.minutes:g} min"
        )
        fig.tight_layout()
        fig.savefig(path, dpi=90)
        plt.close(fig)
        return True


def _slope(points: list[tuple[float, float]]) -> float:
    """Least-squares slope (units per second)."""
    xs = [p[0] for p in points]
    ys = [p[1] for p in points]
    mx, my = statistics.mean(xs), statistics.mean(ys)
    den = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in points) / den if den else 0.0


def _forced(rotations: list[float], refused: list[float]) -> int:
    """Rotations that followed an injected 401 (within 20 s; one each at most)."""
    forced = 0
    pending = iter(rotations)
    rotation = next(pending, None)
    for at in refused:
        while rotation is not None and rotation < at:
            rotation = next(pending, None)
        if rotation is not None and rotation - at <= 20:
            forced += 1
            rotation = next(pending, None)
    return forced


def _spread(values: list[float]) -> str:
    if not values:
        return "n/a"
    return (
        f"{statistics.mean(values):.2f} (min {min(values):.2f}, max {max(values):.2f})"
    )


def _lag(samples: list[Sample]) -> str:
    late = sorted(t for s in samples for t in s.late_ms)
    if not late:
        return "n/a"
    p99 = late[min(len(late) - 1, int(0.99 * len(late)))]
    return f"{p99:.1f} / {late[-1]:.0f}"


def main() -> None:
    """Parse arguments, run, report, exit non-zero when a check fails."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--accounts", type=int, default=10)
    parser.add_argument("--endpoints", type=int, default=100)
    parser.add_argument("--values", type=int, default=5, choices=range(1, 6))
    parser.add_argument("--token-ttl", type=int, default=300, help="access token s")
    parser.add_argument("--min-interval", type=int, default=10)
    parser.add_argument("--max-interval", type=int, default=60)
    parser.add_argument(
        "--api-fault-share",
        type=float,
        default=0.05,
        help="about this share of the polls gets a fault while faults run",
    )
    parser.add_argument("--sample", type=float, default=5.0, help="seconds")
    parser.add_argument(
        "--warmup", type=float, default=120.0, help="s of each HA life not in slopes"
    )
    parser.add_argument(
        "--slope-min",
        type=float,
        default=300.0,
        help="s of a life after warm-up needed for its RSS slope",
    )
    parser.add_argument(
        "--restart-room",
        type=float,
        default=30.0,
        help="no kill closer than this to the end of the faults",
    )
    parser.add_argument(
        "--window",
        type=float,
        default=0.25,
        help="s after a rotation in which a kill may lose the grant unavoidably",
    )
    parser.add_argument(
        "--gap", type=float, default=10.0, help="s at least between two actions"
    )
    parser.add_argument("--start-timeout", type=float, default=600.0)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument(
        "--report",
        type=Path,
        default=ROOT / "artifacts" / "soak" / "report.md",
        help="Markdown report; the plot (.png) and samples (.csv) go beside it",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    if args.seed is None:
        args.seed = secrets.randbits(32)
    workdir = Path(tempfile.mkdtemp(prefix="oauth2_rest_soak_"))
    log(f"work directory {workdir}, seed {args.seed}")
    soak = Soak(args, workdir)
    failed = True
    try:
        asyncio.run(soak.run())
        soak.evaluate()
        report = soak.report()
        args.report.parent.mkdir(parents=True, exist_ok=True)
        csv_path = args.report.with_suffix(".csv")
        soak.write_samples(csv_path)
        png = args.report.with_suffix(".png")
        if soak.plot(png):
            report += f"\n\nPlot: `{png.name}`; samples: `{csv_path.name}`."
        else:
            report += (
                f"\n\nmatplotlib is not installed: no plot; the samples are in "
                f"`{csv_path.name}`."
            )
        args.report.write_text(report + "\n")
        print(report)
        failed = any(ok is False for _, _, _, ok in soak.checks)
    finally:
        if args.keep or failed:
            log(f"work directory kept: {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failed:
        sys.exit("FAILED: see the checks above")
    log(f"all checks passed; report in {args.report}")


if __name__ == "__main__":
    main()
