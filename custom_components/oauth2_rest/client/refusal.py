"""Whether an API answer refuses the access token, or only the request's scope.

RFC 6750 section 3: a resource server says why it refused a bearer token in its
``WWW-Authenticate: Bearer error="...", error_description="...", scope="..."``
challenge. ``invalid_token`` means the token is dead (expired, revoked); only
``insufficient_scope`` means the grant lacks a scope, and ``scope`` then names the
scopes the resource needs.

The rule, in :func:`judge`:

- 401, a 403 whose challenge or JSON body says ``invalid_token``, or an answer
  matching one of the profile's dead-token shapes (data, e.g. Netatmo's 403 with
  ``{"error": {"code": 2}}``, Withings' HTTP 200 with ``{"status": 401}``): the
  token is dead (:attr:`Refusal.DEAD_TOKEN`);
- a 403 with an empty body (django-oauth-toolkit answers a revoked or expired
  token so): perhaps a dead token (:attr:`Refusal.MAYBE_DEAD`);
- any other 403, ``insufficient_scope`` included: a missing scope
  (:attr:`Refusal.FORBIDDEN`).

What is read is bounded: at most ``MAX_CHALLENGE`` characters of the header, and
a body only when it is at most ``MAX_ERROR_BODY`` bytes. Parsing is one pass.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from http import HTTPStatus
import re
from typing import Any, Self

from .response import ApiResponse

# Characters of WWW-Authenticate read (all of its header lines together).
MAX_CHALLENGE = 8192
# Error answers are small: a larger body is not read for an error code.
MAX_ERROR_BODY = 16 * 1024
# A scope longer than this is not shown.
MAX_SCOPE = 200

_TOKEN = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# token68 (RFC 7235): a scheme's single credential-like parameter.
_TOKEN68 = re.compile(r"[A-Za-z0-9._~+/-]+=*")
_SPACE = " \t"
# RFC 6750 scope-token characters (NQCHAR) and the spaces between them; no
# backtick (the scope is shown in a code span).
_SCOPE = re.compile(
    r"[\x21\x23-\x5b\x5d-\x5f\x61-\x7e]+(?: [\x21\x23-\x5b\x5d-\x5f\x61-\x7e]+)*"
)


class Refusal(StrEnum):
    """What a refusing answer says about the access token."""

    DEAD_TOKEN = "dead_token"
    MAYBE_DEAD = "maybe_dead"
    FORBIDDEN = "forbidden"


@dataclass(frozen=True, slots=True)
class Verdict:
    """A refusal, and the scope the resource needs when it said so."""

    refusal: Refusal
    scope: str | None = None


@dataclass(frozen=True, slots=True)
class Challenge:
    """One challenge of a WWW-Authenticate header: scheme and parameters.

    The scheme and parameter names are lower case; a parameter given twice keeps
    its first value.
    """

    scheme: str
    params: Mapping[str, str]


def parse_challenges(value: str) -> list[Challenge]:
    """The challenges of a WWW-Authenticate value (RFC 9110 section 11.6.1).

    Several challenges are separated by commas, like their parameters; a name
    followed by ``=`` is a parameter, any other name starts a challenge. Values are
    tokens or quoted strings (backslash escapes). What does not parse is skipped
    up to the next comma. One pass over at most ``MAX_CHALLENGE`` characters.
    """
    text = value[:MAX_CHALLENGE]
    end = len(text)
    challenges: list[Challenge] = []
    params: dict[str, str] = {}
    i = 0
    while i < end:
        if text[i] in _SPACE or text[i] == ",":
            i += 1
            continue
        name = _TOKEN.match(text, i)
        if name is None:
            i = _after_comma(text, i)
            continue
        j = _skip_space(text, name.end())
        if j < end and text[j] == "=" and challenges:
            parsed, i = _param_value(text, _skip_space(text, j + 1))
            if parsed is not None:
                params.setdefault(name.group().lower(), parsed)
            continue
        params = {}
        challenges.append(Challenge(name.group().lower(), params))
        i = j
        if (token68 := _TOKEN68.match(text, i)) is not None and _ends_item(
            text, _skip_space(text, token68.end())
        ):
            i = token68.end()  # a credential-like token68: not a parameter
    return challenges


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i] in _SPACE:
        i += 1
    return i


def _ends_item(text: str, i: int) -> bool:
    return i >= len(text) or text[i] == ","


def _after_comma(text: str, i: int) -> int:
    comma = text.find(",", i)
    return len(text) if comma < 0 else comma + 1


def _param_value(text: str, i: int) -> tuple[str | None, int]:
    """A token or quoted string at ``i``, and where parsing goes on."""
    if i < len(text) and text[i] == '"':
        chars: list[str] = []
        i += 1
        while i < len(text):
            char = text[i]
            if char == "\\" and i + 1 < len(text):
                chars.append(text[i + 1])
                i += 2
                continue
            if char == '"':
                return "".join(chars), i + 1
            chars.append(char)
            i += 1
        return None, i  # unterminated
    if (token := _TOKEN.match(text, i)) is not None:
        return token.group(), token.end()
    return None, _after_comma(text, i)


def bearer_challenge(headers: Mapping[str, str]) -> Challenge | None:
    """The first Bearer challenge of the answer's WWW-Authenticate headers."""
    getall = getattr(headers, "getall", None)
    values = (
        getall("WWW-Authenticate", [])
        if getall is not None
        else [v for v in (headers.get("WWW-Authenticate"),) if v is not None]
    )
    if not values:
        return None
    joined = ", ".join(values)
    return next(
        (c for c in parse_challenges(joined) if c.scheme == "bearer"),
        None,
    )


