"""Re-authentication: the same account again, never another; a new secret kept on success."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any
from unittest.mock import AsyncMock

from homeassistant.components.application_credentials import (
    DATA_COMPONENT,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.oauth2_rest.const import DOMAIN

from ..common import (
    AUTH_DOMAIN,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    NEW_AUTH_DOMAIN,
    NEW_TOKEN,
    ROTATED_DOMAIN,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    fields,
    manual_profile,
    requested,
    stored_credentials,
    suggested,
    token_form,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


# -- reauth ----------------------------------------------------------------------------


async def start_reauth(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    user_input: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Load the entry, start its reauth flow and confirm (with user_input)."""
    config_entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(config_entry.entry_id)
    await hass.async_block_till_done()
    result = await config_entry.start_reauth_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reauth_confirm"
    assert result["description_placeholders"]["account"] == config_entry.title
    assert fields(result) == ["client_secret"]
    assert suggested(result, "client_secret") is None
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input or {}
    )


@pytest.mark.usefixtures("setup_credentials")
async def test_reauth_success(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """Re-linking the same account updates the token and reloads the entry."""
    result = await start_reauth(hass, config_entry)
    assert mock_setup_entry.call_count == 1
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == AUTHORIZE_URL
    assert url.query["client_id"] == CLIENT_ID
    assert url.query["scope"] == "read"

    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(
        USERINFO_URL, json={"sub": "subject-1", "email": "user@example.com"}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.unique_id == f"{ISSUER}#subject-1"
    assert config_entry.title == "Example (user@example.com)"
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert config_entry.data["token"]["refresh_token"] == "new-refresh-token"
    assert config_entry.data["auth_implementation"] == AUTH_DOMAIN
    assert config_entry.data["subject"] == "subject-1"
    assert config_entry.data["scopes"] == ["read"]
    assert mock_setup_entry.call_count == 2
    assert config_entry.state is ConfigEntryState.LOADED
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


@pytest.mark.usefixtures("setup_credentials")
async def test_reauth_wrong_account(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """Logging in as someone else does not touch the entry."""
    data_before = dict(config_entry.data)
    result = await start_reauth(hass, config_entry)
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "someone-else"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "wrong_account"
    assert dict(config_entry.data) == data_before
    assert config_entry.unique_id == f"{ISSUER}#subject-1"
    assert mock_setup_entry.call_count == 1


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize("source", ["reauth", "reconfigure"])
@pytest.mark.parametrize(
    ("subject", "reason"),
    [("subject-1", None), ("someone-else", "wrong_account")],
)
async def test_relink_lookup_failure_is_not_the_stored_account(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    source: str,
    subject: str,
    reason: str | None,
) -> None:
    """A failed userinfo lookup never stands in for the entry's account.

    The retry finds out who logged in: another account still aborts.
    """
    data_before = dict(config_entry.data)
    if source == "reauth":
        result = await start_reauth(hass, config_entry)
        reason = reason or "reauth_successful"
        setups = 1
    else:
        config_entry.add_to_hass(hass)
        result = await config_entry.start_reconfigure_flow(hass)
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], {"name": "Work", "scopes": "read write"}
        )
        reason = reason or "reconfigure_successful"
        setups = 0
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, status=HTTPStatus.SERVICE_UNAVAILABLE)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identify"
    assert result["errors"] == {"base": "identify_failed"}
    assert dict(config_entry.data) == data_before
    assert mock_setup_entry.call_count == setups

    aioclient_mock.clear_requests()
    aioclient_mock.get(USERINFO_URL, json={"sub": subject})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert requested(aioclient_mock) == [("GET", USERINFO_URL)]
    assert config_entry.unique_id == f"{ISSUER}#subject-1"
    if reason == "wrong_account":
        assert dict(config_entry.data) == data_before
        assert mock_setup_entry.call_count == setups
    else:
        assert config_entry.data["token"]["access_token"] == "new-access-token"
        assert config_entry.data["subject"] == "subject-1"
        assert mock_setup_entry.call_count == setups + 1


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("userinfo_url", "userinfo", "flagged"),
    [
        # The provider still cannot tell; the entry's name is kept.
        (None, None, True),
        # An entry named before the flag existed: the provider cannot tell either.
        (None, None, False),
        # The provider identifies accounts by now (userinfo added later): the
        # entry, known by the user's name, is kept, not locked out as another one.
        (USERINFO_URL, {"sub": "real-subject"}, True),
    ],
)
async def test_reauth_of_an_entry_named_by_the_user(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    userinfo_url: str | None,
    userinfo: dict[str, Any] | None,
    flagged: bool,
) -> None:
    """An entry whose subject the user gave keeps it: nothing can check it."""
    data = {
        **config_entry.data,
        "provider": manual_profile(userinfo_url=userinfo_url).as_dict(),
        "subject": "Home",
    }
    if flagged:
        data["subject_from_user"] = True
    config_entry = MockConfigEntry(
        domain=DOMAIN, title="Example (Home)", unique_id=f"{ISSUER}#Home", data=data
    )
    result = await start_reauth(hass, config_entry)
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    if userinfo is not None:
        aioclient_mock.get(USERINFO_URL, json=userinfo)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.unique_id == f"{ISSUER}#Home"
    assert config_entry.data["subject"] == "Home"
    assert config_entry.data.get("subject_from_user", False) is flagged
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert len(requested(aioclient_mock)) == (1 if userinfo is None else 2)


