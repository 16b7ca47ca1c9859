"""The endpoint flow's preview: a test request, and what it shows.

The request is made once through the one request path (``request.py``), as a
poll makes it. The response is shown as templates see it (pretty, truncated,
redacted), and each value as its entity will show it: rendered by the entity's
own :class:`~..values.ValueRenderer`, with the entity's variables ``value``,
``value_json`` and ``this``. ``this`` is the state of the value's entity: the
one in the registry when the value has one (editing an endpoint), else the
entity id the new entity will get, which has no state yet; so the preview sees
what a new entity sees at its first render (a state ``unknown``), and an
existing entity's current state.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import json
from typing import Any

from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers import entity_registry as er

from ..client.auth import AbstractAuth
from ..client.response import MAX_JSON_DEPTH, ApiResponse, json_too_deep
from ..const import DOMAIN
from ..endpoint import EndpointConfig, ValueConfig
from ..errors import Failure, RequestFailed
from ..redact import Secrets, redact_data, redact_text
from ..request import StoredRequest, async_send, read_values
from ..values import ValueRenderer, response_values
from .text import code_block, code_span

# How much of the response the preview step and the value form show.
PREVIEW_MAX_CHARS = 2500
VALUE_STEP_MAX_CHARS = 1200
# How much of a rendered value the preview shows.
VALUE_MAX_CHARS = 200
# Every placeholder an error message of the preview may use, shown empty otherwise.
_ERROR_PLACEHOLDERS = ("origin", "limit")
_NOTHING = "—"


def format_response(
    response: ApiResponse, limit: int, secrets: Secrets, encoding: str | None
) -> str:
    """The response as templates see it, in a Markdown code block.

    JSON (and XML, converted as for templates) is pretty-printed; everything is
    redacted and truncated.
    """
    data, raw = response_values(response, encoding)
    if data is not None:
        text = json.dumps(redact_data(data, secrets), indent=2, ensure_ascii=False)
    else:
        text = redact_text(raw, secrets)
    if len(text) > limit:
        text = f"{text[:limit]}\n…"
    return code_block(text)


def value_entity_id(
    hass: HomeAssistant, subentry_id: str | None, endpoint_name: str, value: ValueConfig
) -> str:
    """The entity id of a value's entity: its registered one, or the one it will get."""
    registry = er.async_get(hass)
    if subentry_id is not None and (
        entity_id := registry.async_get_entity_id(
            value.platform, DOMAIN, value.unique_id(subentry_id)
        )
    ):
        return entity_id
    name = value.entity_name(endpoint_name)
    return registry.async_get_available_entity_id(
        value.platform, endpoint_name if name is None else f"{endpoint_name} {name}"
    )


def shown_value(
    hass: HomeAssistant,
    value: ValueConfig,
    data: tuple[Any, str],
    entity_id: str,
    secrets: Secrets,
) -> str:
    """A value over the preview response: ``unavailable``, its value, or its error."""
    renderer = ValueRenderer(hass, value)
    json_data, text = data
    if not renderer.extras(json_data, text, entity_id, secrets).available:
        return STATE_UNAVAILABLE
    try:
        rendered = renderer.value(json_data, text, secrets)
    except TemplateError as err:
        rendered = redact_text(f"⚠ {err}", secrets)
    return rendered[:VALUE_MAX_CHARS]


@dataclass(slots=True)
class Preview:
    """The last test request of an endpoint flow and what came back."""

    response: ApiResponse | None = None
    # The URL or path it was sent to, its templates rendered.
    sent_url: str | None = None
    # The response as templates see it: (value_json, value); kept when a later
    # request fails, for the value form's attribute choice.
    data: tuple[Any, str] = (None, "")
    failure: Failure | None = None

    async def async_fetch(
        self, auth: AbstractAuth, request: StoredRequest, encoding: str | None
    ) -> None:
        """Make the request once with the account's token, keep the outcome.

        ``encoding``: the endpoint's, for an answer that declares no charset.
        """
        self.response = None
        self.failure = None
        try:
            sent = await async_send(auth, request)
            self.data = read_values(sent.response, encoding)
        except RequestFailed as err:
            self.failure = err.failure
            return
        self.response = response = sent.response
        self.sent_url = sent.request.target.url
        if self.data[0] is None and response.body:
            self.failure = (
                Failure("json_too_deep", {"limit": str(MAX_JSON_DEPTH)})
                if json_too_deep(self.data[1])
                else Failure("not_json", {})
            )

    def response_text(self, limit: int, secrets: Secrets, encoding: str | None) -> str:
        """The response in a code block, or a dash when there is none."""
        if self.response is None:
            return _NOTHING
        return format_response(self.response, limit, secrets, encoding)

    def values_summary(
        self,
        hass: HomeAssistant,
        values: Sequence[ValueConfig],
        endpoint_name: str,
        subentry_id: str | None,
        secrets: Secrets,
    ) -> str:
        """One Markdown line per value: its name, platform and what it shows."""
        if not values:
            return _NOTHING
        lines = []
        for value in values:
            shown = _NOTHING
            if self.response is not None:
                entity_id = value_entity_id(hass, subentry_id, endpoint_name, value)
                shown = shown_value(hass, value, self.data, entity_id, secrets)
            lines.append(f"- **{value.name}** ({value.platform}): {code_span(shown)}")
        return "\n".join(lines)

    def placeholders(
        self, request: EndpointConfig, values: str, secrets: Secrets
    ) -> dict[str, str]:
        """The preview step's description placeholders (``values``: the summary)."""
        failure = self.failure.placeholders if self.failure else {}
        return {
            "method": request.method,
            "url": redact_text(self.sent_url, secrets)
            if self.response and self.sent_url
            else request.url,
            "status": str(self.response.status) if self.response else _NOTHING,
            "response": self.response_text(
                PREVIEW_MAX_CHARS, secrets, request.encoding
            ),
            "values": values,
            **dict.fromkeys(_ERROR_PLACEHOLDERS, ""),
            **failure,
        }
