"""A real Home Assistant for the benchmark: started from .venv, onboarded, driven over HTTP."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
import json
import os
from pathlib import Path
import shutil
import signal
import socket
import subprocess
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout
import psutil

ROOT = Path(__file__).resolve().parent.parent
HASS = ROOT / ".venv" / "bin" / "hass"
# The bench's own integrations (not shipped): the floor and the memory probe.
BENCH_COMPONENTS = ROOT / "bench" / "custom_components"
USER = {"name": "Bench", "username": "bench", "password": "bench-password"}


def free_port() -> int:
    """A free TCP port on 127.0.0.1."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def write_http_store(config_dir: Path, port: int) -> None:
    """HA's HTTP settings (loopback, ``port``) as HA 2026.x stores them, confirmed.

    Set in YAML they would be a trial ("pending") that HA reverts, restarting,
    after 5 minutes.
    """
    (config_dir / ".storage").mkdir(parents=True, exist_ok=True)
    (config_dir / ".storage" / "http").write_text(
        json.dumps(
            {
                "version": 2,
                "minor_version": 2,
                "key": "http",
                "data": {
                    "stable": {
                        "server_port": port,
                        "server_host": ["127.0.0.1"],
                        "cors_allowed_origins": [],
                        "login_attempts_threshold": -1,
                        "ip_ban_enabled": False,
                        "ssl_profile": "modern",
                        "use_x_frame_options": True,
                        "created_at": "2026-01-01T00:00:00+00:00",
                        "error": None,
                        "error_message": None,
                    },
                    "pending": None,
                    "yaml_migration_done": True,
                },
            }
        )
    )


class FlowError(RuntimeError):
    """A flow did not go where the bench expected."""


