"""Finishing a link: who the account is, token failures, denial, a second link."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from custom_components.oauth2_rest.const import DOMAIN

from ..common import (
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    NEW_AUTH_DOMAIN,
    NEW_TOKEN,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    fake_id_token,
    requested,
    start_manual_flow,
    start_preset_flow,
    stored_credentials,
    suggested,
    token_form,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


# -- identity --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("token_extra", "userinfo", "unique_id", "title"),
    [
        (  # id_token for this client: userinfo is not needed
            {"id_token": fake_id_token({"sub": "tok-sub", "aud": [CLIENT_ID, "x"]})},
            None,
            "https://auth.example.com#tok-sub",
            "Example (tok-sub)",
        ),
        (  # id_token for another client is ignored
            {"id_token": fake_id_token({"sub": "tok-sub", "aud": "someone-else"})},
            {"json": {"sub": "info-sub", "preferred_username": "ann"}},
            "https://auth.example.com#info-sub",
            "Example (ann)",
        ),
        (
            {},
            {"json": {"sub": 7, "name": "Ann Example"}},
            "https://auth.example.com#7",
            "Example (Ann Example)",
        ),
    ],
)
async def test_identity_sources(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    token_extra: dict[str, Any],
    userinfo: dict[str, Any] | None,
    unique_id: str,
    title: str,
) -> None:
    """The id_token's `sub` (for this client), else userinfo's."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json={**NEW_TOKEN, **token_extra})
    if userinfo is not None:
        aioclient_mock.get(USERINFO_URL, **userinfo)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["result"].unique_id == unique_id
    assert result["title"] == title
    userinfo_calls = [c for c in aioclient_mock.mock_calls if c[0] == "GET"]
    assert len(userinfo_calls) == (0 if userinfo is None else 1)


