"""Fixtures for the demo provider tests: an in-process server with a controllable clock."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
import html as html_lib
import importlib.util
import re
import socket
from typing import TYPE_CHECKING, Any

from aiohttp.test_utils import TestClient, TestServer
import pytest

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
