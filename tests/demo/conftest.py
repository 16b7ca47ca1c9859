"""Fixtures for the demo provider tests: an in-process server with a controllable clock."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial
import html as html_lib
import importlib.util
import re
import socket
from typing import TYPE_CHECKING, Any
from unittest.mock import patch

from aiohttp import ClientSession, CookieJar
from aiohttp.test_utils import TestClient, TestServer
from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.setup import async_setup_component
import pytest

from custom_components.oauth2_rest.oauth.device import async_poll_device_token

from ..common import discover

if TYPE_CHECKING:
    from demo.config import DemoConfig

# The demo needs authlib, which only the main venv has (not .venv-ha-min): skip it elsewhere.
if importlib.util.find_spec("authlib") is None:
    collect_ignore_glob = ["test_*.py"]

ISSUER = "http://127.0.0.1:8765"
REDIRECT_URI = "http://localhost:8123/auth/external/callback"


class FakeClock:
    """A clock the tests move forward by hand."""

    def __init__(self) -> None:
        """Start at a fixed time."""
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        """Return the current fake time."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time forward."""
        self.now += seconds


@dataclass
class Provider:
    """A running demo provider and a browser-like client for it."""

    client: TestClient
    config: DemoConfig
    clock: FakeClock

    def url(self, path: str) -> str:
        """Absolute URL of a path on the test server."""
        return str(self.client.make_url(path))


type ProviderFactory = Callable[..., Awaitable[Provider]]


@pytest.fixture
def clock() -> FakeClock:
    """The fake clock shared by the provider."""
    return FakeClock()


@pytest.fixture
async def make_provider(
    aiohttp_client: Any, clock: FakeClock, socket_enabled: None
) -> ProviderFactory:
    """Start a demo provider (on 127.0.0.1, the only host tests may reach) with overrides."""

    from demo.config import DemoConfig
    from demo.server import create_app

    async def start(**overrides: Any) -> Provider:
        settings: dict[str, Any] = {
            "issuer": ISSUER,
            "token_ttl": 60,
            "device_interval": 5,
            "clock": clock,
        }
        settings.update(overrides)
        config = DemoConfig(**settings)
        client = await aiohttp_client(create_app(config))
        return Provider(client=client, config=config, clock=clock)

    return start


@pytest.fixture
async def provider(make_provider: ProviderFactory) -> Provider:
    """A demo provider with default settings."""
    return await make_provider()


def hidden_field(html: str, name: str) -> str:
    """Value of a hidden form field in one of the provider's pages."""
    match = re.search(rf"name={name} value=[\"']([^\"']*)[\"']", html)
    assert match, f"no hidden field {name!r} in page"
    return html_lib.unescape(match.group(1))


def free_port() -> int:
    """A port on 127.0.0.1 nobody listens on (for an issuer known before start)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def issuer(clock: FakeClock) -> AsyncIterator[str]:
    """The demo provider, running on loopback with its real issuer URL."""
    from demo.config import DemoConfig
    from demo.server import create_app

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    config = DemoConfig(issuer=url, token_ttl=60, device_interval=5, clock=clock)
    server = TestServer(create_app(config), host="127.0.0.1", port=port)
    await server.start_server()
    yield url
    await server.close()


# -- linking an account at the demo provider (device login) --------------------------

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
        result = await discover(hass, result["flow_id"], issuer)
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
