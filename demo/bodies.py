"""Request bodies of the demo API, parsed once by their content type.

A body is JSON (``application/json`` or ``*+json``), form fields
(``application/x-www-form-urlencoded``), text (anything else, or JSON that does
not parse) or absent. Parsing is linear in the body's size, which aiohttp caps
(``client_max_size``, 1 MiB by default).
"""

from __future__ import annotations

from dataclasses import dataclass
import json
from typing import Any, Literal
from urllib.parse import parse_qsl

from aiohttp import hdrs, web

FORM_TYPE = "application/x-www-form-urlencoded"
type BodyKind = Literal["none", "json", "form", "text"]


@dataclass(frozen=True, slots=True)
class Body:
    """A parsed request body.

    ``value`` is None (no body), the JSON value, the form fields (``dict[str, str]``,
    the last of repeated fields wins) or the text; ``text`` is the body decoded and
    ``size`` its length in bytes.
    """

    kind: BodyKind
    value: Any
    text: str = ""
    size: int = 0


def is_json_type(content_type: str) -> bool:
    """``application/json`` or a ``+json`` structured syntax suffix."""
    return content_type == "application/json" or content_type.endswith("+json")


def _refuse_constant(name: str) -> Any:
    """NaN and Infinity are not JSON (and could not be answered as JSON)."""
    raise ValueError(f"{name} is not JSON")


def decode(raw: bytes, charset: str | None) -> str:
    """Text in the declared charset (UTF-8 when none or an unknown one), never raising."""
    try:
        return raw.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def parse_body(content_type: str, charset: str | None, raw: bytes) -> Body:
    """Parse ``raw`` as its content type says; never raises."""
    if not raw:
        return Body("none", None)
    size = len(raw)
    text = decode(raw, charset)
    if is_json_type(content_type):
        try:
            value = json.loads(text, parse_constant=_refuse_constant)
        except ValueError, RecursionError:
            return Body("text", text, text, size)
        return Body("json", value, text, size)
    if content_type == FORM_TYPE:
        fields = dict(parse_qsl(text, keep_blank_values=True))
        return Body("form", fields, text, size)
    return Body("text", text, text, size)


def declared_type(request: web.Request) -> str:
    """The request's media type, '' when it sent no Content-Type."""
    return request.content_type if hdrs.CONTENT_TYPE in request.headers else ""


async def read_body(request: web.Request) -> Body:
    """The request's body, parsed (aiohttp keeps the bytes, so reading twice is cheap)."""
    return parse_body(declared_type(request), request.charset, await request.read())
