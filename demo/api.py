"""A small JSON (and XML) API behind bearer tokens, with values that change over time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
import hashlib
import json
import math
import random
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web
from authlib.oauth2 import OAuth2Error

from .config import DemoConfig
from .events import EventLog
from .faults import answer_fault
from .tokens import Principal, TokenCheck, error_response

READ_SCOPE = "api:read"
WRITE_SCOPE = "api:write"
RATE_WINDOW = 60.0
STATUS_CYCLE = 30  # intervals per online/offline cycle
STATUS_ONLINE = 28  # intervals online in each cycle
Handler = Callable[[web.Request, Principal], Awaitable[dict[str, Any]]]


@dataclass(slots=True)
class ApiState:
    """Values the admin endpoints can change; the rest follows the clock."""

    started_bucket: int
    counter_extra: int = 0
    online_override: bool | None = None
    rate: dict[str, tuple[float, int]] = field(default_factory=dict)


class ApiViews:
    """The /api/* resources."""

    def __init__(self, config: DemoConfig, tokens: TokenCheck) -> None:
        """Start the clock-driven values now."""
        self.config = config
        self.tokens = tokens
        self.state = ApiState(started_bucket=self.bucket())
        # Where successful API calls are recorded (the provider's event log), and
        # the faults to answer with instead (demo/faults.py).
        self.events: EventLog | None = None
        self.faults: list[dict[str, Any]] = []

    def bucket(self) -> int:
        """Index of the current update interval: values only change between buckets."""
        return int(self.config.clock() // self.config.api_interval)

    def routes(self) -> list[web.RouteDef]:
        """API routes under the issuer's path."""
        p = f"{self.config.prefix}/api"
        return [
            web.get(f"{p}/", self.wrap(self.index, [])),
            web.get(f"{p}/weather", self.wrap(self.weather, [READ_SCOPE])),
            web.get(
                f"{p}/weather.xml",
                self.wrap(self.weather, [READ_SCOPE], xml_root="weather"),
            ),
            web.get(f"{p}/status", self.wrap(self.status, [READ_SCOPE])),
            web.get(f"{p}/counter", self.wrap(self.counter, [READ_SCOPE])),
            web.post(f"{p}/counter", self.wrap(self.increment, [WRITE_SCOPE])),
            web.get(f"{p}/me", self.wrap(self.me, [])),
        ]

    def wrap(
        self, handler: Handler, scopes: list[str], xml_root: str | None = None
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Add token check, rate limit, ETag and conditional GET around a handler.

        With ``xml_root`` the answer is XML (``application/xml``) instead of JSON.
        """
        content_type = "application/xml" if xml_root else "application/json"

        async def view(request: web.Request) -> web.StreamResponse:
            if self.faults and self.events is not None:
                fault = self.faults.pop(0)
                return await answer_fault(request, fault, self.events, "api")
            try:
                principal = await self.tokens.check(request, scopes)
            except OAuth2Error as error:
                return error_response(error)
            if self.events is not None and principal.token is not None:
                self.events.record("api", principal.token.grant_id)
            headers, limited = self.rate_limit(request)
            if limited:
                return web.json_response(
                    {"error": "rate_limited"}, status=429, headers=headers
                )
            data = await handler(request, principal)
            body = (
                to_xml(xml_root, data) if xml_root else json.dumps(data, sort_keys=True)
            )
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
            headers |= {"ETag": etag, "Cache-Control": "no-cache"}
            if request.method == "GET" and etag_matches(
                request.headers.get("If-None-Match"), etag
            ):
                return web.Response(status=304, headers=headers)
            return web.Response(text=body, content_type=content_type, headers=headers)

        return view

    def rate_limit(self, request: web.Request) -> tuple[dict[str, str], bool]:
        """Fixed one-minute window per token; 0 disables."""
        limit = self.config.rate_limit
        if limit <= 0:
            return {}, False
        key = hashlib.sha256(
            request.headers.get("Authorization", "").encode()
        ).hexdigest()
        now = self.config.clock()
        start, used = self.state.rate.get(key, (now, 0))
        if now - start >= RATE_WINDOW:
            start, used = now, 0
        used += 1
        self.state.rate[key] = (start, used)
        reset = max(0, math.ceil(start + RATE_WINDOW - now))
        headers = {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Remaining": str(max(0, limit - used)),
            "X-RateLimit-Reset": str(reset),
        }
        if used > limit:
            headers["Retry-After"] = str(reset)
            return headers, True
        return headers, False

    def updated_at(self) -> str:
        """Start of the current bucket, ISO 8601."""
        start = self.bucket() * self.config.api_interval
        return datetime.fromtimestamp(start, UTC).isoformat()

    async def index(self, request: web.Request, principal: Principal) -> dict[str, Any]:
        """List the resources."""
        return {
            "resources": {
                "/api/weather": READ_SCOPE,
                "/api/weather.xml": READ_SCOPE,
                "/api/status": READ_SCOPE,
                "/api/counter": f"GET {READ_SCOPE}, POST {WRITE_SCOPE}",
                "/api/me": "any valid token",
            }
        }

    async def weather(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Temperature and humidity drifting slowly over time."""
        b = self.bucket()
        noise = random.Random(b)  # noqa: S311 - deterministic demo values, not security
        return {
            "temperature": round(
                20 + 4 * math.sin(b / 30) + noise.uniform(-0.3, 0.3), 1
            ),
            "humidity": round(50 + 12 * math.cos(b / 45) + noise.uniform(-1, 1)),
            "pressure": round(1013 + 6 * math.sin(b / 90), 1),
            "condition": ("sunny", "cloudy", "rainy")[(b // 30) % 3],
            "unit": "°C",
            "location": {"name": "Demo City", "latitude": 52.37, "longitude": 4.89},
            "updated_at": self.updated_at(),
        }

    async def status(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """A service status that goes offline for two intervals out of thirty."""
        b = self.bucket()
        online = self.state.online_override
        if online is None:
            online = b % STATUS_CYCLE < STATUS_ONLINE
        return {
            "online": online,
            "uptime": int((b - self.state.started_bucket) * self.config.api_interval),
            "version": "1.0.0",
            "updated_at": self.updated_at(),
        }

    async def counter(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Counts intervals since start, plus POSTed increments."""
        return {
            "value": self.bucket()
            - self.state.started_bucket
            + self.state.counter_extra
        }

    async def increment(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Add ``amount`` (JSON body, default 1) to the counter."""
        amount = 1
        if request.can_read_body:
            try:
                data = await request.json()
            except ValueError as err:
                raise web.HTTPBadRequest(text='{"error": "invalid_json"}') from err
            amount = int(data.get("amount", 1)) if isinstance(data, dict) else 1
        self.state.counter_extra += amount
        return await self.counter(request, principal)

    async def me(self, request: web.Request, principal: Principal) -> dict[str, Any]:
        """Who the token belongs to."""
        return {
            "sub": principal.sub,
            "client_id": principal.client_id,
            "scope": principal.scope,
        }


def to_xml(root: str, data: dict[str, Any]) -> str:
    """``data`` as an XML document: nested dicts become elements, ``unit`` an attribute.

    ``{"temperature": 20.5, "unit": "°C", "location": {"name": "Demo City"}}``
    becomes ``<weather unit="°C"><temperature>20.5</temperature><location>
    <name>Demo City</name></location></weather>``.
    """

    def fill(element: ET.Element, values: dict[str, Any]) -> None:
        for key, value in values.items():
            if key == "unit" and element.tag == root:
                element.set(key, str(value))
            elif isinstance(value, dict):
                fill(ET.SubElement(element, key), value)
            else:
                ET.SubElement(element, key).text = str(value)

    element = ET.Element(root)
    fill(element, data)
    return '<?xml version="1.0" encoding="UTF-8"?>' + ET.tostring(
        element, encoding="unicode"
    )


def etag_matches(header: str | None, etag: str) -> bool:
    """RFC 9110 weak comparison against an If-None-Match header."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    wanted = etag.removeprefix("W/")
    return any(tag.strip().removeprefix("W/") == wanted for tag in header.split(","))
