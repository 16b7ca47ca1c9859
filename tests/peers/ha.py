"""A real Home Assistant for the peer suite: this checkout's integration, driven over HTTP.

Starts ``.venv/bin/hass --skip-pip`` on a small config (no ``default_config``: it loads
``my``, which makes the redirect URI my.home-assistant.io), onboards it over its API as the
onboarding pages do, and drives config flows and subentry flows as the frontend does
(``/api/config/config_entries/flow``, ``.../subentries/flow``, with the ``HA-Frontend-Base``
header the frontend sends, from which the OAuth2 redirect URI is made).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
from pathlib import Path
import signal
import sys
import time
from typing import Any

from aiohttp import ClientSession, ClientTimeout, ClientWebSocketResponse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
from bench.ha import write_http_store  # noqa: E402

DOMAIN = "oauth2_rest"
USER = {"name": "Peers", "username": "peers", "password": "peers-suite-password"}


class FlowError(Exception):
    """A flow did not go where the suite expected; the message says where it stopped."""


class HomeAssistant:
    """One Home Assistant process and an admin session on it."""

    def __init__(self, workdir: Path, port: int) -> None:
        self.config = workdir / "ha"
        self.log_path = workdir / "hass.log"
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        self.proc: asyncio.subprocess.Process | None = None
        self.http: ClientSession | None = None
        self.token = ""
        self._ws: ClientWebSocketResponse | None = None
        self._ids = itertools.count(1)

    # -- the process ------------------------------------------------------------------
    def prepare(self) -> None:
        """A config dir with this checkout's integration linked in."""
        (self.config / ".storage").mkdir(parents=True, exist_ok=True)
        (self.config / "configuration.yaml").write_text(
            "# Written by tests/peers: no default_config (it loads `my`).\n"
            "homeassistant:\n  name: peers\n  time_zone: UTC\n  unit_system: metric\n"
            "  country: NL\n"
            "config:\nonboarding:\napplication_credentials:\nrepairs:\n"
            "logger:\n  default: warning\n  logs:\n"
            "    custom_components.oauth2_rest: debug\n"
            "    homeassistant.helpers.config_entry_oauth2_flow: debug\n"
        )
        write_http_store(self.config, self.port)
        components = self.config / "custom_components"
        components.mkdir(exist_ok=True)
        link = components / DOMAIN
        if not link.exists():
            link.symlink_to(ROOT / "custom_components" / DOMAIN)

    async def start(self, timeout: float = 120) -> float:
        """Start HA, wait for its API and onboard it; returns the seconds it took."""
        started = time.monotonic()
        self.prepare()
        log = self.log_path.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            str(ROOT / ".venv" / "bin" / "hass"),
            "-c",
            str(self.config),
            "--skip-pip",
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        self.http = ClientSession(timeout=ClientTimeout(total=30))
        deadline = started + timeout
        while True:
            if self.proc.returncode is not None:
                raise FlowError(
                    f"Home Assistant exited ({self.proc.returncode}), see {self.log_path}"
                )
            with contextlib.suppress(OSError, TimeoutError):
                async with self.http.get(f"{self.url}/api/onboarding") as resp:
                    if resp.status == 200:
                        break
            if time.monotonic() > deadline:
                raise FlowError(f"Home Assistant did not answer in {timeout:.0f} s")
            await asyncio.sleep(1)
        await self._onboard()
        return time.monotonic() - started

    async def stop(self) -> None:
        """Stop HA (its whole process group), then the HTTP session."""
        if self._ws is not None:
            await self._ws.close()
        if self.http is not None:
            await self.http.close()
        if self.proc is None or self.proc.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            await asyncio.wait_for(self.proc.wait(), 30)
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            await self.proc.wait()

    async def _onboard(self) -> None:
        client_id = f"{self.url}/"
        done = await self.api(
            "POST",
            "/api/onboarding/users",
            {"client_id": client_id, "language": "en", **USER},
        )
        assert self.http is not None
        async with self.http.post(
            f"{self.url}/auth/token",
            data={
                "grant_type": "authorization_code",
                "code": done["auth_code"],
                "client_id": client_id,
            },
        ) as resp:
            self.token = (await resp.json())["access_token"]
        await self.api("POST", "/api/onboarding/core_config", {})
        await self.api("POST", "/api/onboarding/analytics", {})
        await self.api(
            "POST",
            "/api/onboarding/integration",
            {"client_id": client_id, "redirect_uri": f"{self.url}/?auth_callback=1"},
        )

    # -- HTTP and websocket APIs ----------------------------------------------------------
    async def api(self, method: str, path: str, body: Any = None) -> Any:
        """Call HA's REST API as the admin, as the frontend does; raise on HTTP errors."""
        assert self.http is not None
        headers = {"HA-Frontend-Base": self.url}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.http.request(
            method, f"{self.url}{path}", json=body, headers=headers
        ) as resp:
            text = await resp.text()
            if resp.status >= 400:
                raise FlowError(f"{method} {path}: HTTP {resp.status} {text[:300]}")
            return json.loads(text) if text else None

    async def ws(self, command: dict[str, Any]) -> Any:
        """One websocket command's result (one connection, kept)."""
        assert self.http is not None
        if self._ws is None or self._ws.closed:
            self._ws = await self.http.ws_connect(f"{self.url}/api/websocket")
            await self._ws.receive_json()  # auth_required
            await self._ws.send_json({"type": "auth", "access_token": self.token})
            if (await self._ws.receive_json())["type"] != "auth_ok":
                raise FlowError("websocket authentication failed")
        msg_id = next(self._ids)
        await self._ws.send_json({"id": msg_id, **command})
        while True:
            msg = await self._ws.receive_json(timeout=30)
            if msg.get("id") == msg_id and msg.get("type") == "result":
                if not msg["success"]:
                    raise FlowError(f"websocket {command['type']}: {msg.get('error')}")
                return msg["result"]

    async def entries(self) -> list[dict[str, Any]]:
        """This integration's config entries."""
        return [
            e
            for e in await self.api(
                "GET", f"/api/config/config_entries/entry?domain={DOMAIN}"
            )
            if e["domain"] == DOMAIN
        ]

    async def entry(self, entry_id: str) -> dict[str, Any] | None:
        """One entry of ours, or None once it is gone."""
        return next(
            (e for e in await self.entries() if e["entry_id"] == entry_id), None
        )

    async def reauth_flows(self, entry_id: str) -> list[dict[str, Any]]:
        """Re-authentication flows in progress for the entry."""
        flows = await self.ws({"type": "config_entries/flow/progress"})
        return [
            f
            for f in flows
            if f["handler"] == DOMAIN
            and f["context"].get("source") == "reauth"
            and f["context"].get("entry_id") == entry_id
        ]

    async def repairs(self) -> list[dict[str, Any]]:
        """The integration's repair issues."""
        issues = (await self.ws({"type": "repairs/list_issues"}))["issues"]
        return [i for i in issues if i["domain"] == DOMAIN]

    async def state(self, name: str) -> dict[str, Any] | None:
        """The state of the entity whose friendly name contains ``name``."""
        for state in await self.api("GET", "/api/states"):
            if name in str(state["attributes"].get("friendly_name", "")):
                return state  # type: ignore[no-any-return]
        return None

    def stored_token(self, entry_id: str) -> dict[str, Any] | None:
        """The entry's token as HA stored it (HA writes .storage a moment later)."""
        path = self.config / ".storage" / "core.config_entries"
        with contextlib.suppress(OSError, ValueError):
            for entry in json.loads(path.read_text())["data"]["entries"]:
                if entry["entry_id"] == entry_id:
                    return entry["data"].get("token")  # type: ignore[no-any-return]
        return None

    def log_text(self) -> str:
        """HA's log so far."""
        path = self.config / "home-assistant.log"
        return path.read_text(errors="replace") if path.exists() else ""
