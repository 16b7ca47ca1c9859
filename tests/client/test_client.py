"""The HA-agnostic client against a real HTTP server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import functools
import gzip
import json
from pathlib import Path
import re
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
import pytest

from custom_components.oauth2_rest.client.auth import AbstractAuth, OriginPolicy
from custom_components.oauth2_rest.client.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
    ApiTimeoutError,
    InvalidBodyError,
    InvalidHeaderError,
    InvalidUrlError,
    OriginNotAllowedError,
    RedirectRefusedError,
    ResponseTooLargeError,
    TooManyRedirectsError,
    UnsafeRedirectError,
)
from custom_components.oauth2_rest.client.response import (
    MAX_JSON_DEPTH,
    ApiResponse,
    ConditionalState,
    JsonTooDeepError,
    RateLimit,
    loads_json,
    rate_limit_remaining,
    rate_limit_reset,
    retry_after_seconds,
)
from custom_components.oauth2_rest.client.urls import http_url, parse_origin

# Real sockets, on 127.0.0.1 only.
pytestmark = pytest.mark.usefixtures("socket_enabled")


@dataclass
class Seen:
    """What the servers received."""

    requests: list[tuple[str, str, str | None]] = field(default_factory=list)
    inspected: list[dict[str, Any]] = field(default_factory=list)


class StaticAuth(AbstractAuth):
    """Hands out numbered tokens; a forced refresh moves to the next one."""

    def __init__(
        self,
        websession: ClientSession,
        base: str,
        allowed_origins: tuple[str, ...] = (),
        **kwargs: Any,
    ) -> None:
        """Start at token-1."""
        super().__init__(websession, OriginPolicy(base, allowed_origins), **kwargs)
        self.number = 1
        self.refreshes = 0

    async def async_get_access_token(self) -> str:
        """Return the current token."""
        return f"token-{self.number}"

    async def async_force_refresh(self, rejected_token: str) -> str:
        """Move on to a new token."""
        self.refreshes += 1
        self.number += 1
        return f"token-{self.number}"


def make_app(seen: Seen, name: str) -> web.Application:
    """An API whose routes exercise each client behaviour."""

    async def slow(request: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response(text="late")

    async def record(request: web.Request) -> None:
        seen.requests.append(
            (name, request.path_qs, request.headers.get("Authorization"))
        )

    async def data(request: web.Request) -> web.Response:
        await record(request)
        if request.headers.get("If-None-Match") == '"v1"':
            return web.Response(status=304)
        return web.json_response(
            {"value": 42, "q": request.query.get("q")},
            headers={"ETag": '"v1"', "X-RateLimit-Remaining": "17"},
        )

    async def only_token_2(request: web.Request) -> web.Response:
        await record(request)
        if request.headers.get("Authorization") != "Bearer token-2":
            return web.Response(status=401)
        return web.json_response({"ok": True})

    async def always_401(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(status=401)

    async def status(request: web.Request) -> web.Response:
        await record(request)
        code = int(request.match_info["code"])
        headers = {"Retry-After": "120"} if code in (429, 503) else {}
        return web.Response(status=code, text="nope", headers=headers)

    async def big(request: web.Request) -> web.StreamResponse:
        await record(request)
        response = web.StreamResponse()  # chunked: no Content-Length to trust
        await response.prepare(request)
        for _ in range(64):
            await response.write(b"x" * 65536)
        await response.write_eof()
        return response

    async def declared_big(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(body=b"y" * 20_000)

    async def gzip_bomb(request: web.Request) -> web.Response:
        await record(request)
        # 2 MiB of zeros in a few KB, with an honest (compressed) Content-Length.
        return web.Response(
            body=gzip.compress(b"0" * (2 * 1024 * 1024)),
            headers={"Content-Encoding": "gzip", "Content-Type": "text/plain"},
        )

    async def redirect(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound(request.query["to"])

    async def loop(request: web.Request) -> web.Response:
        await record(request)
        raise web.HTTPFound("/loop")

    async def text(request: web.Request) -> web.Response:
        await record(request)
        return web.Response(text="plain words")

    async def echo(request: web.Request) -> web.Response:
        await record(request)
        return web.json_response(
            {
                "method": request.method,
                "body": await request.json(),
                "x": request.headers.get("X-Test"),
            }
        )

    async def hop(request: web.Request) -> web.Response:
        """Redirect any method with the status and Location the query asks for."""
        await record(request)
        return web.Response(
            status=int(request.query["code"]),
            headers={"Location": request.query["to"]},
        )

    async def inspect(request: web.Request) -> web.Response:
        """Record what arrived: method, body and the interesting headers."""
        await record(request)
        seen.inspected.append(
            {
                "server": name,
                "method": request.method,
                "body": await request.text(),
                "authorization": request.headers.get("Authorization"),
                "x_api_key": request.headers.get("X-Api-Key"),
                "content_type": request.headers.get("Content-Type"),
            }
        )
        return web.json_response({"server": name})

    app = web.Application()
    app.router.add_route("*", "/v1/hop", hop)
    app.router.add_route("*", "/inspect", inspect)
    app.router.add_get("/v1/data", data)
    app.router.add_get("/v1/only-token-2", only_token_2)
    app.router.add_get("/v1/always-401", always_401)
    app.router.add_get("/v1/status/{code}", status)
    app.router.add_get("/v1/big", big)
    app.router.add_get("/v1/declared-big", declared_big)
    app.router.add_get("/v1/gzip-bomb", gzip_bomb)
    app.router.add_get("/v1/redirect", redirect)
    app.router.add_get("/loop", loop)
    app.router.add_get("/v1/text", text)
    app.router.add_get("/landing", data)
    app.router.add_post("/v1/echo", echo)
    app.router.add_get("/v1/slow", slow)
    return app


@pytest.fixture
def seen() -> Seen:
    """Requests received by the servers."""
    return Seen()


@pytest.fixture
async def servers(seen: Seen) -> AsyncIterator[tuple[str, str]]:
    """The API server and a second, foreign origin."""
    api = TestServer(make_app(seen, "api"), host="127.0.0.1")
    other = TestServer(make_app(seen, "other"), host="127.0.0.1")
    await api.start_server()
    await other.start_server()
    yield str(api.make_url("/v1")), str(other.make_url("/")).rstrip("/")
    await api.close()
    await other.close()


@pytest.fixture
async def auth(servers: tuple[str, str]) -> AsyncIterator[StaticAuth]:
    """A client for the API server."""
    async with ClientSession() as session:
        yield StaticAuth(session, servers[0], max_response_bytes=1024 * 1024)


CLIENT_DIR = Path(__file__).parents[2] / "custom_components/oauth2_rest/client"
# Any import of Home Assistant, or of the integration around the client.
_FORBIDDEN_IMPORT = re.compile(
    r"^\s*(from\s+(homeassistant\b|\.\.|custom_components\.oauth2_rest\.(?!client\b))"
    r"|import\s+homeassistant\b)",
    re.M,
)


def test_no_homeassistant_import() -> None:
    """The client layer is HA-agnostic: no file of it imports HA or the integration."""
    sources = sorted(CLIENT_DIR.glob("*.py"))
    assert len(sources) >= 4
    for path in sources:
        source = path.read_text(encoding="utf-8")
        assert not _FORBIDDEN_IMPORT.search(source), path.name


@pytest.mark.parametrize(
    "line",
    [
        "from homeassistant.core import HomeAssistant",
        "import homeassistant",
        "from ..const import DOMAIN",
        "from custom_components.oauth2_rest.const import DOMAIN",
        "    from .. import api",
    ],
)
def test_forbidden_import_pattern(line: str) -> None:
    """The check above catches every way of reaching outside the client."""
    assert _FORBIDDEN_IMPORT.search(f"x = 1\n{line}\n")
    assert not _FORBIDDEN_IMPORT.search("from .errors import ApiError\n")


async def test_relative_path_query_and_token(auth: StaticAuth, seen: Seen) -> None:
    """A path joins the base URL; the token goes in the Authorization header."""
    response = await auth.request("GET", "data", params={"q": "x y"})
    assert response.status == 200
    assert response.json() == {"value": 42, "q": "x y"}
    assert response.rate_limit_remaining == 17
    assert seen.requests == [("api", "/v1/data?q=x+y", "Bearer token-1")]


async def test_conditional_request_304(auth: StaticAuth, seen: Seen) -> None:
    """The ETag is sent back; a 304 is returned, not raised."""
    first = await auth.request("GET", "/data")
    assert first.conditional_state == ConditionalState(etag='"v1"')
    second = await auth.request("GET", "/data", conditional=first.conditional_state)
    assert second.not_modified
    assert second.body == b""


async def test_401_refreshes_once_and_retries(auth: StaticAuth, seen: Seen) -> None:
    """401 with a token that looked valid: one refresh, one retry."""
    response = await auth.request("GET", "only-token-2")
    assert response.json() == {"ok": True}
    assert auth.refreshes == 1
    assert [r[2] for r in seen.requests] == ["Bearer token-1", "Bearer token-2"]


async def test_second_401_is_auth_error(auth: StaticAuth, seen: Seen) -> None:
    """A 401 that survives the refresh means the grant no longer works."""
    with pytest.raises(ApiAuthError):
        await auth.request("GET", "always-401")
    assert auth.refreshes == 1
    assert len(seen.requests) == 2


async def test_401_from_another_origin_is_not_about_the_token(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """A redirect target's 401 (it never got the token) forces no refresh."""
    with pytest.raises(ApiResponseError) as raised:
        await auth.request(
            "GET", "redirect", params={"to": f"{servers[1]}/v1/always-401"}
        )
    assert not isinstance(raised.value, ApiAuthError)
    assert raised.value.status == 401
    assert auth.refreshes == 0
    assert seen.requests[1] == ("other", "/v1/always-401", None)


