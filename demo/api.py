"""A small JSON (and XML) API behind bearer tokens, with values that change over time.

Besides values to read it has things to change (``controls.py``): a lamp to
switch and a message box to notify. Every write request is recorded with its
parsed body (``events.RequestLog``) before it is answered.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import hashlib
import json
import math
import random
from typing import Any
from xml.etree import ElementTree as ET

from aiohttp import web
from authlib.oauth2 import OAuth2Error

from .bodies import Body, declared_type, read_body
from .config import DemoConfig
from .controls import Lamp, MessageBox, Refused
from .events import EventLog, RequestLog, iso
from .faults import answer_fault
from .tokens import Principal, TokenCheck, error_response

READ_SCOPE = "api:read"
WRITE_SCOPE = "api:write"
RATE_WINDOW = 60.0
STATUS_CYCLE = 30  # intervals per online/offline cycle
STATUS_ONLINE = 28  # intervals online in each cycle
READ_METHODS = ("GET", "HEAD")
Handler = Callable[[web.Request, Principal], Awaitable[dict[str, Any]]]


@dataclass(slots=True)
class ApiState:
    """Values the admin endpoints can change; the rest follows the clock."""

    started_bucket: int
    lamp: Lamp
    counter_extra: int = 0
    online_override: bool | None = None
    messages: MessageBox = field(default_factory=MessageBox)
    rate: dict[str, tuple[float, int]] = field(default_factory=dict)


class ApiViews:
    """The /api/* resources."""

    def __init__(self, config: DemoConfig, tokens: TokenCheck) -> None:
        """Start the clock-driven values now."""
        self.config = config
        self.tokens = tokens
        self.state = ApiState(
            started_bucket=self.bucket(), lamp=Lamp(changed_at=config.clock())
        )
        # Where successful API calls are recorded (the provider's event log), and
        # the faults to answer with instead (demo/faults.py).
        self.events: EventLog | None = None
        self.faults: list[dict[str, Any]] = []
        # Every write request as it came, for GET /demo/requests.
        self.requests = RequestLog(config.clock)

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
            web.get(f"{p}/lamp", self.wrap(self.lamp, [READ_SCOPE])),
            web.put(f"{p}/lamp", self.wrap(self.set_lamp, [WRITE_SCOPE])),
            # POST too: what a switch's requests send unless told otherwise.
            web.post(f"{p}/lamp", self.wrap(self.set_lamp, [WRITE_SCOPE])),
            web.post(f"{p}/lamp/toggle", self.wrap(self.toggle_lamp, [WRITE_SCOPE])),
            web.get(f"{p}/messages", self.wrap(self.messages, [READ_SCOPE])),
            web.post(
                f"{p}/messages",
                self.wrap(self.post_message, [WRITE_SCOPE], status=201),
            ),
            web.get(f"{p}/me", self.wrap(self.me, [])),
        ]

    async def _grant_of(self, request: web.Request) -> str:
        """The grant of the request's token, for a fault's event ("" when none)."""
        try:
            principal = await self.tokens.check(request, [])
        except OAuth2Error:
            return ""
        token = principal.token
        return "" if token is None else str(token.grant_id or "")

    def wrap(
        self,
        handler: Handler,
        scopes: list[str],
        xml_root: str | None = None,
        status: int = 200,
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """Add token check, rate limit, ETag and conditional GET around a handler.

        With ``xml_root`` the answer is XML (``application/xml``) instead of JSON;
        ``status`` is the status of a successful answer. A write request (any
        method but GET and HEAD) is recorded first, its answer's status after.
        """
        content_type = "application/xml" if xml_root else "application/json"

        async def answer(
            request: web.Request, write: dict[str, Any] | None
        ) -> web.StreamResponse:
            if self.faults and self.events is not None:
                fault = self.faults.pop(0)
                late = await answer_fault(
                    request, fault, self.events, "api", await self._grant_of(request)
                )
                if late is not None:
                    return late
            try:
                principal = await self.tokens.check(request, scopes)
            except OAuth2Error as error:
                return error_response(error)
            if self.events is not None and principal.token is not None:
                # Path and query tell endpoints that share a resource apart.
                details = {"path": request.path, "query": request.query_string}
                if write is not None:
                    details |= {key: write[key] for key in ("method", "body")}
                self.events.record("api", principal.token.grant_id, **details)
            headers, limited = self.rate_limit(request)
            if limited:
                return web.json_response(
                    {"error": "rate_limited"}, status=429, headers=headers
                )
            try:
                data = await handler(request, principal)
            except web.HTTPException as error:  # a refused body: same headers
                error.headers.update(headers)
                raise
            body = (
                to_xml(xml_root, data) if xml_root else json.dumps(data, sort_keys=True)
            )
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:20] + '"'
            headers |= {"ETag": etag, "Cache-Control": "no-cache"}
            if request.method == "GET" and etag_matches(
                request.headers.get("If-None-Match"), etag
            ):
                return web.Response(status=304, headers=headers)
            return web.Response(
                status=status, text=body, content_type=content_type, headers=headers
            )

        async def view(request: web.Request) -> web.StreamResponse:
            if request.method in READ_METHODS:
                return await answer(request, None)
            write = await self.record_write(request)
            try:
                response = await answer(request, write)
            except web.HTTPException as error:
                write["status"] = error.status
                raise
            write["status"] = response.status
            return response

        return view

    async def record_write(self, request: web.Request) -> dict[str, Any]:
        """Put a write request in the request record; its entry, to add the status to."""
        return self.requests.add(
            request.method,
            request.path,
            dict(request.query),
            declared_type(request),
            await read_body(request),
        )

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
        return iso(self.bucket() * self.config.api_interval)

    async def index(self, request: web.Request, principal: Principal) -> dict[str, Any]:
        """List the resources."""
        return {
            "resources": {
                "/api/weather": READ_SCOPE,
                "/api/weather.xml": READ_SCOPE,
                "/api/status": READ_SCOPE,
                "/api/counter": f"GET {READ_SCOPE}, POST {WRITE_SCOPE}",
                "/api/lamp": f"GET {READ_SCOPE}, PUT or POST {WRITE_SCOPE}",
                "/api/lamp/toggle": f"POST {WRITE_SCOPE}",
                "/api/messages": f"GET {READ_SCOPE}, POST {WRITE_SCOPE}",
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
        if await request.read():  # not can_read_body: the request record read it
            try:
                data = await request.json()
            except ValueError as err:
                raise web.HTTPBadRequest(text='{"error": "invalid_json"}') from err
            amount = int(data.get("amount", 1)) if isinstance(data, dict) else 1
        self.state.counter_extra += amount
        return await self.counter(request, principal)

    async def lamp(self, request: web.Request, principal: Principal) -> dict[str, Any]:
        """The lamp: ``on``, ``brightness`` (0-100) and when either last changed."""
        return self.state.lamp.as_dict()

    async def set_lamp(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Switch or dim the lamp: a JSON object with ``on`` and/or ``brightness``."""
        body = await read_body(request)
        if body.kind != "json":
            raise invalid_request(
                'Send a JSON object such as {"on": true}'
                " with Content-Type: application/json."
            )
        try:
            self.state.lamp.update(body.value, self.config.clock())
        except Refused as err:
            raise invalid_request(str(err)) from err
        return self.state.lamp.as_dict()

    async def toggle_lamp(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Switch the lamp over (any body is ignored)."""
        self.state.lamp.toggle(self.config.clock())
        return self.state.lamp.as_dict()

    async def messages(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """The stored messages, newest first."""
        return {"messages": self.state.messages.newest_first()}

    async def post_message(
        self, request: web.Request, principal: Principal
    ) -> dict[str, Any]:
        """Store a message sent as JSON, form fields, or in the query with no body."""
        fields, source = message_fields(await read_body(request), dict(request.query))
        try:
            return self.state.messages.add(fields, source, self.config.clock())
        except Refused as err:
            raise invalid_request(str(err)) from err

    async def me(self, request: web.Request, principal: Principal) -> dict[str, Any]:
        """Who the token belongs to."""
        return {
            "sub": principal.sub,
            "client_id": principal.client_id,
            "scope": principal.scope,
        }


def invalid_request(description: str) -> web.HTTPBadRequest:
    """A 400 ``invalid_request`` JSON error to raise from a handler."""
    return web.HTTPBadRequest(
        text=json.dumps({"error": "invalid_request", "error_description": description}),
        content_type="application/json",
    )


def message_fields(body: Body, query: dict[str, str]) -> tuple[Any, str]:
    """A message's fields and how they came: the body's, or the query's when it is empty."""
    if body.kind == "none":
        return query, "query"
    if body.kind == "text":
        raise invalid_request(
            "Send the message as a JSON object, as form fields"
            " (application/x-www-form-urlencoded) or in the query with an empty body."
        )
    return body.value, body.kind


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
