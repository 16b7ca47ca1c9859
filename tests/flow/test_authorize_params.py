"""Extra authorization parameters: entered by hand, changed by reconfigure."""

from __future__ import annotations

from typing import Any
from unittest.mock import patch

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.flow.text import parse_authorize_params

from ..common import authorize, fields, start_step, suggested

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)

MANUAL = {
    "name": "Example",
    "authorize_url": "https://auth.example.com/authorize",
    "token_url": "https://auth.example.com/token",
    "client_auth": "client_secret_basic",
    "pkce": "supported",
    "scopes": "read",
}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, {}),
        ("", {}),
        (
            "access_type=offline\n\n prompt = consent ",
            {"access_type": "offline", "prompt": "consent"},
        ),
        (
            "audience=https://api.example.com/?a=b",
            {"audience": "https://api.example.com/?a=b"},
        ),
        ("resource=", {"resource": ""}),
        ("no equals sign", None),
        ("=value", None),
        ("scope=admin", None),  # set from the scopes field
        ("redirect_uri=https://evil.example", None),
        ("code_challenge_method=plain", None),
    ],
)
def test_parse_authorize_params(
    text: str | None, expected: dict[str, str] | None
) -> None:
    """``name=value`` lines; what the integration sets itself is refused."""
    assert parse_authorize_params(text) == expected


@pytest.mark.parametrize("text", ["prompt consent", "state=x", "response_type=token"])
async def test_manual_entry_refuses_bad_params(hass: HomeAssistant, text: str) -> None:
    """Malformed or reserved: a translated error on the field, nothing lost."""
    result = await start_step(hass, "manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**MANUAL, "extra_authorize_params": text}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == {"extra_authorize_params": "invalid_authorize_params"}
    assert suggested(result, "extra_authorize_params") == text
    assert suggested(result, "token_url") == MANUAL["token_url"]


async def test_manual_entry_params_go_to_the_provider(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """The parameters are in the authorize URL (and in the stored profile)."""
    result = await start_step(hass, "manual")
    assert "extra_authorize_params" in fields(result)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            **MANUAL,
            "extra_authorize_params": "access_type=offline\nprompt=consent\n"
            "resource=https://api.example.com",
        },
    )
    # The credentials form shows them again, for this link.
    shown = suggested(result, "extra_authorize_params")
    assert shown == (
        "access_type=offline\nprompt=consent\nresource=https://api.example.com"
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": "cid",
            "client_secret": "s",
            "scopes": "read",
            "extra_authorize_params": shown,
        },
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert url.query["access_type"] == "offline"
    assert url.query["prompt"] == "consent"
    assert url.query["resource"] == "https://api.example.com"
    assert url.query["scope"] == "read"


@pytest.fixture
def params_entry(config_entry: MockConfigEntry) -> MockConfigEntry:
    """The test account, its profile asking for offline access."""
    provider = {
        **config_entry.data["provider"],
        "extra_authorize_params": {"access_type": "offline"},
    }
    return MockConfigEntry(
        domain=config_entry.domain,
        title=config_entry.title,
        unique_id=config_entry.unique_id,
        data={**config_entry.data, "provider": provider},
    )


@pytest.mark.usefixtures("setup_credentials", "mock_setup_entry")
async def test_reconfigure_params(
    hass: HomeAssistant, params_entry: MockConfigEntry
) -> None:
    """Shown as lines; a bad line is an error; new ones need a new authorization."""
    params_entry.add_to_hass(hass)
    result = await params_entry.start_reconfigure_flow(hass)
    assert suggested(result, "extra_authorize_params") == "access_type=offline"
    base: dict[str, Any] = {"name": "Example", "scopes": "read"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, "extra_authorize_params": "prompt"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"extra_authorize_params": "invalid_authorize_params"}
    assert suggested(result, "extra_authorize_params") == "prompt"

    # Unchanged: only the name is saved, no new grant.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {**base, "extra_authorize_params": "access_type=offline"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"

    result = await params_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {**base, "extra_authorize_params": "access_type=offline\nprompt=login"},
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    query = URL(result["url"]).query
    assert query["access_type"] == "offline"
    assert query["prompt"] == "login"


async def test_credentials_step_params_for_a_preset(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A preset's link can add parameters: Auth0's audience for client credentials."""
    result = await start_step(hass, "preset")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"preset": "auth0"}
    )
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"domain": "tenant.eu.auth0.com"}
    )
    assert result["step_id"] == "credentials"
    assert suggested(result, "extra_authorize_params") == ""
    user_input = {
        "client_id": "m2m",
        "client_secret": "s",
        "scopes": "read:things",
        "extra_authorize_params": "audience",
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["errors"] == {"extra_authorize_params": "invalid_authorize_params"}
    assert suggested(result, "extra_authorize_params") == "audience"

    user_input["extra_authorize_params"] = "audience=https://things.example.com"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["auth", "device", "client_credentials"]
    token_url = "https://tenant.eu.auth0.com/oauth/token"
    aioclient_mock.post(
        token_url, json={"access_token": "t", "token_type": "Bearer", "expires_in": 60}
    )
    with patch("custom_components.oauth2_rest.async_setup_entry", return_value=True):
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"next_step_id": "client_credentials"}
        )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == "https://tenant.eu.auth0.com/#m2m"
    (call,) = aioclient_mock.mock_calls
    assert call[2] == {
        "grant_type": "client_credentials",
        "scope": "read:things",
        "audience": "https://things.example.com",
        "client_id": "m2m",
        "client_secret": "s",
    }