class HomeAssistant:
    """One ``hass -c <dir>`` process and an admin token to drive it."""

    def __init__(
        self,
        config_dir: Path,
        integration: Path,
        extra_yaml: str = "",
        debug: Sequence[str] = (),
    ) -> None:
        """Prepare a config dir that loads this checkout's integration.

        ``extra_yaml`` is added to configuration.yaml; ``debug`` names loggers to
        log at debug level (the others log warnings and worse).
        """
        self.dir = config_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.token = ""
        self.proc: subprocess.Popen[bytes] | None = None
        self.ps: psutil.Process | None = None
        self.session: ClientSession | None = None
        (config_dir / "custom_components").mkdir(parents=True, exist_ok=True)
        links = {"oauth2_rest": integration} | {
            path.name: path for path in BENCH_COMPONENTS.iterdir() if path.is_dir()
        }
        for name, target in links.items():
            link = config_dir / "custom_components" / name
            if not link.exists():
                link.symlink_to(target)
        (config_dir / "configuration.yaml").write_text(
            "homeassistant:\n  name: bench\n  time_zone: UTC\n  unit_system: metric\n"
            "  country: NL\n"
            "api:\nconfig:\nonboarding:\napplication_credentials:\n"
            "logger:\n  default: warning\n"
            + ("  logs:\n" if debug else "")
            + "".join(f"    {name}: debug\n" for name in debug)
            + extra_yaml
        )
        write_http_store(config_dir, self.port)

    async def start(self, timeout: float = 180, *, onboard: bool = True) -> float:
        """Start (and onboard); return the seconds until the API answered.

        ``onboard=False`` starts it again on a config dir it was onboarded on
        (keeping the admin token); its console output is appended to hass.out.
        """
        started = time.monotonic()
        log = (self.dir / "hass.out").open("ab")
        self.proc = subprocess.Popen(  # noqa: ASYNC220 - started once, not awaited
            [str(HASS), "-c", str(self.dir), "--skip-pip"],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.ps = psutil.Process(self.proc.pid)
        self.session = ClientSession(timeout=ClientTimeout(total=300))
        while True:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Home Assistant exited; see {self.dir}/hass.out")
            if time.monotonic() - started > timeout:
                raise RuntimeError("Home Assistant did not start in time")
            try:
                async with self.session.get(f"{self.url}/api/onboarding") as resp:
                    if resp.status == 200:
                        break
            except OSError:
                pass
            await asyncio.sleep(0.5)
        if onboard:
            await self._onboard()
        return time.monotonic() - started

    async def _onboard(self) -> None:
        assert self.session is not None
        client_id = f"{self.url}/"
        async with self.session.post(
            f"{self.url}/api/onboarding/users",
            json={"client_id": client_id, "language": "en", **USER},
        ) as resp:
            code = (await resp.json())["auth_code"]
        async with self.session.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "client_id": client_id,
            },
        ) as resp:
            self.token = (await resp.json())["access_token"]
        # That one lives 30 minutes, less than a full run: a long-lived token.
        async with self.session.ws_connect(f"{self.url}/api/websocket") as ws:
            await ws.receive_json()
            await ws.send_json({"type": "auth", "access_token": self.token})
            await ws.receive_json()
            await ws.send_json(
                {
                    "id": 1,
                    "type": "auth/long_lived_access_token",
                    "client_name": "bench",
                    "lifespan": 30,
                }
            )
            self.token = (await ws.receive_json())["result"]

    async def wait_running(self, timeout: float = 120) -> None:
        """Wait until Home Assistant says it is RUNNING (start-up finished)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            config = await self.api("GET", "/api/config")
            if config.get("state") == "RUNNING":
                return
            await asyncio.sleep(0.5)
        raise RuntimeError("Home Assistant did not reach RUNNING")

    async def stop(self) -> None:
        """Stop it (SIGTERM, then SIGKILL after 30 s)."""
        if self.session is not None:
            await self.session.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGTERM)
        for _ in range(300):
            if self.proc.poll() is not None:
                return
            await asyncio.sleep(0.1)
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    async def kill(self) -> None:
        """SIGKILL (no shutdown, no pending save), as a power cut or the OOM killer."""
        if self.session is not None:
            await self.session.close()
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGKILL)
        for _ in range(600):  # a killed process is gone at once; reap it
            if self.proc.poll() is not None:
                return
            await asyncio.sleep(0.05)

    def keep_logs(self, target: Path) -> None:
        """Copy Home Assistant's log and console output to ``target``."""
        target.mkdir(parents=True, exist_ok=True)
        for name in ("home-assistant.log", "hass.out"):
            if (self.dir / name).exists():
                shutil.copyfile(self.dir / name, target / name)

    # -- measuring ------------------------------------------------------------------

    def cpu(self) -> float:
        """CPU seconds used so far by the process's threads (ns precision).

        /proc/PID/stat counts in clock ticks (10 ms), too coarse for one poll; the
        scheduler's per-thread run time (/proc/PID/task/*/schedstat) is exact.
        Home Assistant's threads live as long as it does, so the sum only grows.
        """
        assert self.proc is not None
        total = 0
        for task in Path(f"/proc/{self.proc.pid}/task").iterdir():
            try:
                total += int((task / "schedstat").read_text().split()[0])
            except OSError, ValueError, IndexError:
                continue  # the thread just ended
        return total / 1e9

    def rss(self) -> int:
        """Resident memory, bytes."""
        assert self.ps is not None
        return int(self.ps.memory_info().rss)

    def fds(self) -> int:
        """Open file descriptors."""
        assert self.ps is not None
        return int(self.ps.num_fds())

    # -- driving --------------------------------------------------------------------

    async def api(
        self,
        method: str,
        path: str,
        payload: Any = None,
        headers: Mapping[str, str] | None = None,
        timeout: float | None = None,
    ) -> Any:
        """Call the REST API as the admin; return the JSON answer.

        ``timeout``: seconds, when the session's 300 are too few (a tracemalloc
        report of thousands of entities).
        """
        assert self.session is not None
        extra: dict[str, Any] = {}
        if timeout is not None:
            extra["timeout"] = ClientTimeout(total=timeout)
        async with self.session.request(
            method,
            f"{self.url}{path}",
            json=payload,
            headers={"Authorization": f"Bearer {self.token}", **(headers or {})},
            **extra,
        ) as resp:
            if resp.status >= 400:
                raise FlowError(f"{method} {path}: {resp.status} {await resp.text()}")
            if resp.content_type == "application/json":
                return await resp.json()
            return await resp.text()

    async def state(self, entity_id: str) -> str | None:
        """An entity's state, or None when it does not exist."""
        assert self.session is not None
        async with self.session.get(
            f"{self.url}/api/states/{entity_id}",
            headers={"Authorization": f"Bearer {self.token}"},
        ) as resp:
            if resp.status == 404:
                return None
            return str((await resp.json())["state"])

    async def wait_state(self, entity_id: str, timeout: float = 120) -> str:
        """Wait until an entity has a real state (not unknown or unavailable)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = await self.state(entity_id)
            if state not in (None, "unknown", "unavailable"):
                return state
            await asyncio.sleep(0.05)
        raise RuntimeError(f"{entity_id} got no state in {timeout} s")

    async def call_service(
        self, domain: str, service: str, data: Mapping[str, Any] | None = None
    ) -> Any:
        """Call an action and wait for it."""
        return await self.api("POST", f"/api/services/{domain}/{service}", data or {})