class FixedAuth(AbstractAuth):
    """A client that cannot refresh: the default force refresh."""

    async def async_get_access_token(self) -> str:
        """Always the same token."""
        return "token-1"


async def test_default_force_refresh_retries_same_token(
    servers: tuple[str, str], seen: Seen
) -> None:
    """Without a refresh the retry uses the current token, then gives up."""
    async with ClientSession() as session:
        client = FixedAuth(session, OriginPolicy(servers[0]))
        with pytest.raises(ApiAuthError):
            await client.request("GET", "always-401")
    assert [r[2] for r in seen.requests] == ["Bearer token-1", "Bearer token-1"]


@pytest.mark.parametrize(
    ("code", "error"),
    [
        (403, ApiForbiddenError),
        (404, ApiNotFoundError),
        (500, ApiResponseError),
        (429, ApiRateLimitedError),
        (503, ApiRateLimitedError),
    ],
)
async def test_error_statuses(
    auth: StaticAuth, code: int, error: type[Exception]
) -> None:
    """Error statuses raise typed errors; 429/503 carry Retry-After."""
    with pytest.raises(error) as raised:
        await auth.request("GET", f"status/{code}")
    assert raised.value.status == code  # type: ignore[attr-defined]
    if isinstance(raised.value, ApiRateLimitedError):
        assert raised.value.retry_after == 120
    not_raised = await auth.request("GET", f"status/{code}", raise_for_status=False)
    assert not_raised.status == code
    assert not_raised.text == "nope"


