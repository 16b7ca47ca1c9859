"""Glewlwyd (Debian package) as a peer, behind a small counting proxy.

Glewlwyd listens on PORT + 1; the issuer (its ``external_url``) is a proxy on PORT in this
process that forwards every request untouched and counts token requests by grant type and
userinfo answers by status, as the DOT project's middleware does.
"""

from __future__ import annotations

import asyncio
from collections import Counter
import contextlib
import os
from pathlib import Path
import signal
import sys
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientSession, ClientTimeout, web

from dot_peer import PeerError

HERE = Path(__file__).resolve().parent / "glewlwyd"
USER = {"username": "alice", "password": "wonderland"}
HOP = {"host", "content-length", "transfer-encoding", "connection", "keep-alive"}


class GlewlwydPeer:
    """One Glewlwyd on loopback with its OIDC plugin."""

    name = "Glewlwyd"
    key = "glewlwyd"
    scopes = "openid api"
    code_client = ("ha-code", "ha-code-secret")
    cc_client = ("ha-cc", "ha-cc-secret")
    device_client = ("ha-device", "ha-device-secret")
    endpoint_url = "/api/oidc/userinfo"
    endpoint_template = "{{ value_json.name }}"
    numeric = False
    cc_endpoint = False  # userinfo needs a user
    # Glewlwyd requires a nonce with openid: what a user can add to the authorize request.
    authorize_params = "nonce=peers-suite-fixed-nonce"

    def __init__(self, workdir: Path, port: int, redirect_uri: str) -> None:
        self.workdir = workdir
        self.port = port
        self.inner = f"http://127.0.0.1:{port + 1}"
        self.base = f"http://127.0.0.1:{port}"
        self.issuer = f"{self.base}/api/oidc"
        self.api_base = self.base
        self.redirect_uri = redirect_uri
        self.proc: asyncio.subprocess.Process | None = None
        self.http = ClientSession(
            timeout=ClientTimeout(total=30), auto_decompress=False
        )
        self.counts: Counter[str] = Counter()
        self.runner: web.AppRunner | None = None
        self.key_file = workdir / "oidc-key.pem"

    def discovery_adds(self, grant: str) -> dict[str, Any]:
        """What a user adds on the discovery summary (discovery leaves it out).

        Client credentials: left out of ``grant_types_supported``, although granted.
        """
        if grant == "client_credentials":
            return {"client_credentials": True}
        return {}

    async def version(self) -> str:
        """The Debian package's version."""
        proc = await asyncio.create_subprocess_exec(
            "dpkg-query",
            "-W",
            "-f=${Version}",
            "glewlwyd",
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await proc.communicate()
        return f"glewlwyd {out.decode().strip()} (Debian)"

    # -- the proxy ------------------------------------------------------------------------
    async def _forward(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        headers = {k: v for k, v in request.headers.items() if k.lower() not in HOP}
        path = request.path.rstrip("/")
        async with self.http.request(
            request.method,
            f"{self.inner}{request.path_qs}",
            data=body,
            headers=headers,
            allow_redirects=False,
        ) as resp:
            payload = await resp.read()
            status = resp.status
            out_headers = [
                (k, v) for k, v in resp.headers.items() if k.lower() not in HOP
            ]
        if path == "/api/oidc/token" and request.method == "POST":
            grant = parse_qs(body.decode("utf-8", "replace")).get("grant_type", ["?"])[
                0
            ]
            grant = grant.rsplit(":", 1)[-1]
            self.counts[f"token:{grant}"] += 1
            self.counts[f"token:{grant}:{status}"] += 1
        elif path == "/api/oidc/userinfo":
            self.counts[f"api:{status}"] += 1
        elif path == "/api/oidc/revoke":
            self.counts[f"revoke:{status}"] += 1
        response = web.Response(status=status, body=payload)
        for key, value in out_headers:
            response.headers.add(key, value)
        return response

    # -- process ----------------------------------------------------------------------
    async def start(self, access_ttl: int) -> None:
        """Fresh database, key and config; serve; configure over the admin API; proxy."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if not self.key_file.exists():
            proc = await asyncio.create_subprocess_exec(
                "openssl",
                "genrsa",
                "-out",
                str(self.key_file),
                "2048",
                stderr=asyncio.subprocess.DEVNULL,
            )
            await proc.wait()
        log = (self.workdir / "glewlwyd.log").open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            str(HERE / "start"),
            str(self.workdir / "state"),
            str(self.port + 1),
            self.base,
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
        app = web.Application(client_max_size=16 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._forward)
        self.runner = web.AppRunner(app, access_log=None)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port).start()
        for _ in range(100):
            with contextlib.suppress(OSError, TimeoutError):
                async with self.http.get(f"{self.inner}/config") as resp:
                    if resp.status == 200:
                        break
            if self.proc.returncode is not None:
                raise PeerError(f"Glewlwyd exited, see {self.workdir / 'glewlwyd.log'}")
            await asyncio.sleep(0.3)
        else:
            raise PeerError("Glewlwyd did not start")
        await self._configure(str(access_ttl))

    async def _configure(self, ttl: str, *extra: str) -> None:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            str(HERE / "configure.py"),
            self.inner,
            self.redirect_uri,
            ttl,
            str(self.key_file),
            self.base,
            *extra,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.STDOUT,
        )
        out, _ = await proc.communicate()
        if proc.returncode:
            raise PeerError(f"configure.py: {out.decode()[-300:]}")

    async def stop(self) -> None:
        """Stop the proxy and Glewlwyd."""
        await self.http.close()
        if self.runner is not None:
            await self.runner.cleanup()
        if self.proc is not None and self.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGTERM)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.proc.wait(), 10)

    # -- observing and acting at the server ---------------------------------------------
    async def token_requests(self, grant: str) -> int:
        """Token requests of one grant type so far."""
        return self.counts[f"token:{grant}"]

    async def api_denials(self) -> int:
        """Userinfo answers other than 200 so far."""
        return sum(
            v for k, v in self.counts.items() if k.startswith("api:") and k != "api:200"
        )

    async def revocations(self) -> int:
        """Revocation requests answered 200."""
        return self.counts["revoke:200"]

    async def set_access_ttl(self, seconds: int) -> None:
        """Lifetime of access tokens issued from now on (the plugin is updated)."""
        await self._configure(str(seconds), "--ttl-only")

    async def _session(self) -> str:
        """Alice's session cookie (Glewlwyd's cookie has an empty Domain: kept by hand)."""
        async with self.http.post(f"{self.inner}/api/auth/", json=USER) as resp:
            if resp.status != 200:
                raise PeerError(f"login: HTTP {resp.status}")
            return resp.headers["Set-Cookie"].split(";", 1)[0]

    async def _tokens(self, cookie: str) -> list[dict[str, Any]]:
        async with self.http.get(
            f"{self.inner}/api/oidc/token/?valid=true", headers={"Cookie": cookie}
        ) as resp:
            if resp.status != 200:
                raise PeerError(f"token list: HTTP {resp.status}")
            return await resp.json(content_type=None)  # type: ignore[no-any-return]

    async def revoke_all(self) -> None:
        """Disable all of alice's tokens at once, as her profile page's "disable all" does.

        Only this call (``DELETE /api/oidc/token/``, no hash) disables the access tokens too;
        disabling one refresh token by its hash leaves the access tokens issued from it
        accepted at userinfo until they expire.
        """
        cookie = await self._session()
        async with self.http.delete(
            f"{self.inner}/api/oidc/token/", headers={"Cookie": cookie}
        ) as resp:
            if resp.status != 200:
                raise PeerError(f"disable tokens: HTTP {resp.status}")

    async def live_grants(self) -> int:
        """Enabled refresh tokens of the code client."""
        tokens = await self._tokens(await self._session())
        return sum(
            1
            for t in tokens
            if t.get("client_id") == self.code_client[0] and t.get("enabled", True)
        )

    # -- the user ---------------------------------------------------------------------
    async def _grant(self, cookie: str, client_id: str, scope: str) -> None:
        async with self.http.put(
            f"{self.inner}/api/auth/grant/{client_id}",
            json={"scope": scope},
            headers={"Cookie": cookie},
        ) as resp:
            if resp.status != 200:
                raise PeerError(f"grant: HTTP {resp.status}")

    async def authorize(self, url: str) -> str:
        """Log in and grant (the login page's JSON calls), then continue the authorization."""
        query = parse_qs(urlsplit(url).query)
        cookie = await self._session()
        await self._grant(cookie, query["client_id"][0], query.get("scope", [""])[0])
        inner = url.replace(self.base, self.inner, 1) + "&g_continue"
        async with self.http.get(
            inner, headers={"Cookie": cookie}, allow_redirects=False
        ) as resp:
            location = resp.headers.get("Location", "")
            if resp.status not in (302, 303) or not location:
                raise PeerError(
                    f"authorize: HTTP {resp.status} {(await resp.read())[:200]!r}"
                )
        return location

    async def approve_device(self, verification_uri: str, user_code: str) -> None:
        """Log in, grant, and confirm the user code."""
        cookie = await self._session()
        await self._grant(cookie, self.device_client[0], self.scopes)
        inner = verification_uri.replace(self.base, self.inner, 1)
        sep = "&" if "?" in inner else "?"
        async with self.http.get(
            f"{inner}{sep}code={user_code}&g_continue",
            headers={"Cookie": cookie},
            allow_redirects=False,
        ) as resp:
            location = resp.headers.get("Location", "")
            if "prompt=deviceComplete" not in location and resp.status != 200:
                raise PeerError(f"device: HTTP {resp.status} {location[:200]}")
