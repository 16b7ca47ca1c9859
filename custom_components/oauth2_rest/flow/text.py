"""Text typed into a form, and back; text shown in one.

Read: ``name=value`` lines, scopes, authorization parameters, optional fields.
Shown: Markdown code blocks and spans that no text inside can break out of.
"""

from __future__ import annotations

from collections.abc import Mapping
import re

_SCOPE_SPLIT = re.compile(r"[\s,]+")
_BACKTICKS = re.compile(r"`+")
# Authorization parameters the implementation sets itself.
_RESERVED_AUTHORIZE_PARAMS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "state",
        "scope",
        "code_challenge",
        "code_challenge_method",
    }
)


def parse_lines(text: str | None, separator: str) -> dict[str, str] | None:
    """Parse ``name<separator>value`` lines; None when a line is malformed."""
    result: dict[str, str] = {}
    for raw in (text or "").splitlines():
        if not (line := raw.strip()):
            continue
        name, sep, value = line.partition(separator)
        name = name.strip()
        if not sep or not name:
            return None
        result[name] = value.strip()
    return result


def format_lines(values: Mapping[str, str], separator: str) -> str:
    """The inverse of :func:`parse_lines`, for pre-filling a form."""
    return "\n".join(f"{name}{separator}{value}" for name, value in values.items())


def parse_scopes(text: str) -> list[str]:
    """Split what the user typed (spaces or commas) into scopes."""
    return [scope for scope in _SCOPE_SPLIT.split(text.strip()) if scope]


def parse_authorize_params(text: str | None) -> dict[str, str] | None:
    """Parse ``name=value`` lines of extra authorization parameters.

    None when a line is malformed or names a parameter set by the integration.
    """
    params = parse_lines(text, "=")
    if params is None or _RESERVED_AUTHORIZE_PARAMS & set(params):
        return None
    return params


def optional_text(text: str | None) -> str | None:
    """A typed field, stripped; None when empty."""
    return (text or "").strip() or None


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code_block(text: str) -> str:
    """``text`` as a fenced code block no backtick run inside can close (CommonMark)."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}\n{text}\n{fence}"


def code_span(text: str) -> str:
    """``text`` on one line as an inline code span no backtick run inside can close.

    Line breaks become spaces (as in any code span): a line of its own could
    otherwise start a block, such as a code fence, in the Markdown around it.
    """
    text = " ".join(text.splitlines())
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"
