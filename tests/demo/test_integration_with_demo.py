"""The integration's config flow against the real demo provider, over loopback HTTP.

No mocks between Home Assistant and the authorization server: discovery, the device
authorization grant (RFC 8628) with the user approving on the provider's own pages,
the token, the id_token identity, then the entry polling the provider's API.
"""

from __future__ import annotations

import asyncio
from functools import partial
import time
from typing import Any
from unittest.mock import patch

from aiohttp import ClientSession, CookieJar
from homeassistant.config_entries import (
    SOURCE_USER,
    ConfigEntry,
    ConfigEntryState,
    ConfigSubentry,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest

from custom_components.oauth2_rest.oauth.device import async_poll_device_token

from ..common import endpoint_subentry, expire_token
from .conftest import FakeClock, hidden_field

pytestmark = pytest.mark.usefixtures("socket_enabled", "current_request_with_host")

SCOPES = ["openid", "offline_access", "profile", "api:read"]


async def approve_on_the_provider(issuer: str, user_code: str) -> None:
    """What the user does on their phone: log in, enter the code, allow."""
    # A cookie jar that keeps cookies of an IP-address host, as a browser does.
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        login = await browser.post(
            f"{issuer}/login",
            data={"username": "demo", "password": "demo", "next": "/device"},
        )
        csrf = hidden_field(await login.text(), "csrf")
        done = await browser.post(
            f"{issuer}/device",
            data=[
                ("csrf", csrf),
                ("user_code", user_code),
                ("decision", "allow"),
                *(("grant_scope", scope) for scope in SCOPES),
            ],
        )
        assert "Device connected" in await done.text()


async def async_link_on_device(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> dict[str, Any]:
    """Discover, log in on another device: the flow's final result."""
    assert await async_setup_component(hass, "application_credentials", {})
    approved = asyncio.Event()

    async def sleep(seconds: float) -> None:
        # The provider's clock moves with the polling, once the user approved.
        await approved.wait()
        clock.advance(seconds)

    with patch(
        "custom_components.oauth2_rest.oauth.device.async_poll_device_token",
        partial(async_poll_device_token, sleep=sleep, clock=clock),
    ):
        result = await hass.config_entries.flow.async_init(
            "oauth2_rest", context={"source": SOURCE_USER}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "discovery"}
        )
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"issuer_url": issuer}
        )
        assert result["step_id"] == "credentials"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"],
            {
                "client_id": "home-assistant",
                "client_secret": "demo-secret",
                "scopes": " ".join(SCOPES),
                "api_base_url": issuer,
            },
        )
        assert result["type"] is FlowResultType.MENU
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "device"}
        )
        assert result["type"] is FlowResultType.FORM
        assert result["step_id"] == "device"
        placeholders: dict[str, Any] = result["description_placeholders"]
        assert placeholders["verification_uri"] == f"{issuer}/device"
        # The QR code holds the provider's own link with the code filled in.
        qr = result["data_schema"].schema["qr_code"].config["data"]
        assert qr == f"{issuer}/device?user_code={placeholders['user_code']}"

        await approve_on_the_provider(issuer, placeholders["user_code"])
        approved.set()
        result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
        assert result["type"] in (
            FlowResultType.SHOW_PROGRESS,
            FlowResultType.SHOW_PROGRESS_DONE,
        )
        await hass.async_block_till_done()
        result = await hass.config_entries.flow.async_configure(result["flow_id"])
    return dict(result)