async def test_streamed_body_over_cap_is_refused(auth: StaticAuth) -> None:
    """Reading stops as soon as the body exceeds the cap."""
    with pytest.raises(ResponseTooLargeError) as raised:
        await auth.request("GET", "big")
    assert raised.value.limit == 1024 * 1024


async def test_declared_length_over_cap_is_refused(servers: tuple[str, str]) -> None:
    """A Content-Length over the cap is refused before reading."""
    async with ClientSession() as session:
        small = StaticAuth(session, servers[0], max_response_bytes=10_000)
        with pytest.raises(ResponseTooLargeError):
            await small.request("GET", "declared-big")


async def test_compressed_body_over_cap_is_refused(auth: StaticAuth) -> None:
    """A small declared (compressed) length does not let a big body through.

    The cap applies to what is decompressed: a body read in one go because its
    Content-Length is under the cap would have been 2 MiB.
    """
    with pytest.raises(ResponseTooLargeError):
        await auth.request("GET", "gzip-bomb")


async def test_declared_length_within_cap_is_read_whole(auth: StaticAuth) -> None:
    """An uncompressed body whose Content-Length is within the cap arrives whole."""
    response = await auth.request("GET", "declared-big")
    assert response.body == b"y" * 20_000


async def test_other_origin_refused_before_connecting(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """The token never goes to an origin that is not allowed."""
    with pytest.raises(OriginNotAllowedError) as raised:
        await auth.request("GET", f"{servers[1]}/landing")
    assert raised.value.origin == servers[1]
    with pytest.raises(InvalidUrlError):
        await auth.request("GET", "ftp://127.0.0.1/file")
    assert seen.requests == []


@pytest.mark.parametrize(
    "url", ["http://[::1", "https://127.0.0.1:99999/x", "//127.0.0.1:99999/x"]
)
async def test_malformed_url_refused_before_connecting(
    auth: StaticAuth, seen: Seen, url: str
) -> None:
    """A malformed URL is a typed error raised before any connection."""
    with pytest.raises(InvalidUrlError) as raised:
        await auth.request("GET", url)
    assert "99999" not in str(raised.value)
    assert seen.requests == []


async def test_allowed_extra_origin(servers: tuple[str, str], seen: Seen) -> None:
    """An explicitly allowed origin gets the token."""
    async with ClientSession() as session:
        client = StaticAuth(session, servers[0], allowed_origins=(servers[1],))
        await client.request("GET", f"{servers[1]}/landing")
    assert seen.requests == [("other", "/landing", "Bearer token-1")]


async def test_cross_origin_redirect_drops_token(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """A redirect to another origin is followed without the Authorization header."""
    response = await auth.request(
        "GET", "redirect", params={"to": f"{servers[1]}/landing"}
    )
    assert response.json()["value"] == 42
    assert seen.requests[0][2] == "Bearer token-1"
    assert seen.requests[1] == ("other", "/landing", None)


async def test_same_origin_redirect_keeps_token(auth: StaticAuth, seen: Seen) -> None:
    """A redirect within the origin keeps the token."""
    await auth.request("GET", "redirect", params={"to": "/v1/data"})
    assert seen.requests[1] == ("api", "/v1/data", "Bearer token-1")


@pytest.mark.parametrize("code", [301, 302, 303])
async def test_cross_origin_redirect_drops_headers_and_body(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen, code: int
) -> None:
    """Another origin gets neither the token, the caller's headers nor the body.

    301/302/303 of a POST continue as a GET without the body, as browsers do.
    """
    response = await auth.request(
        "POST",
        "hop",
        params={"code": str(code), "to": f"{servers[1]}/inspect"},
        headers={"X-Api-Key": "key-1"},
        json={"secret": "body"},
    )
    assert response.json() == {"server": "other"}
    assert seen.inspected == [
        {
            "server": "other",
            "method": "GET",
            "body": "",
            "authorization": None,
            "x_api_key": None,
            "content_type": None,
        }
    ]


async def test_same_origin_302_of_post_continues_as_get(
    auth: StaticAuth, seen: Seen
) -> None:
    """Within the origin the token and headers stay; the method becomes GET."""
    await auth.request(
        "PUT",
        "hop",
        params={"code": "302", "to": "/inspect"},
        headers={"X-Api-Key": "key-1", "Content-Type": "application/json"},
        data='{"a": 1}',
    )
    assert seen.inspected == [
        {
            "server": "api",
            "method": "GET",
            "body": "",
            "authorization": "Bearer token-1",
            "x_api_key": "key-1",
            "content_type": None,
        }
    ]


@pytest.mark.parametrize("code", [307, 308])
async def test_same_origin_307_308_keep_method_and_body(
    auth: StaticAuth, seen: Seen, code: int
) -> None:
    """307/308 within the origin resend the method, body, headers and token."""
    await auth.request(
        "POST",
        "hop",
        params={"code": str(code), "to": "/inspect"},
        headers={"X-Api-Key": "key-1"},
        data="payload",
    )
    assert seen.inspected == [
        {
            "server": "api",
            "method": "POST",
            "body": "payload",
            "authorization": "Bearer token-1",
            "x_api_key": "key-1",
            "content_type": "text/plain; charset=utf-8",
        }
    ]


@pytest.mark.parametrize("code", [307, 308])
async def test_cross_origin_307_308_with_body_refused(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen, code: int
) -> None:
    """A 307/308 would resend the body to another origin: refused, nothing sent."""
    with pytest.raises(RedirectRefusedError):
        await auth.request(
            "POST",
            "hop",
            params={"code": str(code), "to": f"{servers[1]}/inspect"},
            json={"secret": "body"},
        )
    assert seen.inspected == []
    assert [r[0] for r in seen.requests] == ["api"]


async def test_cross_origin_307_without_body_keeps_method(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """A bodiless 307 to another origin keeps the method, without token or headers."""
    await auth.request(
        "DELETE",
        "hop",
        params={"code": "307", "to": f"{servers[1]}/inspect"},
        headers={"X-Api-Key": "key-1"},
    )
    assert seen.inspected == [
        {
            "server": "other",
            "method": "DELETE",
            "body": "",
            "authorization": None,
            "x_api_key": None,
            "content_type": None,
        }
    ]


async def test_head_303_stays_head(auth: StaticAuth, seen: Seen) -> None:
    """A 303 of a HEAD stays a HEAD."""
    response = await auth.request(
        "HEAD", "hop", params={"code": "303", "to": "/inspect"}
    )
    assert response.status == 200
    assert seen.inspected[0]["method"] == "HEAD"


async def test_redirect_to_invalid_url(auth: StaticAuth) -> None:
    """A malformed Location is an error response, not a crash."""
    with pytest.raises(ApiResponseError) as raised:
        await auth.request("GET", "hop", params={"code": "302", "to": "http://[::1"})
    assert raised.value.status == 302


async def test_redirect_loop(auth: StaticAuth) -> None:
    """Redirects are bounded."""
    with pytest.raises(TooManyRedirectsError):
        await auth.request("GET", "redirect", params={"to": "/loop"})


async def test_text_body_and_post_json(auth: StaticAuth) -> None:
    """Non-JSON stays text; JSON bodies and headers are sent."""
    response = await auth.request("GET", "text")
    assert response.json_or_none() is None
    assert response.text == "plain words"
    echoed = await auth.request(
        "POST", "echo", json={"a": 1}, headers={"X-Test": "yes"}
    )
    assert echoed.json() == {"method": "POST", "body": {"a": 1}, "x": "yes"}


async def test_connection_error(servers: tuple[str, str]) -> None:
    """No response at all is a connection error, without the token in the message."""
    async with ClientSession() as session:
        client = StaticAuth(session, "http://127.0.0.1:9/v1")
        with pytest.raises(ApiConnectionError) as raised:
            await client.request("GET", "data")
    assert "token" not in str(raised.value)


def test_rate_limit_headers() -> None:
    """The three header conventions of remaining requests."""
    assert rate_limit_remaining({"X-RateLimit-Remaining": "5"}) == 5
    assert rate_limit_remaining({"RateLimit-Remaining": "7, 100;w=60"}) == 7
    assert rate_limit_remaining({"RateLimit": '"default";r=3;t=10'}) == 3
    assert (
        rate_limit_remaining({"RateLimit": "limit=100, remaining=4, reset=5"}) is None
    )
    assert rate_limit_remaining({"X-RateLimit-Remaining": "many"}) is None
    assert rate_limit_remaining({}) is None


def test_rate_limit_reset_headers() -> None:
    """Seconds to the reset: delta seconds, a Unix time, or the IETF draft's t=."""
    now = 1_800_000_000.0
    assert rate_limit_reset({"RateLimit-Reset": "30"}, now) == 30
    assert rate_limit_reset({"X-RateLimit-Reset": str(int(now) + 90)}, now) == 90
    assert rate_limit_reset({"RateLimit": '"default";r=3;t=10'}, now) == 10
    assert rate_limit_reset({"X-RateLimit-Reset": "soon"}, now) is None
    assert rate_limit_reset({"X-RateLimit-Reset": "nan"}, now) is None
    assert rate_limit_reset({"X-RateLimit-Reset": str(int(now) - 5)}, now) is None
    assert rate_limit_reset({"RateLimit-Reset": "9999999"}, now) is None
    assert rate_limit_reset({}, now) is None
    assert rate_limit_reset({"RateLimit": "limit=1"}, now) is None
    response = ApiResponse(
        status=200,
        headers={"RateLimit-Remaining": "4", "RateLimit-Reset": "60"},
        body=b"",
        url="",
    )
    assert response.rate_limit == RateLimit(remaining=4, reset_in=60)


def test_retry_after_parsing() -> None:
    """Seconds or an HTTP date."""
    assert retry_after_seconds("30") == 30
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
    assert retry_after_seconds("Sun, 06 Nov 1994 08:50:37 GMT", now=now) == 60
    assert retry_after_seconds("Sun, 06 Nov 1994 08:48:37 GMT", now=now) == 0


def test_deeply_nested_json_is_not_json() -> None:
    """JSON nested deeper than the parser can go is treated as not JSON."""
    depth = 200_000
    response = ApiResponse(
        status=200, headers={}, body=b"[" * depth + b"]" * depth, url=""
    )
    assert response.json_or_none() is None


async def test_every_response_is_heard(servers: tuple[str, str]) -> None:
    """``on_response`` hears each response read, error statuses included."""
    heard: list[int] = []
    async with ClientSession() as session:
        client = StaticAuth(
            session, servers[0], on_response=lambda r: heard.append(r.status)
        )
        await client.request("GET", "data")
        with pytest.raises(ApiRateLimitedError):
            await client.request("GET", "status/429")
    assert heard == [200, 429]


async def test_timeout_is_its_own_error(servers: tuple[str, str]) -> None:
    """No answer in time: a timeout, which is a connection error too."""
    async with ClientSession() as session:
        client = StaticAuth(session, servers[0])
        with pytest.raises(ApiTimeoutError) as raised:
            await client.request("GET", "slow", timeout=0.05)
    assert isinstance(raised.value, ApiConnectionError)
    assert raised.value.translation_key == "timeout"


@pytest.mark.parametrize(
    ("error", "key", "placeholders"),
    [
        (
            OriginNotAllowedError("https://x.example"),
            "origin_not_allowed",
            {"origin": "https://x.example"},
        ),
        (InvalidUrlError("bad"), "invalid_url", {}),
        (ApiConnectionError("down"), "cannot_connect", {}),
        (ApiTimeoutError("slow"), "timeout", {}),
        (ApiResponseError(500), "http_error", {"status": "500"}),
        (ApiNotFoundError(404), "not_found", {"status": "404"}),
        (ApiAuthError(401), "unauthorized", {"status": "401"}),
        (ApiForbiddenError(403), "forbidden", {"status": "403"}),
        (ApiRateLimitedError(429, 5), "rate_limited", {"status": "429"}),
        (ResponseTooLargeError(10), "too_large", {"limit": "10"}),
        (RedirectRefusedError("x"), "redirect_refused", {}),
        (UnsafeRedirectError("x"), "unsafe_redirect", {}),
        (InvalidHeaderError("x"), "invalid_headers", {}),
        (InvalidBodyError("x"), "invalid_json_body", {}),
        (TooManyRedirectsError("x"), "too_many_redirects", {}),
        (ApiError("x"), "request_failed", {}),
    ],
)
def test_errors_say_how_they_are_told(
    error: ApiError, key: str, placeholders: dict[str, str]
) -> None:
    """Each client error carries its translation key and placeholders."""
    assert error.translation_key == key
    assert error.translation_placeholders == placeholders


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/x", "https://api.example.com/v1/x"),
        ("x?a=1", "https://api.example.com/v1/x?a=1"),
        ("https://api.example.com/other", "https://api.example.com/other"),
        ("https://cdn.example.com/y", "https://cdn.example.com/y"),
        ("", InvalidUrlError),
        ("a path", InvalidUrlError),
        ("mailto:me", InvalidUrlError),
        ("ftp://api.example.com/x", InvalidUrlError),
        ("https://evil.example.com/", OriginNotAllowedError),
        ("http://api.example.com/x", OriginNotAllowedError),
        # Untrusted input: never resolved against the base, never sent.
        ("//api.example.com/v1/x", InvalidUrlError),
        ("https://u:p@api.example.com/v1/x", InvalidUrlError),
        ("https://u@api.example.com/v1/x", InvalidUrlError),
        ("%\x00", InvalidUrlError),
        ("a%20b\r\nX: y", InvalidUrlError),
    ],
)
def test_origin_policy(url: str, expected: str | type[Exception]) -> None:
    """Paths join the base; absolute URLs must be http(s) on an allowed origin."""
    policy = OriginPolicy("https://api.example.com/v1", ("https://cdn.example.com",))
    if isinstance(expected, str):
        assert str(policy.resolve(url)) == expected
    else:
        with pytest.raises(expected):
            policy.resolve(url)


# -- untrusted servers and inputs ----------------------------------------------------


@pytest.mark.parametrize(
    "location",
    [
        "file:///etc/passwd",
        "data:text/plain,hello",
        "javascript:alert(1)",
        "ftp://127.0.0.1/x",
    ],
)
async def test_redirect_to_non_http_scheme_is_a_clear_error(
    auth: StaticAuth, seen: Seen, location: str
) -> None:
    """A redirect to file:/data:/javascript: is refused, naming the scheme only.

    Failed on the old code (aiohttp's NonHttpUrlClientError surfaced as a
    connection error).
    """
    with pytest.raises(UnsafeRedirectError) as raised:
        await auth.request("GET", "hop", params={"code": "302", "to": location})
    scheme = location.split(":", maxsplit=1)[0]
    assert str(raised.value) == f"302 redirect to a {scheme}: URL"
    assert isinstance(raised.value, RedirectRefusedError)
    assert len(seen.requests) == 1


@pytest.mark.parametrize("same_origin", [True, False])
async def test_redirect_with_user_info_is_refused(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen, same_origin: bool
) -> None:
    """A Location with user:pass@ is not followed (no Basic credentials sent).

    Failed on the old code (aiohttp raised a ValueError combining the
    Authorization header with the URL's credentials, or sent them cross-origin).
    """
    host = servers[0] if same_origin else servers[1]
    target = host.replace("http://", "http://user:pass@").split("/v1")[0]
    with pytest.raises(UnsafeRedirectError, match="user info") as raised:
        await auth.request(
            "GET", "hop", params={"code": "302", "to": f"{target}/inspect"}
        )
    assert "pass" not in str(raised.value)
    assert seen.inspected == []


async def test_url_with_user_info_is_invalid(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """user:pass@ in the request URL is refused before connecting.

    Failed on the old code (a ValueError from aiohttp, not a typed error).
    """
    url = servers[0].replace("http://", "http://user:pass@") + "/data"
    with pytest.raises(InvalidUrlError) as raised:
        await auth.request("GET", url)
    assert "pass" not in str(raised.value)
    assert seen.requests == []


async def test_scheme_relative_url_is_invalid(
    auth: StaticAuth, servers: tuple[str, str], seen: Seen
) -> None:
    """//host/x is neither resolved against the base nor treated as an origin.

    Failed on the old code (an OriginNotAllowedError naming an origin "").
    """
    url = servers[0].removeprefix("http:") + "/data"
    with pytest.raises(InvalidUrlError, match="scheme-relative"):
        await auth.request("GET", url)
    assert seen.requests == []


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Test": "a\r\nX-Injected: 1"},
        {"X-Test": "a\nb"},
        {"X-Test": "a\x00b"},
        {"X-Test": "a\x7fb"},
        {"X-Test\r\nX-Injected": "1"},
        {"X Test": "1"},
        {"": "1"},
    ],
)
async def test_control_characters_in_headers_refused_before_sending(
    auth: StaticAuth, seen: Seen, headers: dict[str, str]
) -> None:
    """CR/LF (any control character) in a header never reaches the wire.

    Failed on the old code (a ValueError from aiohttp for CR/LF; NUL was sent).
    """
    with pytest.raises(InvalidHeaderError) as raised:
        await auth.request("GET", "data", headers=headers)
    assert "Injected" not in str(raised.value)
    assert seen.requests == []


