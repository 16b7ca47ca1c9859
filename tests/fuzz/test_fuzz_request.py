"""Properties of what a request may carry and how an answer's headers and body are read.

Owned headers never reach a server (whatever their case), numbers in headers are
ASCII digits only (non-ASCII digits, huge runs, signs, exponents never crash nor
count), a body decodes or fails with the typed error (any codec name as charset
or as the endpoint's encoding), and a rate budget never stretches an interval
below its configured value or, once nothing is left, past the reset.
"""

from __future__ import annotations

import codecs
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta
import encodings
import encodings.aliases
import math
import pkgutil

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from hypothesis import given, strategies as st
import pytest

from custom_components.oauth2_rest.client.auth import AbstractAuth, OriginPolicy
from custom_components.oauth2_rest.client.errors import (
    InvalidHeaderError,
    OwnedHeaderError,
    UndecodableBodyError,
)
from custom_components.oauth2_rest.client.headers import (
    OWNED_HEADERS,
    check_headers,
    is_owned_header,
)
from custom_components.oauth2_rest.client.response import (
    HUGE,
    MAX_RESET_SECONDS,
    ApiResponse,
    header_count,
    rate_limit_remaining,
    rate_limit_reset,
    retry_after_seconds,
    text_encoding,
)
from custom_components.oauth2_rest.rate_limit import RateBudget, polls_per_second

from .common import count, nasty_text

TOKEN = "SECRET-bearer-token"

# -- numbers in headers ----------------------------------------------------------

# Characters str.isdigit() or int()/float() accept beyond ASCII digits.
odd_digits = st.characters(categories=["Nd", "No", "Nl"])
number_text = st.one_of(
    st.text(alphabet="0123456789", min_size=1, max_size=6000),  # long runs
    st.text(alphabet=st.sampled_from("0123456789 \t.,;+-_eE"), max_size=40),
    st.text(alphabet=odd_digits | st.sampled_from("0123456789"), max_size=20),
    st.builds(
        lambda day, month, year, hms: f"Sun, {day} {month} {year} {hms} GMT",
        st.integers(-5, 99999).map(str) | odd_digits,
        st.sampled_from(["Nov", "Jan", "Foo", ""]),
        st.integers(-5, 10**12).map(str),
        st.sampled_from(["08:49:37", "25:61:61", "8:9", ""]),
    ),
    nasty_text,
)


@given(value=number_text)
def test_header_numbers(value: str) -> None:
    """ASCII digits count (clamped); nothing else does; nothing raises."""
    count("header_numbers")
    stripped = value.strip(" \t")
    counted = header_count(value)
    if stripped and stripped.isascii() and stripped.isdigit():
        assert counted == min(int(stripped.lstrip("0") or "0"), HUGE) or (
            counted == HUGE and len(stripped.lstrip("0")) > 15
        )
    else:
        assert counted is None
    seconds = retry_after_seconds(value, now=1.7e9)
    assert seconds is None or (math.isfinite(seconds) and 0 <= seconds <= HUGE)
    if counted is not None:
        assert seconds == counted
    for name in ("X-RateLimit-Remaining", "RateLimit-Remaining"):
        remaining = rate_limit_remaining({name: value})
        assert remaining is None or 0 <= remaining <= HUGE
    draft = {"RateLimit": f'"default";r={value};t={value}'}
    from_draft = rate_limit_remaining(draft)
    assert from_draft is None or 0 <= from_draft <= HUGE
    if counted is not None and value == stripped:
        assert from_draft == counted
    for headers in ({"X-RateLimit-Reset": value}, {"RateLimit-Reset": value}, draft):
        reset = rate_limit_reset(headers, now=1.7e9)
        assert reset is None or 0 <= reset <= MAX_RESET_SECONDS


# -- owned headers -------------------------------------------------------------------

owned_names = st.sampled_from(sorted(OWNED_HEADERS)) | st.builds(
    "proxy-{}".format, st.from_regex(r"[A-Za-z0-9-]{0,12}", fullmatch=True)
)


def _any_case(name: str, flips: list[bool]) -> str:
    return "".join(
        c.upper() if flip else c.lower() for c, flip in zip(name, flips, strict=False)
    )


header_names = st.one_of(
    st.builds(_any_case, owned_names, st.lists(st.booleans(), min_size=40)),
    st.from_regex(r"[!#$%&'*+.^_`|~0-9A-Za-z-]{1,20}", fullmatch=True),
    st.sampled_from(["Cookie", "X-Api-Key", "Accept", "X-Forwarded-For", "Hoſt"]),
    nasty_text,
)


