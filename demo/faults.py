"""Injected faults: answers the provider gives instead of the real ones.

``POST /demo/faults`` with ``{"token": [...], "api": [...]}`` queues them (in place
of those queued, or after them with ``"append": true``); each
fault answers one request to the token endpoint (``token``) or to ``/api/*``
(``api``), in order. A fault is a dict:

- ``status`` (200), ``body`` (text sent as is), ``content_type`` (application/json),
  ``headers`` (e.g. ``Location``, ``Retry-After``);
- ``size``: the body is padded with spaces to this many bytes (a huge answer
  without a huge request);
- ``delay``: seconds to wait before answering (timeouts);
- ``drop``: close the connection without an answer;
- ``pass``: after the delay, let the real endpoint answer (a slow but good answer).
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web

from .events import EventLog


async def answer_fault(
    request: web.Request,
    fault: dict[str, Any],
    events: EventLog,
    where: str,
    grant_id: str = "",
) -> web.StreamResponse | None:
    """Answer ``request`` with ``fault`` (recorded as a ``fault`` event).

    ``grant_id``: the grant the request was for, when known (a refresh). None
    for a ``pass`` fault: the caller answers as usual, late.
    """
    events.record("fault", grant_id, where=where, status=int(fault.get("status", 200)))
    await asyncio.sleep(float(fault.get("delay", 0)))
    if fault.get("pass"):
        return None
    if fault.get("drop"):
        assert request.transport is not None
        request.transport.close()
        raise ConnectionResetError("fault injected: connection dropped")
    text = str(fault.get("body", ""))
    text += " " * max(0, int(fault.get("size", 0)) - len(text))
    return web.Response(
        status=int(fault.get("status", 200)),
        text=text,
        content_type=str(fault.get("content_type", "application/json")),
        headers={str(k): str(v) for k, v in dict(fault.get("headers", {})).items()},
    )