async def test_tab_in_a_header_value_is_fine(auth: StaticAuth, seen: Seen) -> None:
    """Horizontal tab is allowed inside a field value (RFC 9110 5.5)."""
    response = await auth.request("GET", "data", headers={"X-Test": "a\tb"})
    assert response.status == 200


async def test_head_of_a_large_resource_is_not_too_large(
    servers: tuple[str, str],
) -> None:
    """A HEAD response's Content-Length describes no body: never "too large".

    Failed on the old code (ResponseTooLargeError).
    """
    async with ClientSession() as session:
        small = StaticAuth(session, servers[0], max_response_bytes=10_000)
        response = await small.request("HEAD", "declared-big")
        with pytest.raises(ResponseTooLargeError):
            await small.request("GET", "declared-big")
    assert response.status == 200
    assert response.headers["Content-Length"] == "20000"
    assert response.body == b""


def test_wide_json_with_many_brackets_is_json() -> None:
    """More brackets than MAX_JSON_DEPTH, but shallow: still JSON.

    Brackets inside strings count towards the quick bound only, never against the
    document.
    """
    wide = "[" + ",".join(["[]"] * (3 * MAX_JSON_DEPTH)) + "]"
    assert loads_json(wide) == [[]] * (3 * MAX_JSON_DEPTH)
    quoted = json.dumps({"text": "{[" * MAX_JSON_DEPTH})
    assert loads_json(quoted) == {"text": "{[" * MAX_JSON_DEPTH}
    assert loads_json(quoted.encode()) == {"text": "{[" * MAX_JSON_DEPTH}


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "b": [1.5, -0, 1e5, "x"], "c": null, "d": true}',
        '{"a": 1, "a": 2}',  # the last one wins, as Python's
        "[NaN, Infinity, -Infinity]",  # orjson refuses these: Python's reader
        "123456789012345678901234567890",  # beyond 64 bits
        "1e400",  # a double's infinity
        '"\\ud800"',  # a lone surrogate
        '"caf\\u00e9 \\u2028"',
        "  [1, 2]  ",
    ],
)
@pytest.mark.parametrize("as_bytes", [False, True])
def test_loads_json_reads_as_python_does(text: str, as_bytes: bool) -> None:
    """Read by orjson first, by Python where orjson refuses: the same result."""
    given_text: str | bytes = text.encode() if as_bytes else text
    assert json.dumps(loads_json(given_text)) == json.dumps(json.loads(given_text))


