"""The redirect URI every form names is the one the authorization request sends.

The flow is driven over HTTP as the frontend drives it (with or without its
``HA-Frontend-Base`` header); the Application Credentials dialog is asked over
the websocket, as the frontend asks it.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.core_config import async_process_ha_core_config
from homeassistant.helpers.config_entry_oauth2_flow import (
    HEADER_FRONTEND_BASE,
    MY_AUTH_CALLBACK_PATH,
    AbstractOAuth2Implementation,
    ImplementationUnavailableError,
    _decode_jwt,
    async_add_implementation_provider,
)
from homeassistant.helpers.network import NoURLAvailableError
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.typing import (
    ClientSessionGenerator,
    WebSocketGenerator,
)
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN

from .common import AUTHORIZE_URL, CLIENT_ID, CLIENT_SECRET, TOKEN_URL

pytestmark = pytest.mark.usefixtures("setup_application_credentials")

EXTERNAL_URL = "https://ha.example.org"
CALLBACK = f"{EXTERNAL_URL}/auth/external/callback"
FLOW_URL = "/api/config/config_entries/flow"


@pytest.fixture
async def http_flows(hass: HomeAssistant) -> None:
    """The config flow HTTP API the frontend uses; the instance's external URL."""
    assert await async_setup_component(hass, "config", {})
    await async_process_ha_core_config(hass, {"external_url": EXTERNAL_URL})


def load_my(hass: HomeAssistant) -> None:
    """What setting up ``my`` leaves behind, and all the OAuth2 helper reads.

    (``my`` itself needs the frontend package, which the minimum-HA venv lacks;
    the browser suite runs Home Assistant with ``default_config``.)
    """
    hass.config.components.add("my")


async def dialog_redirect_uri(hass: HomeAssistant, ws: WebSocketGenerator) -> str:
    """The redirect URI the Application Credentials dialog shows."""
    client = await ws(hass)
    await client.send_json_auto_id({"type": "application_credentials/config"})
    msg = await client.receive_json()
    assert msg["success"], msg
    placeholders = msg["result"]["integrations"][DOMAIN]["description_placeholders"]
    return str(placeholders["redirect_uri"])


async def link_over_http(
    hass: HomeAssistant, http: ClientSessionGenerator, headers: dict[str, str]
) -> tuple[str, dict[str, Any]]:
    """Walk a manual flow to the external step: (URI the form shows, last step)."""
    client = await http()

    async def step(url: str, body: dict[str, Any]) -> dict[str, Any]:
        resp = await client.post(url, json=body, headers=headers)
        assert resp.status == HTTPStatus.OK, await resp.text()
        result: dict[str, Any] = await resp.json()
        return result

    result = await step(FLOW_URL, {"handler": DOMAIN})
    flow = f"{FLOW_URL}/{result['flow_id']}"
    await step(flow, {"next_step_id": "manual"})
    result = await step(
        flow,
        {
            "name": "Example",
            "authorize_url": AUTHORIZE_URL,
            "token_url": TOKEN_URL,
            "client_auth": "client_secret_basic",
            "pkce": "supported",
        },
    )
    assert result["step_id"] == "credentials"
    shown = result["description_placeholders"]["redirect_uri"]
    result = await step(flow, {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    return shown, result


def sent_redirect_uri(hass: HomeAssistant, result: dict[str, Any]) -> str:
    """The redirect URI of the authorization request; its state names the same."""
    assert result["type"] == "external", result
    url = URL(result["url"])
    assert str(url.with_query(None)) == AUTHORIZE_URL
    state = _decode_jwt(hass, url.query["state"])
    assert state["redirect_uri"] == url.query["redirect_uri"]
    return url.query["redirect_uri"]


@pytest.mark.usefixtures("http_flows")
async def test_with_my_everything_names_my_home_assistant(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """With ``my`` loaded: my.home-assistant.io in the dialog, the form and the request."""
    load_my(hass)
    shown, result = await link_over_http(
        hass, hass_client, {HEADER_FRONTEND_BASE: EXTERNAL_URL}
    )
    assert shown == MY_AUTH_CALLBACK_PATH
    assert sent_redirect_uri(hass, result) == MY_AUTH_CALLBACK_PATH
    assert await dialog_redirect_uri(hass, hass_ws_client) == MY_AUTH_CALLBACK_PATH


@pytest.mark.usefixtures("http_flows")
async def test_without_my_the_address_home_assistant_was_opened_with(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_ws_client: WebSocketGenerator,
) -> None:
    """Without ``my``: the frontend's address, in the form and in the request."""
    frontend_base = "http://homeassistant.local:8123"
    shown, result = await link_over_http(
        hass, hass_client, {HEADER_FRONTEND_BASE: frontend_base}
    )
    assert shown == f"{frontend_base}/auth/external/callback"
    assert sent_redirect_uri(hass, result) == shown
    # The dialog (a websocket, no frontend header) names the configured address.
    assert await dialog_redirect_uri(hass, hass_ws_client) == CALLBACK


@pytest.mark.usefixtures("http_flows")
async def test_without_frontend_header_the_configured_address(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """A flow driven without the frontend's header sends what its form showed."""
    shown, result = await link_over_http(hass, hass_client, {})
    assert shown == CALLBACK
    assert sent_redirect_uri(hass, result) == CALLBACK


@pytest.mark.usefixtures("http_flows")
async def test_no_address_known(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """No address at all: the form shows a template, the flow stops, nothing is sent."""
    with patch(
        "custom_components.oauth2_rest.redirect.get_url",
        side_effect=NoURLAvailableError,
    ):
        shown, result = await link_over_http(hass, hass_client, {})
    assert shown == "http://<your Home Assistant address>:8123/auth/external/callback"
    assert result["type"] == "abort"
    assert result["reason"] == "no_url_available"


# -- what default_config loads besides us ------------------------------------------------
# Home Assistant Cloud (part of default_config) adds an OAuth2 implementation
# provider; when its account link server is out of reach (offline, or an outage)
# it raises, and Home Assistant then raises from async_get_implementations.


async def cloud_offline(
    hass: HomeAssistant, domain: str
) -> list[AbstractOAuth2Implementation]:
    """Home Assistant Cloud's provider without its account link server."""
    raise ImplementationUnavailableError(
        "Cannot provide OAuth2 implementation for cloud services. "
        "Failed to fetch from account link server."
    )


@pytest.mark.usefixtures("http_flows")
async def test_link_while_cloud_cannot_provide(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """No stored credential and the cloud's provider failing: the flow goes on."""
    async_add_implementation_provider(hass, "cloud", cloud_offline)
    shown, result = await link_over_http(hass, hass_client, {})
    assert sent_redirect_uri(hass, result) == shown
