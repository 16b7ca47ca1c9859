"""The account flow's credentials: entered, picked, in conflict, deleted meanwhile."""

from __future__ import annotations

import base64

from homeassistant.components.application_credentials import (
    DATA_COMPONENT,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.flow.account_forms import NEW_CREDENTIAL

from ..common import (
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_TOKEN,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    fields,
    start_manual_flow,
    stored_credentials,
    suggested,
    token_form,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


# -- credentials ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("client_auth", "user_input", "errors"),
    [
        (
            "client_secret_basic",
            {"client_id": "", "client_secret": CLIENT_SECRET},
            {"client_id": "client_id_required"},
        ),
        (
            "client_secret_post",
            {"client_secret": "s"},
            {"client_id": "client_id_required"},
        ),
        (
            "client_secret_basic",
            {"client_id": CLIENT_ID},
            {"client_secret": "client_secret_required"},
        ),
        (
            "client_secret_post",
            {"client_id": CLIENT_ID, "client_secret": "   "},
            {"client_secret": "client_secret_required"},
        ),
        (
            "client_secret_basic",
            {
                "client_id": CLIENT_ID,
                "client_secret": CLIENT_SECRET,
                "api_base_url": "api.example.com",
            },
            {"api_base_url": "invalid_url"},
        ),
        (
            "none",
            {"client_id": " ", "api_base_url": "ftp://api.example.com"},
            {"client_id": "client_id_required", "api_base_url": "invalid_url"},
        ),
    ],
)
async def test_credentials_errors(
    hass: HomeAssistant,
    client_auth: str,
    user_input: dict[str, str],
    errors: dict[str, str],
) -> None:
    """Missing client id or secret and a bad API base URL are field errors."""
    result = await start_manual_flow(hass, client_auth)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["errors"] == errors
    # What was typed is offered again, except the secret.
    if "client_id" in user_input:
        assert suggested(result, "client_id") == user_input["client_id"]
    assert suggested(result, "client_secret") is None
    assert await stored_credentials(hass) == {}


async def test_credential_conflict(hass: HomeAssistant) -> None:
    """A stored client id with another secret is not silently replaced."""
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(CLIENT_ID, CLIENT_SECRET, "Example"),
        auth_domain=AUTH_DOMAIN,
    )
    stored = await stored_credentials(hass)
    assert stored == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "credential": NEW_CREDENTIAL,
            "client_id": CLIENT_ID,
            "client_secret": "other",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"client_id": "credential_conflict"}
    assert await stored_credentials(hass) == stored

    # The same id with the same secret is the stored credential: fine.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP


@pytest.mark.usefixtures("setup_credentials")
async def test_pick_stored_credential(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A credential from Application Credentials is offered and used as is."""
    before = await stored_credentials(hass)
    assert before == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}
    result = await start_manual_flow(hass)
    assert suggested(result, "credential") == NEW_CREDENTIAL
    options = result["data_schema"].schema["credential"].config["options"]
    assert options == [
        {"value": NEW_CREDENTIAL, "label": "+"},
        {"value": AUTH_DOMAIN, "label": f"Example ({CLIENT_ID})"},
    ]

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"credential": AUTH_DOMAIN, "scopes": "read"}
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert url.query["client_id"] == CLIENT_ID
    assert url.query["scope"] == "read"

    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "user-42"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Example (user-42)"
    assert result["result"].data["auth_implementation"] == AUTH_DOMAIN
    _, headers = token_form(aioclient_mock, TOKEN_URL)
    expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
    assert headers["Authorization"] == f"Basic {expected}"
    assert await stored_credentials(hass) == before


@pytest.mark.usefixtures("setup_credentials")
async def test_picked_credential_deleted_meanwhile(hass: HomeAssistant) -> None:
    """A credential deleted between showing and submitting the form: a form error."""
    result = await start_manual_flow(hass)
    await hass.data[DATA_COMPONENT].async_delete_item(AUTH_DOMAIN)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"credential": AUTH_DOMAIN, "scopes": "read"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["errors"] == {"base": "credential_missing"}
    # Nothing stored is left to pick, and the deleted one is not suggested.
    assert "credential" not in fields(result)
    assert suggested(result, "scopes") == "read"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
