"""Diagnostics: the account and its endpoints, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.components.diagnostics import REDACTED, async_redact_data
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from . import OAuth2RestConfigEntry
from .const import CONF_SUBJECT

TO_REDACT = {
    "access_token",
    "refresh_token",
    "id_token",
    "client_secret",
    "client_id",
    # The application credential's auth domain is derived from the client id.
    "auth_implementation",
    "code_verifier",
    CONF_SUBJECT,
    "athlete",
    "user_id",
    "userid",
    "account_id",
    "unique_id",
    "Authorization",
    "authorization",
    "title",
    # Account identifiers a provider may put in its token response or profile.
    "sub",
    "uid",
    "sid",
    "session_state",
    "email",
    "preferred_username",
    "username",
    "login",
    "login_hint",
}
# The stored token keeps whatever the provider's token response held (account
# names, ids, nested profiles): only these keys are shown, the rest redacted.
TOKEN_KEYS_SHOWN = frozenset(
    {"token_type", "expires_in", "expires_at", "scope", "refresh_token_expires_in"}
)


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OAuth2RestConfigEntry
) -> dict[str, Any]:
    """Return redacted diagnostics for an account entry."""
    data = dict(entry.data)
    if isinstance(token := data.get("token"), dict):
        data["token"] = {
            key: value if key in TOKEN_KEYS_SHOWN else REDACTED
            for key, value in token.items()
        }
    entry_part = async_redact_data(
        {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": data,
            "options": dict(entry.options),
        },
        TO_REDACT,
    )
    if entry.state is not ConfigEntryState.LOADED:
        return {"entry": entry_part, "loaded": False}
    runtime = entry.runtime_data
    health = runtime.account.data
    return {
        "entry": entry_part,
        "loaded": True,
        "account": {
            "last_update_success": runtime.account.last_update_success,
            "access_token_expires_at": _iso(
                health.access_token_expires_at if health else None
            ),
            "last_refresh": _iso(health.last_refresh if health else None),
            "consecutive_refresh_failures": health.consecutive_refresh_failures
            if health
            else None,
            "last_refresh_error": health.last_refresh_error if health else None,
            "rate_limit_remaining": health.rate_limit_remaining if health else None,
        },
        "endpoints": [
            {
                "name": coordinator.endpoint.name,
                "method": coordinator.endpoint.method,
                "url": _redact_query(coordinator.endpoint.url),
                "header_names": sorted(coordinator.endpoint.headers),
                "scan_interval": coordinator.endpoint.scan_interval.total_seconds(),
                "values": [value.name for value in coordinator.endpoint.values],
                "last_update_success": coordinator.last_update_success,
                "last_status": coordinator.data.status if coordinator.data else None,
            }
            for coordinator in runtime.endpoints.values()
        ],
    }


def _redact_query(url: str) -> str:
    """The URL without its query, which may carry an API key."""
    base, query, _ = url.partition("?")
    return f"{base}?{REDACTED}" if query else url


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
