"""Replay a provider's documented answers from a loopback server.

A fixture (``fixtures/<preset>.json``) holds what a provider's documentation says
its token endpoint and API answer: token answers to a code exchange and a
refresh, the account's identity, an API answer, and the error answers that mean
a dead token, a dead grant or a passing fault. Each answer names the page it was
written from (``source``).

``ProviderServer`` is one aiohttp server on 127.0.0.1 standing in for all of a
provider's hosts: the preset's URLs keep their paths and get the server's origin
(:func:`relocate`). Each path answers from a script, one answer per request, the
last one repeated; every request is recorded.

An answer is ``{"status", "headers", "json" | "form" | "text"}``. Inside ``json``,
``{"$jwt": {claims}}`` becomes an unsigned-looking JWT carrying those claims and
``"$now+N"`` becomes the Unix time N seconds from now (Strava's ``expires_at``).
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
import json
from pathlib import Path
import time
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from aiohttp.test_utils import TestServer
from yarl import URL

from custom_components.oauth2_rest.oauth.provider import ProviderProfile, load_presets

FIXTURES = Path(__file__).with_name("fixtures")
# The fields of a profile that name a URL the integration requests.
_URL_FIELDS = (
    "authorize_url",
    "token_url",
    "revocation_url",
    "device_authorization_url",
    "userinfo_url",
    "api_base_url",
)


def load_fixture(preset: str) -> dict[str, Any]:
    """The documented answers of one preset."""
    fixture: dict[str, Any] = json.loads(
        (FIXTURES / f"{preset}.json").read_text(encoding="utf-8")
    )
    return fixture


def fixture_presets() -> list[str]:
    """The presets that have a fixture, sorted."""
    return sorted(path.stem for path in FIXTURES.glob("*.json"))


def preset_profile(fixture: Mapping[str, Any]) -> ProviderProfile:
    """The fixture's preset, its placeholders filled as the fixture says."""
    return load_presets()[fixture["preset"]].with_placeholders(
        fixture.get("placeholders", {})
    )


def relocate(profile: ProviderProfile, origin: str) -> ProviderProfile:
    """The profile with every requested URL moved to ``origin``, paths kept."""
    target = URL(origin)
    changes = {
        name: str(
            URL(value)
            .with_scheme(target.scheme)
            .with_host(target.host or "")
            .with_port(target.port)
        )
        for name in _URL_FIELDS
        if (value := getattr(profile, name))
    }
    return ProviderProfile.from_dict({**profile.as_dict(), **changes})


def _jwt(claims: Mapping[str, Any]) -> str:
    def part(data: Mapping[str, Any]) -> str:
        raw = json.dumps(data, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def render(value: Any) -> Any:
    """A fixture's JSON value as the server sends it (JWTs built, times filled)."""
    if isinstance(value, dict):
        if set(value) == {"$jwt"}:
            return _jwt(value["$jwt"])
        return {key: render(item) for key, item in value.items()}
    if isinstance(value, list):
        return [render(item) for item in value]
    if isinstance(value, str) and value.startswith("$now+"):
        return int(time.time()) + int(value.removeprefix("$now+"))
    return value


def _response(answer: Mapping[str, Any]) -> web.Response:
    status = answer.get("status", 200)
    headers = dict(answer.get("headers", {}))
    if "json" in answer:
        return web.json_response(render(answer["json"]), status=status, headers=headers)
    if "form" in answer:
        return web.Response(
            text=urlencode(answer["form"]),
            status=status,
            headers=headers,
            content_type="application/x-www-form-urlencoded",
        )
    return web.Response(
        text=answer.get("text", ""),
        status=status,
        headers=headers,
        content_type=answer.get("content_type", "text/plain"),
    )


@dataclass(slots=True)
class Request:
    """One request the provider received."""

    method: str
    path: str
    headers: dict[str, str]
    form: dict[str, str]


@dataclass(slots=True)
class ProviderServer:
    """A provider's hosts on one loopback origin, answering from scripts."""

    origin: str = ""
    scripts: dict[str, list[Mapping[str, Any]]] = field(default_factory=dict)
    seen: list[Request] = field(default_factory=list)

    def answer(self, path: str, *answers: Mapping[str, Any]) -> None:
        """Answer requests to ``path`` with ``answers`` in turn, the last repeated."""
        self.scripts[path] = list(answers)

    def reset(self) -> None:
        """Forget every script and every request."""
        self.scripts.clear()
        self.seen.clear()

    def requests(self, path: str) -> list[Request]:
        """The requests received for ``path``."""
        return [request for request in self.seen if request.path == path]

    async def _handle(self, request: web.Request) -> web.Response:
        form = dict(await request.post()) if request.method == "POST" else {}
        self.seen.append(
            Request(
                request.method,
                request.path,
                dict(request.headers),
                {key: str(value) for key, value in form.items()},
            )
        )
        script = self.scripts.get(request.path)
        if not script:
            return web.json_response({"error": "not scripted"}, status=404)
        return _response(script.pop(0) if len(script) > 1 else script[0])


@asynccontextmanager
async def start_provider() -> AsyncIterator[ProviderServer]:
    """Run a ProviderServer on 127.0.0.1 for the test's duration."""
    provider = ProviderServer()
    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", provider._handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    provider.origin = str(server.make_url("")).rstrip("/")
    try:
        yield provider
    finally:
        await server.close()