@given(names=st.lists(header_names, min_size=1, max_size=4))
def test_owned_headers_are_refused(names: list[str]) -> None:
    """Any case of an owned name is refused; a token not owned is accepted."""
    count("owned_headers")
    headers = dict.fromkeys(names, "other.example")
    try:
        check_headers(headers)
    except OwnedHeaderError as err:
        assert is_owned_header(err.name)
        assert err.name in headers
        return
    except InvalidHeaderError:
        return
    assert not any(is_owned_header(name) for name in headers)
    assert all(name.lower() not in OWNED_HEADERS for name in headers)


class FixedAuth(AbstractAuth):
    """Always the same token."""

    async def async_get_access_token(self) -> str:
        """The token."""
        return TOKEN


@dataclass
class Received:
    """What the server got: (Host, Authorization, every header name)."""

    requests: list[tuple[str | None, str | None, set[str]]] = field(
        default_factory=list
    )


@pytest.fixture
async def header_server(socket_enabled: None) -> AsyncIterator[tuple[str, Received]]:
    """A server on 127.0.0.1 that records the headers it received."""
    received = Received()

    async def record(request: web.Request) -> web.Response:
        received.requests.append(
            (
                request.headers.get("Host"),
                request.headers.get("Authorization"),
                {name.lower() for name in request.headers},
            )
        )
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", record)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")).rstrip("/"), received
    await server.close()


@given(
    names=st.lists(header_names, min_size=1, max_size=3),
    value=st.sampled_from(["other.example", "0", "chunked", "close", "Bearer x"]),
)
async def test_owned_headers_never_reach_a_server(
    header_server: tuple[str, Received], names: list[str], value: str
) -> None:
    """Sent as given, or refused before anything is sent; Host and token ours."""
    count("owned_headers_on_the_wire")
    base, received = header_server
    received.requests.clear()
    headers = dict.fromkeys(names, value)
    async with ClientSession() as session:
        auth = FixedAuth(session, OriginPolicy(f"{base}/"))
        try:
            await auth.request("GET", "x", headers=headers, raise_for_status=False)
        except InvalidHeaderError:
            assert not received.requests
            return
    ((host, authorization, seen),) = received.requests
    assert f"http://{host}" == base
    assert authorization == f"Bearer {TOKEN}"
    assert {name.lower() for name in headers} <= seen


# -- charsets and encodings ----------------------------------------------------------

CODEC_NAMES = sorted(
    set(encodings.aliases.aliases)
    | set(encodings.aliases.aliases.values())
    | {module.name for module in pkgutil.iter_modules(encodings.__path__)}
)
codec_names = st.sampled_from(CODEC_NAMES) | nasty_text


@given(
    body=st.binary(max_size=300) | st.text(max_size=100).map(str.encode),
    charset=st.none() | codec_names,
    encoding=st.none() | codec_names,
)
def test_any_codec_decodes_or_fails_typed(
    body: bytes, charset: str | None, encoding: str | None
) -> None:
    """Text, or UndecodableBodyError for an encoding that is not a text encoding."""
    count("codecs")
    if encoding is not None and (codec := text_encoding(encoding)) is not None:
        assert codecs.lookup(codec)._is_text_encoding
    response = ApiResponse(200, {}, body, "https://x", charset=charset)
    try:
        text = response.decode(encoding)
    except UndecodableBodyError as err:
        assert encoding is not None
        assert text_encoding(encoding) is None
        assert err.translation_placeholders == {"encoding": encoding}
        return
    assert isinstance(text, str)
    assert isinstance(response.text, str)  # the charset alone never fails


# -- rate budget -------------------------------------------------------------------


@given(
    remaining=st.integers(0, 10**6) | st.just(0),
    reset_in=st.floats(-10, 2 * 86400, allow_nan=False),
    intervals=st.lists(st.integers(1, 86400), min_size=1, max_size=60),
)
def test_rate_budget_interval(
    remaining: int, reset_in: float, intervals: list[int]
) -> None:
    """Never below the configured interval; with nothing left, exactly to the reset."""
    count("rate_budget")
    configured = [timedelta(seconds=s) for s in intervals]
    rate = polls_per_second(configured)
    budget = RateBudget(remaining, resets_at=1000.0 + reset_in)
    until_reset = timedelta(seconds=reset_in)
    for interval in configured:
        waited = budget.interval(interval, rate, now=1000.0)
        assert waited >= interval
        if reset_in <= 0:
            assert waited == interval
        else:
            assert waited <= max(interval, until_reset)
            if remaining == 0:
                assert waited == max(interval, until_reset)
