"""The provider's grants on disk (``--state-file``), so that a restart keeps them.

Written when the provider stops (SIGTERM or Ctrl-C) and read when it starts: every
access and refresh token with its grant, expiry and whether it was revoked or
rotated (so that reuse detection still catches a rotated refresh token presented
after the restart), and the event counter (``/demo/events`` numbers go on). Codes,
device codes, browser sessions, faults and the API's values start afresh.
The file holds live tokens: it is for local tests and demos only.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .models import Token
from .store import Store

VERSION = 1


def token_record(token: Token) -> dict[str, Any]:
    """One token as JSON."""
    return {
        "access_token": token.access_token,
        "client_id": token.client.client_id,
        "scope": token.scope,
        "user": token.user.username if token.user is not None else None,
        "issued_at": token.issued_at,
        "expires_in": token.expires_in,
        "grant_id": token.grant_id,
        "refresh_token": token.refresh_token,
        "refresh_expires_at": token.refresh_expires_at,
        "access_revoked": token.access_revoked,
        "refresh_revoked": token.refresh_revoked,
        "rotated": token.rotated,
    }


def save(store: Store, path: Path) -> None:
    """Write the store's tokens and event counter to ``path`` (atomically)."""
    state = {
        "version": VERSION,
        "events_seq": store.events.seq,
        "tokens": [token_record(t) for t in store.by_access.values()],
    }
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(json.dumps(state))
    temporary.replace(path)


def load(store: Store, path: Path) -> int:
    """Read what ``save`` wrote into ``store``; returns the number of tokens.

    A missing file is a first start (0 tokens). Tokens of clients or users the
    provider no longer knows are skipped.
    """
    try:
        state = json.loads(path.read_text())
    except FileNotFoundError:
        return 0
    if state.get("version") != VERSION:
        raise ValueError(f"{path}: not a demo provider state file (version 1)")
    store.events.seq = int(state["events_seq"])
    count = 0
    for item in state["tokens"]:
        client = store.clients.get(item["client_id"])
        user = store.users.get(item["user"]) if item["user"] is not None else None
        if client is None or (item["user"] is not None and user is None):
            continue
        token = Token(
            access_token=item["access_token"],
            client=client,
            scope=item["scope"],
            user=user,
            issued_at=float(item["issued_at"]),
            expires_in=int(item["expires_in"]),
            grant_id=item["grant_id"],
            clock=store.config.clock,
            refresh_token=item["refresh_token"],
            refresh_expires_at=item["refresh_expires_at"],
            access_revoked=bool(item["access_revoked"]),
            refresh_revoked=bool(item["refresh_revoked"]),
            rotated=bool(item["rotated"]),
        )
        store.by_access[token.access_token] = token
        if token.refresh_token:
            store.by_refresh[token.refresh_token] = token
        count += 1
    return count
