"""Debug endpoints for tests and demos: revoke grants, expire tokens, flip the status.

Also what the API saw: the events (``/demo/events``) and the last write requests
with their bodies (``/demo/requests``).
"""

from __future__ import annotations

from html import escape
import json
from typing import Any

from aiohttp import web

from . import pages
from .api import ApiViews
from .config import DemoConfig
from .store import (
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    PUBLIC_CLIENT_ID,
    Store,
)


class AdminViews:
    """Home page and /demo/* debug endpoints (no authentication: keep the provider local)."""

    def __init__(self, config: DemoConfig, store: Store, api: ApiViews) -> None:
        """Keep the collaborators."""
        self.config = config
        self.store = store
        self.api = api

    def routes(self) -> list[web.RouteDef]:
        """Admin routes under the issuer's path."""
        p = self.config.prefix
        return [
            web.get(f"{p}/", self.home),
            web.get(f"{p}/demo/grants", self.grants),
            web.post(f"{p}/demo/revoke-all", self.revoke_all),
            web.post(f"{p}/demo/expire-tokens", self.expire_tokens),
            web.post(f"{p}/demo/status", self.set_status),
            web.get(f"{p}/demo/events", self.events),
            web.post(f"{p}/demo/faults", self.set_faults),
            web.get(f"{p}/demo/requests", self.requests),
            web.post(f"{p}/demo/requests/clear", self.clear_requests),
        ]

    async def params(self, request: web.Request) -> dict[str, Any]:
        """Query, form or JSON parameters merged."""
        data: dict[str, Any] = dict(request.query)
        if request.can_read_body:
            if request.content_type == "application/json":
                body = await request.json()
                if isinstance(body, dict):
                    data |= body
            else:
                data |= {
                    k: v
                    for k, v in (await request.post()).items()
                    if isinstance(v, str)
                }
        return data

    def reply(self, request: web.Request, result: dict[str, Any]) -> web.StreamResponse:
        """JSON for scripts; back to the home page for the buttons."""
        if "text/html" in request.headers.get("Accept", ""):
            raise web.HTTPSeeOther(f"{self.config.prefix}/")
        return web.json_response(result)

    async def grants(self, request: web.Request) -> web.Response:
        """Live grants as JSON."""
        return web.json_response({"grants": self.store.grants()})

    async def revoke_all(self, request: web.Request) -> web.StreamResponse:
        """Revoke every grant (and browser session) of ``username`` (default demo; '*' = all)."""
        username = str((await self.params(request)).get("username", "demo"))
        count = self.store.revoke_user(None if username == "*" else username)
        return self.reply(request, {"revoked_grants": count, "username": username})

    async def expire_tokens(self, request: web.Request) -> web.StreamResponse:
        """Expire every access token now, so clients must refresh."""
        return self.reply(request, {"expired": self.store.expire_access_tokens()})

    async def set_status(self, request: web.Request) -> web.StreamResponse:
        """Force /api/status online true/false, or back to 'auto'."""
        value = str((await self.params(request)).get("online", "auto")).lower()
        override = {"true": True, "false": False}.get(value)
        self.api.state.online_override = override
        return self.reply(request, {"online": "auto" if override is None else override})

    async def events(self, request: web.Request) -> web.Response:
        """Rotations, reuse detections and API calls after ``after`` (long poll ``wait``)."""
        params = await self.params(request)
        after = int(params.get("after", 0))
        wait = min(float(params.get("wait", 0)), 30.0)
        events = await self.store.events.wait_after(after, wait)
        return web.json_response({"events": events, "seq": self.store.events.seq})

    async def set_faults(self, request: web.Request) -> web.Response:
        """Queue faults: ``{"token": [...], "api": [...]}`` (see demo/faults.py).

        They replace what was queued, or with ``"append": true`` join it.
        """
        body = await request.json()
        body = body if isinstance(body, dict) else {}
        queued = {}
        for key, queue in (
            ("token", self.store.token_faults),
            ("api", self.store.api_faults),
        ):
            faults = [f for f in body.get(key, []) if isinstance(f, dict)]
            if body.get("append") is True:
                queue.extend(faults)
            else:
                queue[:] = faults
            queued[key] = len(queue)
        return web.json_response({"queued": queued})

    async def requests(self, request: web.Request) -> web.Response:
        """The last API write requests, oldest first (method, path, query, body...)."""
        return web.json_response({"requests": list(self.api.requests.requests)})

    async def clear_requests(self, request: web.Request) -> web.StreamResponse:
        """Forget the recorded API write requests."""
        return self.reply(request, {"cleared": self.api.requests.clear()})

    async def home(self, request: web.Request) -> web.Response:
        """What is running, with buttons for the debug actions."""
        c = self.config
        rows = "".join(
            f"<tr><td>{escape(g['client_id'])}</td><td>{escape(str(g['user']))}</td>"
            f"<td>{escape(' '.join(g['scope']))}</td><td>{g['access_token_expires_in']} s</td></tr>"
            for g in self.store.grants()
        )
        body = f"""
<p>Issuer: <code>{escape(c.issuer)}</code><br>
Discovery: <a href="{escape(c.url("/.well-known/openid-configuration"))}">openid-configuration</a><br>
API base: <code>{escape(c.url("/api"))}</code> (e.g. <code>/api/weather</code>)<br>
Access token lifetime: {c.token_ttl} s</p>
<p>User <code>demo</code> / <code>demo</code>.<br>
Clients: <code>{CONFIDENTIAL_CLIENT_ID}</code> / <code>{CONFIDENTIAL_CLIENT_SECRET}</code>
(confidential), <code>{PUBLIC_CLIENT_ID}</code> (public, PKCE).</p>
<h2>Live grants</h2><table><tr><th>Client</th><th>User</th><th>Scope</th><th>Access token</th>
</tr>{rows}</table>
<form method=post action="{escape(c.prefix)}/demo/revoke-all">
<button>Revoke all grants of demo</button></form>
<form method=post action="{escape(c.prefix)}/demo/expire-tokens">
<button>Expire access tokens now</button></form>
<form method=post action="{escape(c.prefix)}/demo/status">
<button name=online value=false>Status: offline</button>
<button name=online value=true>online</button><button name=online value=auto>auto</button></form>
<p class=hint>Grants as JSON: <a href="{escape(c.prefix)}/demo/grants">/demo/grants</a>.
Values: {escape(json.dumps(await self.api.weather(request, None)))}</p>"""  # type: ignore[arg-type]
        body += pages.lamp_section(self.api.state.lamp.as_dict())
        body += pages.messages_section(
            self.api.state.messages.newest_first(), f"{c.prefix}/demo/requests"
        )
        return web.Response(
            text=pages.page("OAuth2 REST demo provider", body), content_type="text/html"
        )