def test_loads_json_reads_utf16_bytes_as_python_does() -> None:
    """Bytes in UTF-16 (with a BOM) are not orjson's: Python's reader decodes them."""
    text = '{"temperature": 7}'.encode("utf-16")
    assert loads_json(text) == json.loads(text) == {"temperature": 7}


@pytest.mark.parametrize("text", ["", "{", "[1,]", "01", "{'a': 1}", "nan", "\ufeff{}"])
def test_loads_json_refuses_what_python_refuses(text: str) -> None:
    """Not JSON for either reader: a ValueError, as before."""
    with pytest.raises(ValueError):
        json.loads(text)
    with pytest.raises(ValueError):
        loads_json(text)


def test_json_nested_too_deep_is_not_json() -> None:
    """JSON deeper than MAX_JSON_DEPTH is not JSON, however the parser copes.

    Failed on the old code (5000 levels parse, and then break whatever walks
    them recursively: redaction, attributes, the preview).
    """
    deep = b'{"a":' * 5000 + b"1" + b"}" * 5000
    response = ApiResponse(status=200, headers={}, body=deep, url="")
    assert response.json_or_none() is None
    with pytest.raises(JsonTooDeepError, match=str(MAX_JSON_DEPTH)):
        response.json()
    at_limit = "[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH
    assert loads_json(at_limit) is not None
    with pytest.raises(JsonTooDeepError):
        loads_json("[" + at_limit + "]")
    with pytest.raises(JsonTooDeepError):
        loads_json('{"a": [' + at_limit + "]}")
    with pytest.raises(ValueError) as raised:
        loads_json("not json")
    assert not isinstance(raised.value, JsonTooDeepError)


