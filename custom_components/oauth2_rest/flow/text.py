"""Text typed into a form, and back: ``name=value`` lines, scopes, parameters."""

from __future__ import annotations

from collections.abc import Mapping
import re

_SCOPE_SPLIT = re.compile(r"[\s,]+")
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
