"""The endpoint flow's import from core ``rest`` YAML: its form and its summary.

The pasted text goes to ``rest_import.parse_rest_yaml``; what it maps to is
summarised before anything is created: the endpoints (each checked by the rule
every request form uses: an absolute URL must be on an allowed origin), the
switches, notifiers and commands (as switch, notify and button controls), and
every option not taken as written (dropped, without equivalent, adjusted, not
valid) and every ``!secret`` met, by its place in the YAML. Nothing of the pasted text is shown
but those places and names.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import CONF_HEADERS, CONF_PARAMS, CONF_URL
from homeassistant.core import HomeAssistant
from homeassistant.helpers.selector import TextSelector, TextSelectorConfig
import voluptuous as vol

from ..client.auth import OriginPolicy
from ..control import ControlConfig
from ..endpoint import CONF_BODY, EndpointConfig
from ..rest_import import (
    ImportNote,
    ImportResult,
    command_control,
    notify_control,
    switch_control,
)
from .endpoint_forms import validate_request_fields
from .text import code_span, format_lines

CONF_YAML = "yaml"
IMPORT_SCHEMA = vol.Schema(
    {vol.Required(CONF_YAML): TextSelector(TextSelectorConfig(multiline=True))}
)
_NOTHING = "—"
# How many notes of one kind the summary lists.
MAX_NOTES_SHOWN = 30


@dataclass(slots=True)
class ImportPlan:
    """What an import creates, and what it leaves out."""

    endpoints: list[EndpointConfig] = field(default_factory=list)
    controls: list[ControlConfig] = field(default_factory=list)
    # Endpoints and controls whose URL the token may not go to (or that is not
    # valid): name and error key.
    refused: list[tuple[str, str]] = field(default_factory=list)


def new_subentry(
    subentry_type: str, title: str, data: dict[str, Any]
) -> ConfigSubentry:
    """A subentry to add to the account (an imported endpoint or control)."""
    return ConfigSubentry(
        data=MappingProxyType(data),
        subentry_type=subentry_type,
        title=title,
        unique_id=None,
    )


def _fields(url: str, params: Any, headers: Any, body: str | None) -> dict[str, Any]:
    """A request as its form holds it (for the request forms' one rule)."""
    return {
        CONF_URL: url,
        CONF_PARAMS: format_lines(params or {}, "="),
        CONF_HEADERS: format_lines(headers or {}, ": "),
        CONF_BODY: body or "",
    }


def plan_import(
    hass: HomeAssistant, policy: OriginPolicy, result: ImportResult
) -> ImportPlan:
    """The endpoints and controls ``result`` maps to, each request checked."""
    plan = ImportPlan()
    for imported in result.endpoints:
        endpoint = EndpointConfig.from_data(imported.name, imported.data)
        errors, _ = validate_request_fields(
            hass,
            policy,
            _fields(endpoint.url, endpoint.params, endpoint.headers, endpoint.body),
        )
        if errors:
            plan.refused.append((endpoint.name, next(iter(errors.values()))))
        else:
            plan.endpoints.append(endpoint)
    controls = [
        *(switch_control(c) for c in result.switches),
        *(notify_control(c) for c in result.notifications),
        *(command_control(c) for c in result.commands),
    ]
    for control in controls:
        errors = {}
        for request in control.requests.values():
            errors, _ = validate_request_fields(
                hass,
                policy,
                _fields(request.url, request.params, request.headers, request.body),
            )
            if errors:
                break
        if errors:
            plan.refused.append((control.name, next(iter(errors.values()))))
        else:
            plan.controls.append(control)
    return plan


def _note_lines(notes: Iterable[ImportNote]) -> str:
    notes = list(notes)
    if not notes:
        return _NOTHING
    lines = [
        f"- {code_span(note.path)}: {code_span(note.reason)}"
        for note in notes[:MAX_NOTES_SHOWN]
    ]
    if len(notes) > MAX_NOTES_SHOWN:
        lines.append(f"- … (+{len(notes) - MAX_NOTES_SHOWN})")
    return "\n".join(lines)


def summary_placeholders(result: ImportResult, plan: ImportPlan) -> dict[str, str]:
    """The summary step's placeholders: what is created, and every note."""
    created = [
        f"- **{endpoint.name}**: {endpoint.method} {code_span(endpoint.url)} → "
        + (", ".join(f"*{value.name}*" for value in endpoint.values) or _NOTHING)
        for endpoint in plan.endpoints
    ] + [f"- **{control.name}** ({control.kind})" for control in plan.controls]
    return {
        "created": "\n".join(created) or _NOTHING,
        "refused": "\n".join(
            f"- **{name}**: {code_span(key)}" for name, key in plan.refused
        )
        or _NOTHING,
        "dropped": _note_lines(result.dropped),
        "unsupported": _note_lines(result.unsupported),
        "adjusted": _note_lines(result.adjusted),
        "invalid": _note_lines(result.invalid),
        "secrets": "\n".join(
            f"- {code_span(ref.path)}: {code_span(f'{ref.tag} {ref.name}')}"
            for ref in result.references
        )
        or _NOTHING,
    }