@pytest.mark.parametrize("url", ["%\x00", "data%20x\x1bX", "a%2F\x7f"])
async def test_control_characters_in_an_encoded_path_refused(
    auth: StaticAuth, seen: Seen, url: str
) -> None:
    """An already-encoded path (it has a %) keeps raw control characters: refused.

    Found by the fuzzing; failed on the old code (aiohttp's ValueError "Forbidden
    control character detected" out of the client).
    """
    with pytest.raises(InvalidUrlError, match="control character"):
        await auth.request("GET", url)
    assert seen.requests == []


async def test_json_body_the_session_cannot_serialise(
    servers: tuple[str, str], seen: Seen
) -> None:
    """A body the session's serialiser refuses is a typed error, nothing sent.

    Found by the fuzzing (Home Assistant's serialiser refuses integers beyond 64
    bits); failed on the old code (the serialiser's TypeError/ValueError escaped).
    """
    strict = functools.partial(json.dumps, allow_nan=False)
    async with ClientSession(json_serialize=strict) as session:
        client = StaticAuth(session, servers[0])
        with pytest.raises(InvalidBodyError, match="ValueError"):
            await client.request("POST", "echo", json={"x": float("nan")})
    assert seen.requests == []


def test_resolved_urls_are_remembered_refusals_are_not() -> None:
    """A poll resolves the same URL each time: once is enough; a refusal repeats."""
    policy = OriginPolicy("https://api.example.com/v1")
    first = policy.resolve("data")
    assert str(first) == "https://api.example.com/v1/data"
    assert policy.resolve("data") is first
    for _ in range(2):
        with pytest.raises(OriginNotAllowedError):
            policy.resolve("https://elsewhere.example.net/x")
    # Endless distinct (templated) URLs keep working.
    for n in range(2000):
        assert policy.resolve(f"item/{n}").path == f"/v1/item/{n}"


@pytest.mark.parametrize(
    ("text", "url", "bare", "origin"),
    [
        ("https://a.example", True, True, "https://a.example"),
        ("HTTP://A.example:8080/", True, True, "http://a.example:8080"),
        ("https://a.example/realms/home", True, True, None),
        ("https://a.example/x?q=1", True, False, None),
        ("https://a.example/#f", True, False, None),
        ("https://u:p@a.example", True, False, None),
        ("https://:p@a.example", True, False, None),
        ("https://u@a.example", True, False, None),
        ("ftp://a.example", False, False, None),
        ("https:///x", False, False, None),
        ("/x", False, False, None),
        ("a.example", False, False, None),
        ("http://[::1", False, False, None),
        ("https://a.example:99999", False, False, None),
        ("", False, False, None),
    ],
)
def test_url_rule(text: str, url: bool, bare: bool, origin: str | None) -> None:
    """What every URL check of the integration accepts.

    Absolute http(s) with a host; bare also without user info, query or fragment;
    an origin is bare with no path.
    """
    assert (http_url(text) is not None) is url
    assert (http_url(text, bare=True) is not None) is bare
    assert parse_origin(text) == origin
