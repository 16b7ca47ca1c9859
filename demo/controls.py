"""Things the demo API lets a client change: a lamp to switch, a message box to notify.

Both are plain state with their rules; ``api.py`` serves them. A rule that a
request breaks raises ``Refused`` with a sentence for ``error_description``.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import iso

MAX_MESSAGES = 50
MAX_BRIGHTNESS = 100
LAMP_FIELDS = ("on", "brightness")


class Refused(Exception):
    """A change the rules do not allow; the message says why, for the client."""


@dataclass(slots=True)
class Lamp:
    """A dimmable lamp; ``changed_at`` moves only when on/off or brightness changes."""

    changed_at: float
    on: bool = False
    brightness: int = 100

    def as_dict(self) -> dict[str, Any]:
        """The lamp as the API shows it."""
        return {
            "on": self.on,
            "brightness": self.brightness,
            "changed_at": iso(self.changed_at),
        }

    def update(self, values: Any, now: float) -> None:
        """Apply ``{"on": bool, "brightness": 0-100}`` (either or both)."""
        if not isinstance(values, dict):
            raise Refused('The body must be a JSON object such as {"on": true}.')
        if not any(key in values for key in LAMP_FIELDS):
            raise Refused('The body needs "on" (true or false) or "brightness".')
        on = values.get("on", self.on)
        if not isinstance(on, bool):
            raise Refused('"on" must be true or false.')
        brightness = values.get("brightness", self.brightness)
        if (
            isinstance(brightness, bool)
            or not isinstance(brightness, int)
            or not 0 <= brightness <= MAX_BRIGHTNESS
        ):
            raise Refused('"brightness" must be a whole number from 0 to 100.')
        self.change(on, brightness, now)

    def toggle(self, now: float) -> None:
        """Switch on when off, off when on."""
        self.change(not self.on, self.brightness, now)

    def change(self, on: bool, brightness: int, now: float) -> None:
        """Set the state, stamping ``changed_at`` when it differs."""
        if (on, brightness) != (self.on, self.brightness):
            self.on, self.brightness, self.changed_at = on, brightness, now


@dataclass(slots=True)
class MessageBox:
    """The last ``MAX_MESSAGES`` notifications, each numbered."""

    messages: deque[dict[str, Any]] = field(
        default_factory=lambda: deque(maxlen=MAX_MESSAGES)
    )
    last_id: int = 0

    def add(self, fields: Any, source: str, now: float) -> dict[str, Any]:
        """Store ``message``, ``title`` and the other fields; return the stored message.

        ``source`` says how they came: ``json``, ``form`` or ``query``.
        """
        if not isinstance(fields, Mapping):
            raise Refused(
                'The body must be a JSON object such as {"message": "Hello"}.'
            )
        message = fields.get("message")
        if not isinstance(message, str) or not message:
            raise Refused('"message" is required and must be text.')
        title = fields.get("title")
        if title is not None and not isinstance(title, str):
            raise Refused('"title" must be text.')
        self.last_id += 1
        stored = {
            "id": self.last_id,
            "message": message,
            "title": title,
            "extra": {
                str(k): v for k, v in fields.items() if k not in ("message", "title")
            },
            "source": source,
            "received_at": iso(now),
        }
        self.messages.append(stored)
        return stored

    def newest_first(self) -> list[dict[str, Any]]:
        """The stored messages, newest first."""
        return list(reversed(self.messages))