@dataclass(frozen=True, slots=True)
class DeadTokenAnswer:
    """A provider's own way of saying the token is dead, as data.

    The JSON body holds one of ``values`` at the dotted path ``field``, with one of
    the HTTP ``statuses`` (any status when empty).
    """

    field: str
    values: tuple[int | str, ...]
    statuses: tuple[int, ...] = ()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Read one from a profile (a preset, or what was stored)."""
        return cls(
            field=str(data["field"]),
            values=tuple(data["values"]),
            statuses=tuple(int(s) for s in data.get("statuses", ())),
        )

    def as_dict(self) -> dict[str, Any]:
        """What a profile stores."""
        data: dict[str, Any] = {"field": self.field, "values": list(self.values)}
        if self.statuses:
            data["statuses"] = list(self.statuses)
        return data

    def matches(self, status: int, body: Any) -> bool:
        """Whether an answer of ``status`` with the JSON ``body`` is this one."""
        if self.statuses and status not in self.statuses:
            return False
        value = body
        for part in self.field.split("."):
            if not isinstance(value, dict):
                return False
            value = value.get(part)
        return (
            isinstance(value, int | str)
            and not isinstance(value, bool)
            and value in self.values
        )


def _small_json(response: ApiResponse) -> Any:
    """The body as JSON when it is small enough to be an error answer."""
    if len(response.body) > MAX_ERROR_BODY:
        return None
    return response.json_or_none()


def _scope(value: Any) -> str | None:
    """A scope fit to show: RFC 6750 scope tokens, bounded, else None."""
    if not isinstance(value, str) or len(value) > MAX_SCOPE:
        return None
    return value if _SCOPE.fullmatch(value) else None


def judge(
    response: ApiResponse, dead_token_answers: Sequence[DeadTokenAnswer] = ()
) -> Verdict | None:
    """What the answer says about the token; None when it does not refuse it."""
    status = response.status
    if status == HTTPStatus.UNAUTHORIZED:
        return Verdict(Refusal.DEAD_TOKEN)
    if status != HTTPStatus.FORBIDDEN and not dead_token_answers:
        return None
    body = _small_json(response)
    if any(answer.matches(status, body) for answer in dead_token_answers):
        return Verdict(Refusal.DEAD_TOKEN)
    if status != HTTPStatus.FORBIDDEN:
        return None
    challenge = bearer_challenge(response.headers)
    params: Mapping[str, Any] = challenge.params if challenge is not None else {}
    if "error" not in params and isinstance(body, dict):
        params = body  # RFC 6749-style error fields in the body
    error = params.get("error")
    if error == "invalid_token":
        return Verdict(Refusal.DEAD_TOKEN)
    scope = _scope(params.get("scope"))
    if error is None and not response.body.strip():
        return Verdict(Refusal.MAYBE_DEAD)
    return Verdict(Refusal.FORBIDDEN, scope)
