"""Short access tokens: a failed early refresh never makes values unavailable.

The account's token endpoint is down (HTTP 503 from a real server) while its
60 s access token still works: polls keep sending that token until shortly
before it expires, and the early refresh starts well before that point.
"""

from __future__ import annotations

from datetime import UTC, datetime
import time
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
import pytest

from .echo import EchoServers, async_load_echo_entry, echo_subentry

LIFETIME = 60


@pytest.fixture
def token_data() -> dict[str, Any]:
    """A 60 s access token with 25 s left: due for its early refresh."""
    return {
        "access_token": "stored-access-token",
        "refresh_token": "stored-refresh-token",
        "token_type": "Bearer",
        "expires_in": LIFETIME,
        "expires_at": time.time() + 25,
    }


@pytest.mark.usefixtures("setup_credentials")
async def test_failed_early_refresh_of_a_60s_token_keeps_values(
    hass: HomeAssistant,
    echo_servers: EchoServers,
    token_data: dict[str, Any],
    freezer: FrozenDateTimeFactory,
) -> None:
    """25 s and 18 s before expiry the refresh fails; the token is still sent."""
    entry = await async_load_echo_entry(
        hass, echo_servers, token_data, [echo_subentry()], token_path="/status/503"
    )
    assert entry.state is ConfigEntryState.LOADED
    coordinator = entry.runtime_data.endpoints["endpoint_echo"]

    def token_posts() -> int:
        return sum(
            r.method == "POST" and r.path_qs == "/status/503"
            for r in echo_servers.received_by("api")
        )

    shown, sent, tried = [], [], []
    for left in (25, 18):
        freezer.move_to(datetime.fromtimestamp(token_data["expires_at"] - left, UTC))
        posts = token_posts()
        await coordinator.async_refresh()
        await hass.async_block_till_done()
        tried.append(token_posts() > posts)
        state = hass.states.get("sensor.echo")
        shown.append(state.state if state else None)
        sent.append(echo_servers.received_by("api")[-1].headers["Authorization"])
    assert STATE_UNAVAILABLE not in shown
    assert shown == ["GET", "GET"]
    assert sent == ["Bearer stored-access-token"] * 2
    assert tried == [True, True]  # the early refresh was tried, and failed
