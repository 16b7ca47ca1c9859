"""What a request returns: status, headers and the body, already read."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http import HTTPStatus
import json
import math
import re
import time
from typing import Any

from aiohttp import ClientResponse, hdrs

from .errors import ResponseTooLargeError

_CHUNK = 64 * 1024
_RATELIMIT_REMAINING_HEADERS = ("X-RateLimit-Remaining", "RateLimit-Remaining")
_RATELIMIT_RESET_HEADERS = ("X-RateLimit-Reset", "RateLimit-Reset")
_DRAFT_RATELIMIT_REMAINING = re.compile(r"(?:^|[;,\s])r=(\d+)")
_DRAFT_RATELIMIT_RESET = re.compile(r"(?:^|[;,\s])t=(\d+)")
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


def loads_json(text: str | bytes) -> Any:
    """Parse JSON of bounded depth.

    Raises ValueError when it is not JSON, JsonTooDeepError (a ValueError) when it
    nests deeper than MAX_JSON_DEPTH, including too deep for the parser itself.
    """
    try:
        value = json.loads(text)
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
    declared = resp.headers.get(hdrs.CONTENT_LENGTH, "")
    if body_expected and declared.isdigit():
        if int(declared) > limit:
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

        The charset of the Content-Type wins when it can decode the body;
        otherwise ``encoding`` (UTF-8 by default) is used, undecodable bytes
        replaced.
        """
        if self.charset:
            try:
                return self.body.decode(self.charset)
            except UnicodeDecodeError, LookupError:
                pass
        return self.body.decode(encoding or "utf-8", errors="replace")

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
        """Requests left in the provider's window, when it says so."""
        return rate_limit_remaining(self.headers)

    @property
    def rate_limit(self) -> RateLimit:
        """Requests left and seconds to the window's reset, as far as it says."""
        return RateLimit(
            rate_limit_remaining(self.headers), rate_limit_reset(self.headers)
        )


def rate_limit_remaining(headers: Mapping[str, str]) -> int | None:
    """Read X-RateLimit-Remaining, RateLimit-Remaining or the IETF draft's RateLimit."""
    for name in _RATELIMIT_REMAINING_HEADERS:
        if (value := headers.get(name)) is not None:
            try:
                return int(value.split(",")[0].strip())
            except ValueError:
                return None
    if (draft := headers.get("RateLimit")) is not None and (
        match := _DRAFT_RATELIMIT_REMAINING.search(draft)
    ):
        return int(match.group(1))
    return None


def rate_limit_reset(
    headers: Mapping[str, str], now: float | None = None
) -> float | None:
    """Seconds until the rate-limit window resets, when the API says so.

    From ``X-RateLimit-Reset`` or ``RateLimit-Reset`` (seconds, or a Unix time
    when that large) or the IETF draft's ``RateLimit: …;t=``.
    """
    raw: str | None = None
    for name in _RATELIMIT_RESET_HEADERS:
        if (value := headers.get(name)) is not None:
            raw = value.split(",")[0].strip()
            break
    else:
        if (draft := headers.get("RateLimit")) is not None and (
            match := _DRAFT_RATELIMIT_RESET.search(draft)
        ):
            raw = match.group(1)
    if raw is None:
        return None
    try:
        seconds = float(raw)
    except ValueError:
        return None
    if math.isnan(seconds):
        return None
    if seconds >= _EPOCH_THRESHOLD:
        seconds -= time.time() if now is None else now
    if not 0 <= seconds <= MAX_RESET_SECONDS:
        return None
    return seconds


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """Parse Retry-After (seconds or an HTTP date) into seconds from now."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except TypeError, ValueError:
        return None
    now = time.time() if now is None else now
    return max(0.0, when.timestamp() - now)
