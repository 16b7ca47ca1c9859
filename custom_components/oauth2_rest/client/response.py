"""What a request returns: status, headers and the body, already read."""

from __future__ import annotations

import codecs
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC
from email.utils import parsedate_to_datetime
from functools import lru_cache
from http import HTTPStatus
import json
import re
import time
from typing import Any

from aiohttp import ClientResponse, hdrs
import orjson

from .errors import ResponseTooLargeError, UndecodableBodyError

_CHUNK = 64 * 1024
_RATELIMIT_REMAINING_HEADERS = ("X-RateLimit-Remaining", "RateLimit-Remaining")
_RATELIMIT_RESET_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reset")
_DRAFT_RATELIMIT_REMAINING = re.compile(r"(?:^|[;,\s])r=([0-9]++)(?![^;,\s])")
_DRAFT_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])t=([0-9]++)(?![^;,\s])")
# Numbers in headers are ASCII digits (RFC 9110 ``1*DIGIT``), never what
# ``str.isdigit()``, ``int()`` or ``float()`` also take ("²", "①", "٣", "1_0",
# "+1", "1e9", "inf"); a reset may carry a fraction (a Unix time with milliseconds).
_COUNT = re.compile(r"[0-9]+")
_DECIMAL = re.compile(r"([0-9]+)(?:\.[0-9]+)?")
# More significant digits than this is "more than any header here can mean": the
# number is clamped (``int()`` refuses over 4300 digits, ``float()`` makes inf).
_MAX_DIGITS = 15
HUGE = 10**_MAX_DIGITS
# A reset value this large is a Unix time (GitHub, X), not seconds from now.
_EPOCH_THRESHOLD = 1_000_000_000
# A reset further away than this is not believed.
MAX_RESET_SECONDS = 24 * 3600.0
# Deeper JSON is not data anyone reads, and breaks what walks it recursively
# (templates, redaction, the recorder's serialiser stops at 255 levels).
MAX_JSON_DEPTH = 100


