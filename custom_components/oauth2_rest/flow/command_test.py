"""The control flow's test: one of a control's requests sent now, and what came back.

Sending changes things (that is what a control is for), so it only happens when
the user picks a request in the test step. It takes the one request path
(``request.py``) with the account's token, as the control's entity will; the
answer is shown as the endpoint preview shows one (pretty, truncated, redacted),
error statuses included, and a request that was not sent or failed is a form
error with its translation key. A switch's state is shown as it will read it:
rendered with its ``is_on`` template over its endpoint's last answer, or over a
test request of its own state request (a GET, always sent).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError

from ..client.auth import AbstractAuth
from ..client.response import ApiResponse
from ..control import STATE_FROM_ENDPOINT, ControlConfig
from ..controls import Commands
from ..coordinator import EndpointCoordinator
from ..errors import Failure, RequestFailed
from ..redact import Secrets, redact_text
from ..request import StoredRequest, async_send, read_values
from ..values import ValueTemplate, to_on_off
from .preview import PREVIEW_MAX_CHARS, format_response
from .text import code_span

_NOTHING = "—"
# Every placeholder an error message of the test step may use, shown empty otherwise.
_ERROR_PLACEHOLDERS = ("origin", "limit", "header", "encoding")


@dataclass(slots=True)
class CommandTest:
    """The last request the control flow sent, and its answer or failure."""

    sent: str | None = None
    response: ApiResponse | None = None
    sent_url: str | None = None
    failure: Failure | None = None

    async def async_send(
        self,
        hass: HomeAssistant,
        auth: AbstractAuth,
        control: ControlConfig,
        which: str,
        message: str = "",
        title: str | None = None,
    ) -> None:
        """Send the request ``which`` of ``control`` now, keep the outcome."""
        self.sent, self.response, self.sent_url, self.failure = which, None, None, None
        source = Commands(hass, control).source(which, message=message, title=title)
        try:
            sent = await async_send(auth, source, raise_for_status=False)
        except RequestFailed as err:
            self.failure = err.failure
            return
        self.response = sent.response
        self.sent_url = sent.request.target.url

    def placeholders(self, secrets: Secrets) -> dict[str, str]:
        """The test step's placeholders: what was sent, the status, the answer."""
        failure = self.failure.placeholders if self.failure else {}
        response = self.response
        return {
            **dict.fromkeys(_ERROR_PLACEHOLDERS, ""),
            "sent": self.sent or _NOTHING,
            "url": redact_text(self.sent_url, secrets) if self.sent_url else _NOTHING,
            "status": str(response.status) if response else _NOTHING,
            "response": format_response(response, PREVIEW_MAX_CHARS, secrets, None)
            if response is not None
            else _NOTHING,
            **failure,
        }


def _on_off(template: str | None, hass: HomeAssistant, data: tuple[Any, str]) -> str:
    """``on``/``off`` as the switch will read ``data``, or its template's error."""
    try:
        state = to_on_off(ValueTemplate(template or "", hass).render(*data))
    except TemplateError as err:
        return f"⚠ {err}"
    return "unknown" if state is None else ("on" if state else "off")


async def async_state_text(
    hass: HomeAssistant,
    auth: AbstractAuth,
    control: ControlConfig,
    endpoints: dict[str, EndpointCoordinator],
    secrets: Secrets,
) -> str:
    """A switch's state as it will show it now, in a code span (a dash: none)."""
    if control.state_source == STATE_FROM_ENDPOINT:
        coordinator = endpoints.get(control.state_endpoint or "")
        if coordinator is None or coordinator.data is None:
            return _NOTHING
        data = (coordinator.data.json, coordinator.data.text)
    elif (poll := control.state_poll()) is not None:
        try:
            sent = await async_send(auth, StoredRequest(hass, poll))
            data = read_values(sent.response, None)
        except RequestFailed as err:
            return code_span(f"⚠ {err.failure.key}")
    else:
        return _NOTHING
    return code_span(redact_text(_on_off(control.is_on_template, hass, data), secrets))
