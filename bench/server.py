"""One local server for the whole run: a tiny OAuth 2.0 provider and a token-checked API.

Everyone (the bare loop, core ``rest`` with a static bearer token, ``oauth2_rest`` with
tokens from ``/token``) gets the same JSON document from ``/api/data``.

- ``GET /authorize`` consents at once: it redirects to ``redirect_uri`` with a code.
- ``POST /token`` issues access tokens (``authorization_code`` and ``refresh_token``).
- ``GET /api/data`` checks the bearer token (401 otherwise). Modes: ``static`` (the
  same document every time, no ETag), ``changing`` (a new document every
  ``--change-period`` seconds, no ETag), ``etag`` (the same document with an ETag; a
  matching ``If-None-Match`` gets 304).
- ``/bench/*`` steers the run: ``mode``, ``expire`` (every issued access token stops
  working, as when they all expire at once), ``stats`` (request counters, per client:
  ``static`` = the static bearer token of core rest and the bare loop, ``floor`` =
  the floor integration's static token, ``oauth`` = tokens issued by ``/token``).
"""

from __future__ import annotations

import argparse
import json
import secrets
import time
from typing import Any

from aiohttp import web

STATIC_TOKEN = "bench-static-token"  # what core rest and the bare loop send
FLOOR_TOKEN = "bench-floor-token"  # what the floor integration (bench_floor) sends
_CLIENTS = {STATIC_TOKEN: "static", FLOOR_TOKEN: "floor"}


def document(generation: int) -> dict[str, Any]:
    """The API's answer: a weather-like document, ~1.5 KB, values moving with time."""
    g = generation
    return {
        "location": {"name": "Bench City", "lat": 52.37, "lon": 4.89, "tz": "UTC"},
        "current": {
            "temperature": round(15 + (g % 100) / 10, 1),
            "humidity": 40 + g % 50,
            "pressure": 1000 + g % 30,
            "wind": {"speed": round(3 + (g % 70) / 10, 1), "direction": (g * 7) % 360},
            "condition": ["sunny", "cloudy", "rain"][g % 3],
            "updated": g,
        },
        "daily": [
            {"day": d, "min": 5 + (g + d) % 7, "max": 15 + (g + d) % 9, "rain": d % 3}
            for d in range(7)
        ],
        "alerts": [],
        "meta": {"source": "bench", "generation": g, "units": "metric"},
    }


class BenchApi:
    """The server's state: issued tokens, mode, counters."""

    def __init__(self, token_ttl: int, change_period: float) -> None:
        """Start in full mode with no tokens issued."""
        self.token_ttl = token_ttl
        self.change_period = change_period
        self.mode = "static"
        self.frozen_generation = int(time.time() / change_period)
        self.access_tokens: set[str] = {STATIC_TOKEN, FLOOR_TOKEN}
        self.refresh_tokens: set[str] = set()
        self.codes: set[str] = set()
        self.stats = {
            f"{client}_{status}": 0
            for client in ("static", "floor", "oauth")
            for status in (200, 304, 401)
        } | {"token": 0}
        self._cache: tuple[int, bytes, str] | None = None

    def _body(self) -> tuple[int, bytes, str]:
        if self.mode == "changing":
            generation = int(time.time() / self.change_period)
        else:
            generation = self.frozen_generation
        if self._cache is None or self._cache[0] != generation:
            body = json.dumps(document(generation)).encode()
            self._cache = (generation, body, f'"g{generation}"')
        return self._cache

    async def authorize(self, request: web.Request) -> web.Response:
        """Consent at once."""
        code = secrets.token_urlsafe(16)
        self.codes.add(code)
        query = request.query
        target = f"{query['redirect_uri']}?code={code}&state={query.get('state', '')}"
        raise web.HTTPFound(target)

    async def token(self, request: web.Request) -> web.Response:
        """Issue tokens for a code or a refresh token."""
        self.stats["token"] += 1
        form = await request.post()
        grant = form.get("grant_type")
        if grant == "authorization_code" and form.get("code") in self.codes:
            self.codes.discard(str(form["code"]))
        elif (
            grant == "refresh_token"
            and form.get("refresh_token") in self.refresh_tokens
        ):
            pass
        else:
            return web.json_response({"error": "invalid_grant"}, status=400)
        access = secrets.token_urlsafe(24)
        refresh = secrets.token_urlsafe(24)
        self.access_tokens.add(access)
        self.refresh_tokens.add(refresh)
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": refresh,
                "token_type": "Bearer",
                "expires_in": self.token_ttl,
            }
        )

    async def data(self, request: web.Request) -> web.Response:
        """The token-checked document."""
        auth = request.headers.get("Authorization", "")
        token = auth[7:] if auth.startswith("Bearer ") else ""
        client = _CLIENTS.get(token, "oauth")
        if token not in self.access_tokens:
            self.stats[f"{client}_401"] += 1
            return web.json_response({"error": "invalid_token"}, status=401)
        _, body, etag = self._body()
        if self.mode == "etag":
            if request.headers.get("If-None-Match") == etag:
                self.stats[f"{client}_304"] += 1
                return web.Response(status=304, headers={"ETag": etag})
            self.stats[f"{client}_200"] += 1
            return web.Response(
                body=body, content_type="application/json", headers={"ETag": etag}
            )
        self.stats[f"{client}_200"] += 1
        return web.Response(body=body, content_type="application/json")

    async def set_mode(self, request: web.Request) -> web.Response:
        """``{"mode": "static" | "changing" | "etag"}``: static and etag freeze the document."""
        payload = await request.json()
        self.mode = payload["mode"]
        self.frozen_generation = int(time.time() / self.change_period)
        return web.json_response({"mode": self.mode})

    async def expire(self, request: web.Request) -> web.Response:
        """Every issued access token stops working (the static ones stay)."""
        self.access_tokens = {STATIC_TOKEN, FLOOR_TOKEN}
        return web.json_response({})

    async def get_stats(self, request: web.Request) -> web.Response:
        """The counters."""
        return web.json_response(self.stats)


def make_app(token_ttl: int = 3600, change_period: float = 5.0) -> web.Application:
    """The server's aiohttp application."""
    api = BenchApi(token_ttl, change_period)
    app = web.Application()
    app.router.add_get("/authorize", api.authorize)
    app.router.add_post("/token", api.token)
    app.router.add_get("/api/data", api.data)
    app.router.add_post("/bench/mode", api.set_mode)
    app.router.add_post("/bench/expire", api.expire)
    app.router.add_get("/bench/stats", api.get_stats)
    return app


def main() -> None:
    """Run the server until killed."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--token-ttl", type=int, default=3600)
    parser.add_argument("--change-period", type=float, default=5.0)
    args = parser.parse_args()
    web.run_app(
        make_app(args.token_ttl, args.change_period),
        host="127.0.0.1",
        port=args.port,
        print=None,
        access_log=None,
    )


if __name__ == "__main__":
    main()
