"""django-oauth-toolkit as a peer: our Django project (tests/peers/dot) in its own venv."""

from __future__ import annotations

import asyncio
import contextlib
import os
from pathlib import Path
import signal
from typing import Any
from urllib.parse import urlsplit

from aiohttp import ClientSession, ClientTimeout, CookieJar
from yarl import URL

from forms import forms

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
VENV_PYTHON = ROOT / ".cache" / "peers" / "dot-venv" / "bin" / "python"
USER = ("alice", "wonderland")


class PeerError(Exception):
    """The peer did something the suite did not expect; the message says what."""


class DotPeer:
    """One django-oauth-toolkit server on loopback."""

    name = "django-oauth-toolkit"
    key = "dot"
    scopes = "openid profile email read"
    code_client = ("ha-code", "ha-code-secret")
    cc_client = ("ha-cc", "ha-cc-secret")
    device_client = ("ha-device", "ha-device-secret")
    endpoint_url = "/api/me"
    endpoint_template = "{{ value_json.value }}"
    numeric = True  # the value is a counter that goes up with every call
    cc_endpoint = True  # /api/me also answers a client-credentials token
    authorize_params = ""  # nothing extra needed

    def __init__(self, workdir: Path, port: int, redirect_uri: str) -> None:
        self.workdir = workdir
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = (
            self.base
        )  # RFC 8414 at the root names revocation; /o's OIDC one does not
        self.api_base = self.base
        self.redirect_uri = redirect_uri
        self.proc: asyncio.subprocess.Process | None = None
        self.http = ClientSession(timeout=ClientTimeout(total=30))
        self.env = {
            **os.environ,
            "PEERS_DOT_BASE": self.base,
            "PEERS_DOT_STATE": str(workdir / "state"),
            "PYTHONUNBUFFERED": "1",
        }

    def discovery_adds(self, grant: str) -> dict[str, Any]:
        """What a user adds on the discovery summary: the device endpoint no metadata names."""
        if grant == "device":
            return {"device_authorization_url": f"{self.base}/o/device-authorization/"}
        return {}

    async def version(self) -> str:
        """Versions of the server's packages."""
        proc = await asyncio.create_subprocess_exec(
            str(VENV_PYTHON),
            "-c",
            "import importlib.metadata as m; print(', '.join(f'{p} {m.version(p)}' "
            "for p in ('django-oauth-toolkit', 'Django', 'oauthlib')))",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        return out.decode().strip()

    async def _manage(self, *args: str) -> None:
        log = (self.workdir / "dot.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            str(VENV_PYTHON),
            "manage.py",
            *args,
            cwd=HERE / "dot",
            env=self.env,
            stdout=log,
            stderr=log,
        )
        if await proc.wait():
            raise PeerError(
                f"manage.py {args[0]} failed, see {self.workdir / 'dot.log'}"
            )

    async def start(self, access_ttl: int) -> None:
        """Migrate, create the user and applications, serve."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env["PEERS_DOT_ACCESS_TTL"] = str(access_ttl)
        await self._manage("migrate", "-v0")
        await self._manage("peers_setup", self.redirect_uri)
        log = (self.workdir / "dot.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            str(VENV_PYTHON),
            "manage.py",
            "runserver",
            "--noreload",
            f"127.0.0.1:{self.port}",
            cwd=HERE / "dot",
            env=self.env,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        for _ in range(100):
            with contextlib.suppress(OSError, TimeoutError):
                async with self.http.get(
                    f"{self.base}/.well-known/oauth-authorization-server"
                ) as r:
                    if r.status == 200:
                        return
            await asyncio.sleep(0.3)
        raise PeerError("django-oauth-toolkit did not start")

    async def stop(self) -> None:
        """Stop the server."""
        await self.http.close()
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)

    # -- what the suite observes and does at the server ---------------------------------
    async def stats(self) -> dict[str, Any]:
        """Request counters and live refresh tokens (test-only route)."""
        async with self.http.get(f"{self.base}/peers/stats") as resp:
            return await resp.json()  # type: ignore[no-any-return]

    async def token_requests(self, grant: str) -> int:
        """Token requests of one grant type so far."""
        return int((await self.stats())["counts"].get(f"token:{grant}", 0))

    async def api_denials(self) -> int:
        """Protected-resource answers other than 200 so far."""
        counts = (await self.stats())["counts"]
        return sum(
            v for k, v in counts.items() if k.startswith("api:") and k != "api:200"
        )

    async def revoke_all(self) -> None:
        """Revoke every grant, as the server's admin would."""
        async with self.http.post(f"{self.base}/peers/revoke") as resp:
            if resp.status != 200:
                raise PeerError(f"revoke: HTTP {resp.status}")

    async def set_access_ttl(self, seconds: int) -> None:
        """Lifetime of access tokens issued from now on."""
        async with self.http.post(
            f"{self.base}/peers/ttl", json={"seconds": seconds}
        ) as resp:
            if resp.status != 200:
                raise PeerError(f"ttl: HTTP {resp.status}")

    async def live_grants(self) -> int:
        """Refresh tokens of the code client not revoked."""
        live = (await self.stats())["live_refresh_tokens"]
        return int(live.get(self.code_client[0], 0))

    async def revocations(self) -> int:
        """Revocation requests answered 200."""
        return int((await self.stats())["counts"].get("revoke:200", 0))

    # -- the user at the server ---------------------------------------------------------
    async def _login(self, http: ClientSession, next_url: str) -> str:
        """Log in through Django's login form; returns the page after it."""
        url = next_url
        for _ in range(10):
            async with http.get(url, allow_redirects=False) as resp:
                if resp.status in (301, 302, 303):
                    location = resp.headers["Location"]
                    if location.startswith(self.redirect_uri.rsplit("/auth/", 1)[0]):
                        return location  # straight back to HA (already consented)
                    url = str(resp.url.join(URL(location)))
                    continue
                html = await resp.text()
                if resp.status != 200:
                    raise PeerError(
                        f"GET {urlsplit(url).path}: HTTP {resp.status} {html[:200]}"
                    )
            page = forms(html, url)
            if not page:
                raise PeerError(f"no form at {urlsplit(url).path}")
            form = page[0]
            if "password" not in form.fields:
                return f"FORM {url}"
            data = {**form.fields, "username": USER[0], "password": USER[1]}
            async with http.post(form.action, data=data, allow_redirects=False) as resp:
                if resp.status not in (302, 303):
                    raise PeerError(f"login refused: HTTP {resp.status}")
                url = str(resp.url.join(URL(resp.headers["Location"])))
        raise PeerError("too many redirects at the login")

    async def authorize(self, url: str) -> str:
        """Log in and consent in a new browser session; returns the redirect back to HA."""
        async with ClientSession(
            cookie_jar=CookieJar(unsafe=True), timeout=ClientTimeout(total=30)
        ) as http:
            where = await self._login(http, url)
            if not where.startswith("FORM "):
                return where
            page_url = where[5:]
            async with http.get(page_url, allow_redirects=False) as resp:
                html = await resp.text()
            consent = next(
                (f for f in forms(html, page_url) if "allow" in f.buttons), None
            )
            if consent is None:
                raise PeerError(f"no consent form: {html[:300]}")
            data = {**consent.fields, "allow": consent.buttons["allow"]}
            async with http.post(
                consent.action, data=data, allow_redirects=False
            ) as resp:
                if resp.status not in (302, 303):
                    raise PeerError(
                        f"consent: HTTP {resp.status} {(await resp.text())[:300]}"
                    )
                return resp.headers["Location"]

    async def approve_device(self, verification_uri: str, user_code: str) -> None:
        """On "another device": log in, enter the code, accept."""
        async with ClientSession(
            cookie_jar=CookieJar(unsafe=True), timeout=ClientTimeout(total=30)
        ) as http:
            where = await self._login(http, verification_uri)
            page_url = where[5:]
            async with http.get(page_url) as resp:
                html = await resp.text()
            form = forms(html, page_url)[0]
            async with http.post(
                form.action,
                data={**form.fields, "user_code": user_code},
                allow_redirects=True,
            ) as resp:
                html = await resp.text()
                page_url = str(resp.url)
            accept = next(
                (f for f in forms(html, page_url) if "action" in f.buttons), None
            )
            if accept is None:
                raise PeerError(f"no accept form after the user code: {html[:300]}")
            async with http.post(
                accept.action, data={**accept.fields, "action": "accept"}
            ) as resp:
                if resp.status != 200:
                    raise PeerError(f"device accept: HTTP {resp.status}")