def linked_entry(unique_id: str, auth_domain: str = AUTH_DOMAIN) -> MockConfigEntry:
    """Another linked account of the test provider."""
    return MockConfigEntry(
        domain=DOMAIN,
        title=f"Example ({unique_id})",
        unique_id=f"{ISSUER}#{unique_id}",
        data={
            "auth_implementation": auth_domain,
            "token": {"access_token": "x", "expires_at": 0},
            "provider": manual_profile().as_dict(),
            "scopes": ["read"],
            "subject": unique_id,
        },
    )


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("others", "new_domain", "expected"),
    [
        # Nothing else: the old credential goes, the new one takes its place.
        ({}, ROTATED_DOMAIN, {ROTATED_DOMAIN: (CLIENT_ID, "rotated")}),
        (  # The next auth domain is taken by a stored credential.
            {"credential": ROTATED_DOMAIN},
            f"{AUTH_DOMAIN}_3",
            {
                ROTATED_DOMAIN: ("other-client", "other-secret"),
                f"{AUTH_DOMAIN}_3": (CLIENT_ID, "rotated"),
            },
        ),
        (  # ... or still named by an entry whose credential was deleted.
            {"entry": ROTATED_DOMAIN},
            f"{AUTH_DOMAIN}_3",
            {f"{AUTH_DOMAIN}_3": (CLIENT_ID, "rotated")},
        ),
        (  # Another entry still uses the old credential: it stays.
            {"entry": AUTH_DOMAIN},
            ROTATED_DOMAIN,
            {
                AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET),
                ROTATED_DOMAIN: (CLIENT_ID, "rotated"),
            },
        ),
    ],
)
async def test_reauth_with_new_client_secret(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    others: dict[str, str],
    new_domain: str,
    expected: dict[str, tuple[str, str]],
) -> None:
    """A rotated secret: used for the grant, then stored as a new credential."""
    if "credential" in others:
        await async_import_client_credential(
            hass,
            DOMAIN,
            ClientCredential("other-client", "other-secret", "Other"),
            auth_domain=others["credential"],
        )
    if "entry" in others:
        linked_entry("other", others["entry"]).add_to_hass(hass)
    result = await start_reauth(hass, config_entry, {"client_secret": " rotated "})
    # Nothing changes before the grant works.
    assert config_entry.data["auth_implementation"] == AUTH_DOMAIN
    assert (await stored_credentials(hass))[AUTH_DOMAIN] == (CLIENT_ID, CLIENT_SECRET)
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    expected_auth = base64.b64encode(f"{CLIENT_ID}:rotated".encode()).decode()
    assert token_form(aioclient_mock, TOKEN_URL)[1]["Authorization"] == (
        f"Basic {expected_auth}"
    )
    assert config_entry.data["auth_implementation"] == new_domain
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert await stored_credentials(hass) == expected
    assert mock_setup_entry.call_count == 2 + ("entry" in others)
    assert config_entry.state is ConfigEntryState.LOADED


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("token_response", "subject", "reason"),
    [
        (
            {"status": HTTPStatus.UNAUTHORIZED, "json": {"error": "invalid_client"}},
            None,
            "oauth_unauthorized",
        ),
        ({"json": NEW_TOKEN}, "someone-else", "wrong_account"),
    ],
)
async def test_reauth_new_client_secret_not_kept_on_failure(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    token_response: dict[str, Any],
    subject: str | None,
    reason: str,
) -> None:
    """A refused secret, or another account: the stored credential stays as is."""
    data_before = dict(config_entry.data)
    result = await start_reauth(hass, config_entry, {"client_secret": "wrong"})
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, **token_response)
    if subject is not None:
        aioclient_mock.get(USERINFO_URL, json={"sub": subject})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert dict(config_entry.data) == data_before
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}
    assert mock_setup_entry.call_count == 1


@pytest.mark.usefixtures("setup_credentials")
async def test_reauth_same_client_secret_is_no_change(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """Entering the stored secret again keeps the stored credential."""
    result = await start_reauth(hass, config_entry, {"client_secret": CLIENT_SECRET})
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["reason"] == "reauth_successful"
    assert config_entry.data["auth_implementation"] == AUTH_DOMAIN
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


async def test_reauth_after_credential_deleted(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """Without its credential, reauth asks for one, then re-links with it."""
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential(CLIENT_ID, CLIENT_SECRET, "Example"),
        auth_domain=AUTH_DOMAIN,
    )
    # Deleted under Settings (possible only while no entry uses it).
    await hass.data[DATA_COMPONENT].async_delete_item(AUTH_DOMAIN)
    assert await stored_credentials(hass) == {}
    config_entry.add_to_hass(hass)
    # Scopes other than the provider's defaults ("read") were granted.
    hass.config_entries.async_update_entry(
        config_entry, data={**config_entry.data, "scopes": ["read", "history"]}
    )

    result = await config_entry.start_reauth_flow(hass)
    assert result["step_id"] == "reauth_confirm"
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["description_placeholders"]["provider"] == "Example"
    assert suggested(result, "scopes") == "read history"  # the entry's scopes
    assert suggested(result, "api_base_url") == "https://api.example.com/v1"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": "new-client",
            "client_secret": "new-secret",
            "scopes": "read history",
        },
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert url.query["client_id"] == "new-client"
    assert url.query["scope"] == "read history"
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()

    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reauth_successful"
    assert config_entry.data["auth_implementation"] == NEW_AUTH_DOMAIN
    assert config_entry.data["scopes"] == ["read", "history"]
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert await stored_credentials(hass) == {
        NEW_AUTH_DOMAIN: ("new-client", "new-secret")
    }
    expected = base64.b64encode(b"new-client:new-secret").decode()
    assert token_form(aioclient_mock, TOKEN_URL)[1]["Authorization"] == (
        f"Basic {expected}"
    )
    assert mock_setup_entry.call_count == 1
