"""Diagnostics: the account, its endpoints and controls, secrets redacted."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant

from .control import KIND_SWITCH
from .coordinator import OAuth2RestConfigEntry
from .oauth.token_set import DESCRIPTIVE_FIELDS
from .redact import ACCOUNT_IDENTIFYING_KEYS, REDACTED, redact_data, redact_text

# The stored token keeps whatever the provider's token response held (account
# names, ids, nested profiles): only these keys are shown, the rest redacted.
TOKEN_KEYS_SHOWN = DESCRIPTIVE_FIELDS


async def async_get_config_entry_diagnostics(
    hass: HomeAssistant, entry: OAuth2RestConfigEntry
) -> dict[str, Any]:
    """Return redacted diagnostics for an account entry."""
    data = dict(entry.data)
    token = data.pop("token", None)
    entry_part = redact_data(
        {
            "title": entry.title,
            "unique_id": entry.unique_id,
            "data": data,
            "options": dict(entry.options),
        },
        keys=ACCOUNT_IDENTIFYING_KEYS | {"title", "unique_id"},
    )
    if isinstance(token, dict):
        # What the token is like, never what it is.
        entry_part["data"]["token"] = {
            key: token[key] if key in TOKEN_KEYS_SHOWN else REDACTED for key in token
        }
    if entry.state is not ConfigEntryState.LOADED:
        return {"entry": entry_part, "loaded": False}
    runtime = entry.runtime_data
    secrets = runtime.account.secrets
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
                "url": redact_text(_redact_query(coordinator.endpoint.url), secrets),
                "header_names": sorted(coordinator.endpoint.headers),
                "scan_interval": coordinator.endpoint.scan_interval.total_seconds(),
                "verify_ssl": coordinator.endpoint.verify_ssl,
                "custom_ca_file": coordinator.endpoint.ca_file is not None,
                "encoding": coordinator.endpoint.encoding,
                "values": [value.name for value in coordinator.endpoint.values],
                "last_update_success": coordinator.last_update_success,
                "last_status": coordinator.data.status if coordinator.data else None,
            }
            for coordinator in runtime.endpoints.values()
        ],
        "controls": [
            {
                "name": control.config.name,
                "kind": control.config.kind,
                "requests": {
                    which: {
                        "method": request.method,
                        "url": redact_text(_redact_query(request.url), secrets),
                        "header_names": sorted(request.headers),
                    }
                    for which, request in control.config.requests.items()
                },
                "state_source": control.config.state_source
                if control.config.kind == KIND_SWITCH
                else None,
                "state_polled": control.state is not None,
                "state_last_update_success": control.state.last_update_success
                if control.state is not None
                else None,
                "verify_ssl": control.config.verify_ssl,
                "custom_ca_file": control.config.ca_file is not None,
            }
            for control in runtime.controls.values()
        ],
    }


def _redact_query(url: str) -> str:
    """The URL without its query, which may carry an API key."""
    base, query, _ = url.partition("?")
    return f"{base}?{REDACTED}" if query else url


def _iso(value: Any) -> str | None:
    return None if value is None else value.isoformat()