async def test_device_login_against_the_demo_provider(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> None:
    """Discover, log in on another device, get the entry, read the API."""
    result = await async_link_on_device(hass, issuer, clock)
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.unique_id == f"{issuer}#user-demo"  # the id_token's sub
    assert entry.data["token"]["refresh_token"]
    assert entry.data["scopes"] == SCOPES
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED

    # The token works at the provider's API, through the action.
    response = await hass.services.async_call(
        "oauth2_rest",
        "request",
        {"config_entry_id": entry.entry_id, "url": "/api/weather"},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["status"] == 200
    assert "temperature" in response["json"]


async def start_discovered(hass: HomeAssistant, issuer: str) -> dict[str, Any]:
    """Discover the demo provider; the credentials form."""
    result = await hass.config_entries.flow.async_init(
        "oauth2_rest", context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "discovery"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"issuer_url": issuer}
    )
    assert result["step_id"] == "credentials"
    return result


async def add_weather_endpoint(hass: HomeAssistant, entry: ConfigEntry) -> str:
    """Give the account an endpoint polling the demo's /api/weather; its entity."""
    data = endpoint_subentry(url="/api/weather")
    hass.config_entries.async_add_subentry(entry, ConfigSubentry(**data))
    await hass.config_entries.async_reload(entry.entry_id)
    await hass.async_block_till_done()
    assert entry.state is ConfigEntryState.LOADED
    return "sensor.weather"


async def test_client_credentials_against_the_demo_provider(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> None:
    """Discovery offers it; no login; the API is polled; an expired token renewed."""
    assert await async_setup_component(hass, "application_credentials", {})
    result = await start_discovered(hass, issuer)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": "home-assistant",
            "client_secret": "demo-secret",
            "scopes": "api:read",
            "api_base_url": issuer,
        },
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["auth", "device", "client_credentials"]
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "client_credentials"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    assert entry.unique_id == f"{issuer}#home-assistant"
    assert entry.data["token"]["client_credentials"] == {"scope": "api:read"}
    assert "refresh_token" not in entry.data["token"]
    await hass.async_block_till_done()
    sensor = await add_weather_endpoint(hass, entry)
    assert float(hass.states.get(sensor).state) > -50
    first = entry.data["token"]["access_token"]

    # The provider's clock passes the token's life: the API says 401, a new
    # client credentials request gets the next token, the poll goes through.
    clock.advance(3600)
    coordinator = next(iter(entry.runtime_data.endpoints.values()))
    await coordinator.async_refresh()
    assert coordinator.last_update_success
    assert entry.data["token"]["access_token"] != first
    assert entry.runtime_data.account.data.consecutive_refresh_failures == 0


async def test_wrapped_token_front_found_by_itself(
    hass: HomeAssistant, issuer: str, clock: FakeClock
) -> None:
    """A Withings-like token endpoint entered by hand: its shape is found and kept."""
    clock.now = time.time()  # the front's absolute expiry is in the provider's time
    assert await async_setup_component(hass, "application_credentials", {})
    result = await hass.config_entries.flow.async_init(
        "oauth2_rest", context={"source": SOURCE_USER}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "manual"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Wrapped demo",
            "token_url": f"{issuer}/wrapped/token",
            "api_base_url": issuer,
            "client_auth": "client_secret_post",
            "pkce": "supported",
            "scopes": "api:read",
            "client_credentials": True,
        },
    )
    # A wrong secret: the front's error in an HTTP 200 is understood.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": "home-assistant", "client_secret": "nope"}
    )
    assert result["errors"] == {"base": "invalid_client"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": "home-assistant", "client_secret": "demo-secret"},
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY, result
    entry = result["result"]
    quirks = entry.data["provider"]["quirks"]
    assert quirks["wrapper_key"] == "body"
    assert quirks["status_key"] == "status"
    assert quirks["expires_at_field"] == "expires_at"
    assert quirks["detected"] == [
        "wrapper_key",
        "status_key",
        "status_ok",
        "expires_at_field",
    ]
    token = entry.data["token"]
    assert 55 <= token["expires_in"] <= 60  # the demo's 60 s, not "never"
    assert "non_expiring" not in token
    await hass.async_block_till_done()
    sensor = await add_weather_endpoint(hass, entry)
    assert float(hass.states.get(sensor).state) > -50

    # The next token comes through the same front, read with the stored quirks.
    first = token["access_token"]
    expire_token(hass, entry)
    await entry.runtime_data.account.async_refresh()
    assert entry.runtime_data.account.last_update_success
    assert entry.data["token"]["access_token"] != first
    assert 55 <= entry.data["token"]["expires_in"] <= 60
