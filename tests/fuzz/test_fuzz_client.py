"""Properties of URL and origin resolution and of the redirect policy (real servers)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from hypothesis import given, strategies as st
import pytest
from yarl import URL

from custom_components.oauth2_rest.client.auth import AbstractAuth, OriginPolicy
from custom_components.oauth2_rest.client.errors import (
    ApiError,
    InvalidUrlError,
    OriginNotAllowedError,
)
from custom_components.oauth2_rest.client.response import loads_json
from custom_components.oauth2_rest.client.urls import http_url, origin_of, parse_origin

from .common import count, json_values, nasty_text

TOKEN = "SECRET-bearer-token"
API_KEY = "SECRET-api-key"
BODY_SECRET = "SECRET-body"


class FixedAuth(AbstractAuth):
    """Always the same token."""

    async def async_get_access_token(self) -> str:
        """The token."""
        return TOKEN


BASE = "https://api.example.com/v1"
ALLOWED = ("https://files.example.com",)

url_parts = st.tuples(
    st.sampled_from(
        ["https", "http", "HTTPS", "ftp", "file", "javascript", "data", "", "https "]
    ),
    st.sampled_from(["://", ":", "//", ":///", ""]),
    st.sampled_from(["", "user@", "user:pass@", "@", ":@"]),
    st.sampled_from(
        [
            "api.example.com",
            "API.Example.COM",
            "api.example.com.",
            "files.example.com",
            "evil.example.com",
            "api.example.com.evil.example.com",
            "evil.example.com\\@api.example.com",
            "127.0.0.1",
            "[::1]",
            "аpi.example.com",
            "xn--",
            "",
        ]
    ),
    st.sampled_from(["", ":443", ":80", ":8443", ":0", ":99999", ":x", ":"]),
    nasty_text,
)


def compose(parts: tuple[str, ...]) -> str:
    """Join generated URL parts."""
    return "".join(parts)


@given(raw=url_parts.map(compose) | nasty_text)
def test_url_resolution_and_origin(raw: str) -> None:
    """Refused (typed, before any request), or an allowed http(s) origin, no user info.

    A path never leaves the base URL's origin.
    """
    count("url_resolution")
    policy = OriginPolicy(BASE, ALLOWED)
    try:
        target = policy.resolve(raw)
    except InvalidUrlError, OriginNotAllowedError:
        return
    assert target.scheme in ("http", "https")
    assert origin_of(target) in policy.allowed_origins
    assert target.user is None
    assert target.password is None
    if not URL(raw).is_absolute():  # a path stays under the base URL's origin
        assert origin_of(target) == origin_of(URL(BASE))


@given(raw=url_parts.map(compose) | nasty_text)
def test_the_url_rule(raw: str) -> None:
    """Every URL check's rule: never raises; what it accepts is what it promises.

    An accepted URL is absolute http(s) with a host; a bare one has no user info,
    query or fragment; an origin is its own origin, and a policy allowing it lets
    the token go there.
    """
    count("url_rule")
    if (url := http_url(raw)) is not None:
        assert url.scheme in ("http", "https")
        assert url.host
    if (bare := http_url(raw, bare=True)) is not None:
        assert url == bare
        assert bare.user is None
        assert bare.password is None
        assert not bare.query_string
        assert not bare.fragment
    if (origin := parse_origin(raw)) is not None:
        assert bare is not None
        assert parse_origin(origin) == origin
        OriginPolicy(BASE, [origin]).check(URL(origin))


@dataclass
class Hit:
    """One request a server received."""

    server: str
    method: str
    authorization: str | None
    api_key: str | None
    body: str


@dataclass
class Servers:
    """The API (allowed) and a foreign origin, and what they received."""

    api: str = ""
    other: str = ""
    hits: list[Hit] = field(default_factory=list)


def _chain_app(name: str, servers: Servers) -> web.Application:
    """Answer /chain?steps=<json>: redirect as the first step says, then the rest."""

    async def chain(request: web.Request) -> web.StreamResponse:
        servers.hits.append(
            Hit(
                name,
                request.method,
                request.headers.get("Authorization"),
                request.headers.get("X-Api-Key"),
                await request.text(),
            )
        )
        steps: list[list[Any]] = json.loads(request.query.get("steps", "[]"))
        if not steps:
            return web.json_response({"server": name})
        (code, target), rest = steps[0], steps[1:]
        follow = URL("/chain").with_query(steps=json.dumps(rest))
        location = {
            "same": str(follow),
            "api": servers.api + str(follow),
            "other": servers.other + str(follow),
            "api-scheme-relative": servers.api.removeprefix("http:") + str(follow),
            "api-user-info": servers.api.replace("http://", "http://u:p@")
            + str(follow),
        }.get(target, target)
        return web.Response(status=code, headers={"Location": location})

    app = web.Application()
    app.router.add_route("*", "/chain", chain)
    return app


@pytest.fixture
async def chain_servers(socket_enabled: None) -> AsyncIterator[Servers]:
    """The API server and a foreign server on 127.0.0.1."""
    servers = Servers()
    api = TestServer(_chain_app("api", servers), host="127.0.0.1")
    other = TestServer(_chain_app("other", servers), host="127.0.0.1")
    await api.start_server()
    await other.start_server()
    servers.api = str(api.make_url("")).rstrip("/")
    servers.other = str(other.make_url("")).rstrip("/")
    yield servers
    await api.close()
    await other.close()


steps = st.lists(
    st.tuples(
        st.sampled_from([301, 302, 303, 307, 308]),
        st.sampled_from(
            [
                "same",
                "api",
                "other",
                "api-scheme-relative",
                "api-user-info",
                "file:///etc/passwd",
                "data:text/plain,x",
                "javascript:alert(1)",
                "http://[::1",
                "//127.0.0.1:99999/x",
                "",
            ]
        ),
    ),
    max_size=7,
)


@given(
    method=st.sampled_from(["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"]),
    chain=steps,
    body=st.sampled_from(["none", "json", "data"]),
    extra_headers=st.dictionaries(nasty_text, nasty_text, max_size=2),
)
async def test_redirect_policy(
    chain_servers: Servers,
    method: str,
    chain: list[tuple[int, str]],
    body: str,
    extra_headers: dict[str, str],
) -> None:
    """Typed errors only; the token, the caller's headers and the body never leave."""
    count("redirect_policy")
    chain_servers.hits.clear()
    async with ClientSession() as session:
        auth = FixedAuth(session, OriginPolicy(f"{chain_servers.api}/"))
        try:
            await auth.request(
                method,
                "chain",
                params={"steps": json.dumps(chain)},
                headers={"X-Api-Key": API_KEY, **extra_headers},
                json={"secret": BODY_SECRET} if body == "json" else None,
                data=BODY_SECRET if body == "data" else None,
                raise_for_status=False,
            )
        except ApiError as err:
            assert "SECRET" not in str(err)
    hits = chain_servers.hits
    assert len(hits) <= 1 + 5  # MAX_REDIRECTS
    left = False
    for hit in hits:
        left = left or hit.server == "other"
        if left:  # once the chain left the origin, nothing of ours follows
            assert hit.authorization is None
            assert hit.api_key is None
            assert BODY_SECRET not in hit.body
        else:
            assert hit.authorization == f"Bearer {TOKEN}"


# Numbers as servers write them: long integers, long fractions, big exponents.
_number_texts = st.from_regex(
    r"-?(0|[1-9][0-9]{0,30})(\.[0-9]{1,30})?([eE][+-]?[0-9]{1,3})?", fullmatch=True
)


@given(
    value=json_values,
    numbers=st.lists(_number_texts, max_size=4),
    as_bytes=st.booleans(),
)
def test_loads_json_reads_as_python_does(
    value: Any, numbers: list[str], as_bytes: bool
) -> None:
    """Whichever parser reads it, loads_json gives what json.loads gives.

    Compared as JSON text, so that 1 and 1.0, and NaN, are told apart.
    """
    count("loads_json_as_python")
    text = "[" + ",".join([json.dumps(value), *numbers]) + "]"
    given_text: str | bytes = text.encode() if as_bytes else text
    assert json.dumps(loads_json(given_text)) == json.dumps(json.loads(given_text))