async def test_identity_from_token_response_field(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Strava names the athlete in the token response (`athlete.id`)."""
    result = await start_preset_flow(hass, "strava")
    assert suggested(result, "scopes") == "read activity:read"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": "12345",
            "client_secret": CLIENT_SECRET,
            "scopes": "read activity:read",
        },
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == "https://www.strava.com/oauth/authorize"
    assert url.query["scope"] == "read,activity:read"  # Strava's separator
    assert "code_challenge" not in url.query  # no PKCE at Strava

    aioclient_mock.post(
        "https://www.strava.com/oauth/token",
        json={
            **NEW_TOKEN,
            "expires_in": 21600,
            "athlete": {"id": 134815, "firstname": "Marianne"},
        },
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Strava (134815)"
    entry = result["result"]
    assert entry.unique_id == "https://www.strava.com#134815"
    assert entry.data["subject"] == "134815"
    assert entry.data["auth_implementation"] == "oauth2_rest_12345"
    # The token response said who it is: the athlete endpoint was not asked.
    assert requested(aioclient_mock) == [("POST", "https://www.strava.com/oauth/token")]
    form, _ = token_form(aioclient_mock, "https://www.strava.com/oauth/token")
    assert form["client_secret"] == CLIENT_SECRET
    assert "code_verifier" not in form


@pytest.mark.parametrize(
    "userinfo",
    [
        {"status": HTTPStatus.INTERNAL_SERVER_ERROR},
        {"status": HTTPStatus.UNAUTHORIZED},
        {"json": {"email": "no-subject@example.com"}},
        {"json": ["not", "an", "object"]},
        {"text": "not json"},
        {"exc": aiohttp.ClientError()},
        {"exc": TimeoutError()},
    ],
)
async def test_identity_lookup_failure_offers_retry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    userinfo: dict[str, Any],
) -> None:
    """Userinfo should tell but fails: ask again with the same token, never a name."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, **userinfo)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identify"
    assert result["errors"] == {"base": "identify_failed"}
    assert result["description_placeholders"] == {"provider": "Example"}
    assert result["data_schema"] is None  # nothing to enter: submit retries
    # Nothing is stored while the account is unknown.
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert await stored_credentials(hass) == {}

    # Still failing: the same form again.
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "identify"
    assert result["errors"] == {"base": "identify_failed"}

    # The provider answers: the entry gets the real subject, from the same token.
    aioclient_mock.clear_requests()
    aioclient_mock.get(USERINFO_URL, json={"sub": "user-42", "email": "me@x.org"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"], {})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Example (me@x.org)"
    entry = result["result"]
    assert entry.unique_id == f"{ISSUER}#user-42"
    assert entry.data["subject"] == "user-42"
    assert "subject_from_user" not in entry.data
    assert entry.data["token"]["access_token"] == "new-access-token"
    assert requested(aioclient_mock) == [("GET", USERINFO_URL)]
    assert aioclient_mock.mock_calls[0][3]["Authorization"] == (
        "Bearer new-access-token"
    )
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


async def test_netatmo_has_no_identity(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A preset without any account source goes to the account name step."""
    result = await start_preset_flow(hass, "netatmo")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": "read_station",
        },
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post("https://api.netatmo.com/oauth2/token", json=NEW_TOKEN)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["step_id"] == "account_name"
    assert result["description_placeholders"] == {"provider": "Netatmo"}
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"account_name": "Cottage"}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Netatmo (Cottage)"
    assert result["result"].unique_id == "https://api.netatmo.com#Cottage"
    assert result["result"].data["subject_from_user"] is True
    assert requested(aioclient_mock) == [
        ("POST", "https://api.netatmo.com/oauth2/token")
    ]


# -- token endpoint failures and denied authorization -------------------------------


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (
            {"status": HTTPStatus.BAD_REQUEST, "json": {"error": "invalid_grant"}},
            "oauth_unauthorized",
        ),
        (
            {"status": HTTPStatus.UNAUTHORIZED, "json": {"error": "invalid_client"}},
            "oauth_unauthorized",
        ),
        ({"json": {"error": "bad_verification_code"}}, "oauth_unauthorized"),
        ({"status": HTTPStatus.INTERNAL_SERVER_ERROR, "text": "boom"}, "oauth_failed"),
        (
            {"status": HTTPStatus.TOO_MANY_REQUESTS, "json": {"error": "slow_down"}},
            "oauth_failed",
        ),
        ({"json": {"token_type": "Bearer"}}, "oauth_failed"),
        ({"exc": aiohttp.ClientError()}, "oauth_failed"),
    ],
)
async def test_token_request_fails(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    response: dict[str, Any],
    reason: str,
) -> None:
    """A refused code aborts as unauthorized; a broken server as failed."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, **response)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert requested(aioclient_mock) == [("POST", TOKEN_URL)]
    assert hass.config_entries.async_entries(DOMAIN) == []
    assert await stored_credentials(hass) == {}


async def test_user_denies_at_provider(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The provider sends the user back with an error: no token request."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result, error="access_denied")
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "user_rejected_authorize"
    assert result["description_placeholders"] == {"error": "access_denied"}
    assert aioclient_mock.call_count == 0
    assert await stored_credentials(hass) == {}


@pytest.mark.parametrize(
    ("query", "reason", "shown"),
    [
        # Glewlwyd with `openid` and no nonce.
        (
            {"error": "invalid_request", "error_description": "nonce required"},
            "authorize_invalid_request",
            "`invalid_request`: `nonce required`",
        ),
        (
            {"error": "unauthorized_client"},
            "authorize_unauthorized_client",
            "`unauthorized_client`",
        ),
        (
            {"error": "invalid_scope", "error_description": "Unknown scope: api"},
            "authorize_invalid_scope",
            "`invalid_scope`: `Unknown scope: api`",
        ),
        (
            {"error": "unsupported_response_type"},
            "authorize_unsupported_response_type",
            "`unsupported_response_type`",
        ),
        ({"error": "server_error"}, "authorize_server_error", "`server_error`"),
        (
            {"error": "temporarily_unavailable", "error_description": " "},
            "authorize_server_error",
            "`temporarily_unavailable`",
        ),
        (
            {"error": "interaction_required"},
            "authorize_refused",
            "`interaction_required`",
        ),
        # What the server says is shown as code: no link, no break out of it;
        # the client secret never; one line of bounded length.
        (
            {
                "error": "invalid_request",
                "error_description": f"bad `client_secret` {CLIENT_SECRET}\u2028\x1b"
                "[log in again](https://evil.example)",
            },
            "authorize_invalid_request",
            "`invalid_request`: `bad  client_secret  **REDACTED** "
            "[log in again](https://evil.example)`".replace("  ", " "),
        ),
        (
            {"error": "invalid_request", "error_description": "x" * 250 + " y" * 5000},
            "authorize_invalid_request",
            "`invalid_request`: `" + "x" * 199 + "…`",
        ),
    ],
)
async def test_refusal_that_is_not_the_users(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
    query: dict[str, str],
    reason: str,
    shown: str,
) -> None:
    """Not "not granted": what to check, with the server's description."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(hass, hass_client_no_auth, result, **query)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    assert result["description_placeholders"] == {"error": shown}
    ours = [r for r in caplog.records if r.name.startswith("custom_components")]
    assert ours
    assert not [r for r in ours if CLIENT_SECRET in r.getMessage()]
    assert aioclient_mock.call_count == 0
    assert await stored_credentials(hass) == {}


async def test_refusal_not_from_the_callback_has_no_description(
    hass: HomeAssistant,
) -> None:
    """Only the callback request's ``error_description`` is read, no other's."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    # Resumed directly (as by another integration's code), outside any request.
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"error": "invalid_scope", "state": {}}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["reason"] == "authorize_invalid_scope"
    assert result["description_placeholders"] == {"error": "`invalid_scope`"}


async def test_user_denies_with_a_description(
    hass: HomeAssistant, hass_client_no_auth: ClientSessionGenerator
) -> None:
    """``access_denied`` stays "not granted", whatever the server adds."""
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    )
    await authorize(
        hass,
        hass_client_no_auth,
        result,
        error="access_denied",
        error_description="The resource owner denied the request",
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["reason"] == "user_rejected_authorize"
    assert result["description_placeholders"] == {"error": "access_denied"}


# -- duplicates ------------------------------------------------------------------------


async def test_duplicate_account_aborts(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
) -> None:
    """The same account at the same provider is linked once; no credential left."""
    config_entry.add_to_hass(hass)
    result = await start_manual_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": "new-client", "client_secret": "new-secret"}
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [config_entry]
    assert config_entry.data["token"]["access_token"] == "stored-access-token"
    assert NEW_AUTH_DOMAIN not in await stored_credentials(hass)
