"""Test constants and builders shared by the test modules."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import async_fire_time_changed

from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
)

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
AUTH_DOMAIN = "oauth2_rest_test_client"
ISSUER = "https://auth.example.com"
AUTHORIZE_URL = f"{ISSUER}/authorize"
TOKEN_URL = f"{ISSUER}/token"
USERINFO_URL = f"{ISSUER}/userinfo"
API_BASE = "https://api.example.com/v1"
REDIRECT_URI = "https://example.com/auth/external/callback"
# The entry id of accounts in snapshots (it is part of unique ids).
SNAPSHOT_ENTRY_ID = "01JTESTACCOUNTENTRY0000000"


def manual_profile(**changes: Any) -> ProviderProfile:
    """The provider profile of the test account."""
    values: dict[str, Any] = {
        "key": "manual",
        "name": "Example",
        "authorize_url": AUTHORIZE_URL,
        "token_url": TOKEN_URL,
        "userinfo_url": USERINFO_URL,
        "issuer": ISSUER,
        "api_base_url": API_BASE,
        "client_auth": ClientAuthMethod.CLIENT_SECRET_BASIC,
        "pkce": PkceMode.SUPPORTED,
        "default_scopes": ("read",),
    }
    values.update(changes)
    return ProviderProfile(**values)


def endpoint_subentry(
    title: str = "Weather",
    url: str = "/weather",
    value_template: str = "{{ value_json.temperature }}",
    unit: str | None = "°C",
    subentry_id: str = "endpoint_weather",
    scan_interval: int = 60,
) -> ConfigSubentryData:
    """An endpoint subentry with one sensor value."""
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": url,
            "scan_interval": scan_interval,
            "timeout": 30,
            "values": [
                {
                    "key": "value",
                    "name": title,
                    "platform": "sensor",
                    "value_template": value_template,
                    "unit_of_measurement": unit,
                }
            ],
        },
        subentry_id=subentry_id,
        subentry_type="endpoint",
        title=title,
        unique_id=None,
    )


def expire_token(hass: Any, entry: Any, expires_at: float = 0) -> None:
    """Have the stored token expire at ``expires_at``, the way HA stores a token."""
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, "token": {**entry.data["token"], "expires_at": expires_at}},
    )


def token_requests(aioclient_mock: Any, token_url: str = TOKEN_URL) -> list[Any]:
    """The calls an AiohttpClientMocker saw to the token endpoint."""
    return [call for call in aioclient_mock.mock_calls if str(call[1]) == token_url]


def api_requests(aioclient_mock: Any, path: str) -> list[Any]:
    """The calls an AiohttpClientMocker saw to an API path under API_BASE."""
    url = f"{API_BASE}{path}"
    return [call for call in aioclient_mock.mock_calls if str(call[1]) == url]


def reauth_flows(hass: Any, domain: str = "oauth2_rest") -> list[Any]:
    """The reauth flows in progress for the integration."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(domain)
        if flow["context"].get("source") == "reauth"
    ]


def _ha_version() -> tuple[int, int]:
    from homeassistant.const import MAJOR_VERSION, MINOR_VERSION

    return MAJOR_VERSION, MINOR_VERSION


# Registry and state snapshots are recorded on the newest Home Assistant we test; older
# versions serialise some fields differently (attribute keys as plain strings, aliases
# as a set). Their behaviour is asserted by the other tests on every version.
SNAPSHOT_HA_VERSION = (2026, 10)
newest_ha_only = pytest.mark.skipif(
    _ha_version() < SNAPSHOT_HA_VERSION,
    reason="registry/state snapshots are recorded on the newest HA",
)


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time on and run what became due (polls run as background tasks)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


async def send_json_body(
    request: web.Request, body: bytes, *, declared: bool
) -> web.StreamResponse:
    """Answer ``body`` as JSON, its length declared, or streamed in 64 KiB chunks."""
    if declared:
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), 64 * 1024):
        await response.write(body[start : start + 64 * 1024])
    await response.write_eof()
    return response
