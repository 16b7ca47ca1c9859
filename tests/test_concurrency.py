"""Many callers at once, against a real local server: one token request, every call served."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from .common import AUTH_DOMAIN, ISSUER, expire_token, manual_profile

CALLS = 1000


@pytest.mark.usefixtures("socket_enabled", "setup_credentials")
async def test_concurrent_actions_at_token_expiry(
    hass: HomeAssistant, token_data: dict[str, Any]
) -> None:
    """1000 ``oauth2_rest.request`` calls as the token expires: exactly 1 refresh."""
    token_calls: list[str] = []
    valid = {"stored-access-token"}

    async def token(request: web.Request) -> web.Response:
        form = await request.post()
        token_calls.append(str(form["grant_type"]))
        await asyncio.sleep(0.05)  # callers keep arriving while it is in flight
        access = f"access-{len(token_calls)}"
        valid.clear()  # the old token dies with the refresh
        valid.add(access)
        return web.json_response(
            {
                "access_token": access,
                "refresh_token": f"refresh-{len(token_calls)}",
                "token_type": "Bearer",
                "expires_in": 3600,
            }
        )

    async def data(request: web.Request) -> web.Response:
        if request.headers.get("Authorization", "")[7:] not in valid:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response({"value": 42})

    app = web.Application()
    app.router.add_post("/token", token)
    app.router.add_get("/data", data)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        base = str(server.make_url("")).rstrip("/")
        entry = MockConfigEntry(
            domain=DOMAIN,
            title="Example (user@example.com)",
            unique_id=f"{ISSUER}#subject-1",
            data={
                "auth_implementation": AUTH_DOMAIN,
                "token": token_data,
                "provider": manual_profile(
                    token_url=f"{base}/token",
                    api_base_url=base,
                    client_auth="client_secret_post",
                ).as_dict(),
                "scopes": ["read"],
                "subject": "subject-1",
            },
        )
        entry.add_to_hass(hass)
        assert await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        assert token_calls == []

        expire_token(hass, entry, time.time() - 1)
        results = await asyncio.gather(
            *(
                hass.services.async_call(
                    DOMAIN,
                    "request",
                    {"config_entry_id": entry.entry_id, "url": "/data"},
                    blocking=True,
                    return_response=True,
                )
                for _ in range(CALLS)
            )
        )
    finally:
        await server.close()

    assert token_calls == ["refresh_token"]
    assert len(results) == CALLS
    assert all(
        result is not None
        and result["status"] == 200
        and result["json"] == {"value": 42}
        for result in results
    )