class JsonTooDeepError(ValueError):
    """The JSON is nested deeper than ``MAX_JSON_DEPTH``: treated as not JSON."""

    def __init__(self) -> None:
        """Name the limit."""
        super().__init__(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")


def _too_deep(value: Any) -> bool:
    """Whether value nests deeper than MAX_JSON_DEPTH (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > MAX_JSON_DEPTH:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _openings(text: str | bytes) -> int:
    """How many ``{`` and ``[`` the text holds: a bound on its JSON's depth.

    Every level of nesting opens with one of them (those inside strings only make
    the bound looser), so a text with at most MAX_JSON_DEPTH of them needs no walk.
    """
    if isinstance(text, bytes):
        return text.count(b"{") + text.count(b"[")
    return text.count("{") + text.count("[")


def check_json_depth(value: Any) -> Any:
    """Return ``value``; raise JsonTooDeepError when it nests too deep."""
    if _too_deep(value):
        raise JsonTooDeepError
    return value


# 17 digits in a row: a number orjson might read otherwise than Python (it makes
# a float of an integer beyond 64 bits).
_LONG_DIGITS = re.compile(r"\d{17}", re.ASCII)
_LONG_DIGITS_BYTES = re.compile(rb"\d{17}")


def _parse(text: str | bytes) -> Any:
    """``json.loads(text)``, read by orjson when it gives the same.

    orjson (Home Assistant's own parser) reads most answers several times faster.
    Text with a long run of digits, and what orjson refuses but Python's reader
    takes (NaN and Infinity, a number beyond a double, lone surrogates, UTF-16
    bytes), goes to Python's reader: the result is always ``json.loads``'s.
    """
    long_digits = (
        _LONG_DIGITS_BYTES.search(text)
        if isinstance(text, bytes)
        else _LONG_DIGITS.search(text)
    )
    if long_digits is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    return json.loads(text)


def loads_json(text: str | bytes) -> Any:
    """Parse JSON of bounded depth.

    Raises ValueError when it is not JSON, JsonTooDeepError (a ValueError) when it
    nests deeper than MAX_JSON_DEPTH, including too deep for the parser itself.
    """
    try:
        value = _parse(text)
    except RecursionError:
        raise JsonTooDeepError from None
    if _openings(text) <= MAX_JSON_DEPTH:
        return value
    return check_json_depth(value)


def json_too_deep(text: str | bytes) -> bool:
    """Whether ``text`` is JSON that is only refused for nesting too deep."""
    try:
        loads_json(text)
    except JsonTooDeepError:
        return True
    except ValueError:
        return False
    return False


# Python's codecs for its own string literals: text codecs, not charsets (they
# interpret backslashes, warning on every invalid escape).
_LITERAL_CODECS = frozenset({"unicode-escape", "raw-unicode-escape"})


@lru_cache(maxsize=64)
def text_encoding(name: str) -> str | None:
    """The codec of ``name`` when it is a text encoding that can read any body.

    None for an unknown name, a bytes-to-bytes or text-to-text codec (base64,
    zlib, rot13…), one that cannot replace what it cannot decode (``undefined``
    always fails, ``idna`` refuses to replace) and Python's literal codecs.
    """
    try:
        info = codecs.lookup(name)
        if not info._is_text_encoding or info.name in _LITERAL_CODECS:  # noqa: SLF001
            return None
        b"\x80\xff".decode(info.name, errors="replace")
    except LookupError, ValueError:  # UnicodeError is a ValueError; so is a NUL
        return None
    return info.name


@dataclass(frozen=True, slots=True)
class RateLimit:
    """What the API said of its rate limit: requests left, seconds to the reset."""

    remaining: int | None = None
    reset_in: float | None = None


async def read_capped(
    resp: ClientResponse, limit: int, *, body_expected: bool = True
) -> bytes:
    """Read a body of at most ``limit`` bytes, stopping as soon as it exceeds it.

    Raises ResponseTooLargeError (a declared Content-Length over the cap is refused
    unread, unless no body is expected: a HEAD response's Content-Length describes a
    body that is not sent).
    """
    declared = header_count(resp.headers.get(hdrs.CONTENT_LENGTH, ""))
    if body_expected and declared is not None:
        if declared > limit:
            raise ResponseTooLargeError(limit)
        if hdrs.CONTENT_ENCODING not in resp.headers:
            # Not compressed: the parser reads exactly the declared length.
            return await resp.read()
    body = bytearray()
    async for chunk in resp.content.iter_chunked(_CHUNK):
        body.extend(chunk)
        if len(body) > limit:
            raise ResponseTooLargeError(limit)
    return bytes(body)


@dataclass(frozen=True, slots=True)
class ConditionalState:
    """Validators of the last successful response, for a conditional request."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        """Return If-None-Match / If-Modified-Since for the next request."""
        headers: dict[str, str] = {}
        if self.etag:
            headers["If-None-Match"] = self.etag
        if self.last_modified:
            headers["If-Modified-Since"] = self.last_modified
        return headers


@dataclass(frozen=True, slots=True)
class ApiResponse:
    """A response whose body was read within the size cap."""

    status: int
    headers: Mapping[str, str]
    body: bytes
    url: str
    content_type: str = ""
    charset: str | None = None
    # Whether the request that got this answer carried the token (not after a
    # redirect to another origin).
    token_sent: bool = True
    _json: list[Any] = field(default_factory=list, repr=False, compare=False)

    @property
    def not_modified(self) -> bool:
        """True for 304: the caller's last data is still current."""
        return self.status == HTTPStatus.NOT_MODIFIED

    @property
    def text(self) -> str:
        """The body as text: see :meth:`decode` (UTF-8 unless the response says)."""
        return self.decode()

    def decode(self, encoding: str | None = None) -> str:
        """The body as text, as core ``rest`` decodes it.

        The charset of the Content-Type wins when it is a text encoding that
        decodes the body; otherwise ``encoding`` (UTF-8 by default) is used,
        undecodable bytes replaced. Raises UndecodableBodyError when
        ``encoding`` is not a text encoding (see :func:`text_encoding`).
        """
        if self.charset and (charset := text_encoding(self.charset)) is not None:
            try:
                return self.body.decode(charset)
            except UnicodeError:
                pass
        codec = text_encoding(encoding or "utf-8")
        if codec is None:
            raise UndecodableBodyError(encoding or "utf-8")
        try:
            return self.body.decode(codec, errors="replace")
        except UnicodeError:
            raise UndecodableBodyError(codec) from None

    def json(self) -> Any:
        """The body parsed as JSON.

        Raises ValueError when it is not JSON, JsonTooDeepError (a ValueError)
        when it nests deeper than MAX_JSON_DEPTH.
        """
        if not self._json:
            self._json.append(loads_json(self.body))
        return self._json[0]

    def json_or_none(self) -> Any:
        """The body parsed as JSON, or None when it is not JSON (or too deep)."""
        try:
            return self.json()
        except ValueError:
            return None

    @property
    def conditional_state(self) -> ConditionalState:
        """The validators to send next time."""
        return ConditionalState(
            etag=self.headers.get("ETag"),
            last_modified=self.headers.get("Last-Modified"),
        )

    @property
    def rate_limit_remaining(self) -> int | None:
        """Requests left in the account's window, when the API says so.

        Only an answer the token was sent with speaks for the account: a redirect
        target on another origin (which never gets the token) is not its limit.
        """
        return rate_limit_remaining(self.headers) if self.token_sent else None

    @property
    def rate_limit(self) -> RateLimit:
        """Requests left and seconds to the window's reset, as far as it says."""
        if not self.token_sent:
            return RateLimit()
        return RateLimit(
            rate_limit_remaining(self.headers), rate_limit_reset(self.headers)
        )


def header_count(value: str) -> int | None:
    """A count written as ASCII digits (RFC 9110 ``1*DIGIT``), or None.

    Optional white space around it; clamped to ``HUGE``.
    """
    value = value.strip(" \t")
    if not _COUNT.fullmatch(value):
        return None
    digits = value.lstrip("0")
    return HUGE if len(digits) > _MAX_DIGITS else int(digits or "0")


def header_number(value: str) -> float | None:
    """A non-negative decimal written in ASCII digits (``12`` or ``12.5``), or None.

    Optional white space around it; clamped to ``HUGE``.
    """
    value = value.strip(" \t")
    if not (match := _DECIMAL.fullmatch(value)):
        return None
    if len(match.group(1).lstrip("0")) > _MAX_DIGITS:
        return float(HUGE)
    return float(value)


def _first_item(value: str) -> str:
    """The first member of a comma-separated header value."""
    return value.split(",", 1)[0]


def rate_limit_remaining(headers: Mapping[str, str]) -> int | None:
    """Read X-RateLimit-Remaining, RateLimit-Remaining or the IETF draft's RateLimit."""
    for name in _RATELIMIT_REMAINING_HEADERS:
        if (value := headers.get(name)) is not None:
            return header_count(_first_item(value))
    if (draft := headers.get("RateLimit")) is not None and (
        match := _DRAFT_RATELIMIT_REMAINING.search(draft)
    ):
        return header_count(match.group(1))
    return None


def rate_limit_reset(
    headers: Mapping[str, str], now: float | None = None
) -> float | None:
    """Seconds until the rate-limit window resets, when the API says so.

    From ``X-RateLimit-Reset`` or ``RateLimit-Reset`` (seconds, or a Unix time
    when that large) or the IETF draft's ``RateLimit: …;t=``.
    """
    seconds: float | None = None
    for name in _RATELIMIT_RESET_HEADERS:
        if (value := headers.get(name)) is not None:
            seconds = header_number(_first_item(value))
            break
    else:
        if (draft := headers.get("RateLimit")) is not None and (
            match := _DRAFT_RATELIMIT_RESET.search(draft)
        ):
            seconds = header_number(match.group(1))
    if seconds is None:
        return None
    if seconds >= _EPOCH_THRESHOLD:
        seconds -= time.time() if now is None else now
    if not 0 <= seconds <= MAX_RESET_SECONDS:
        return None
    return seconds


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Seconds from now the server asks to wait (RFC 9110 10.2.3), or None.

    ``delay-seconds`` (ASCII digits, clamped to ``HUGE``) or an HTTP date (the
    IMF-fixdate, or the obsolete RFC 850 and asctime forms, all GMT); a date in
    the past is 0. Anything else is not a Retry-After.
    """
    if value is None:
        return None
    if (seconds := header_count(value)) is not None:
        return float(seconds)
    value = value.strip(" \t")
    if not value or not value.isascii():
        return None
    try:
        when = parsedate_to_datetime(value)
        if when.tzinfo is None:  # the asctime form has no zone: it is GMT
            when = when.replace(tzinfo=UTC)
        at = when.timestamp()
    except TypeError, ValueError, OverflowError:
        return None
    now = time.time() if now is None else now
    return max(0.0, at - now)
