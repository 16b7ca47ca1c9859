"""The account config flow with a provider discovered (RFC 8414, OIDC) or entered by hand."""

from __future__ import annotations

import base64
from http import HTTPStatus
from typing import Any

import aiohttp
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from ..common import (
    AUTH_DOMAIN,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_TOKEN,
    OIDC_DOC,
    OIDC_ISSUER,
    OIDC_METADATA,
    OIDC_OAUTH_DOC,
    REDIRECT_URI,
    TOKEN_URL,
    USERINFO_URL,
    authorize,
    discover,
    fake_id_token,
    requested,
    start_manual_flow,
    start_step,
    stored_credentials,
    suggested,
    token_form,
)

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


async def test_discovery_flow_with_id_token(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Discovered endpoints; the identity comes from the id_token, not userinfo."""
    aioclient_mock.get(OIDC_OAUTH_DOC, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(OIDC_DOC, json=OIDC_METADATA)
    result = await start_step(hass, "discovery")
    result = await discover(hass, result["flow_id"], f" {OIDC_ISSUER} ")
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["description_placeholders"]["provider"] == "id.example.org"
    assert result["description_placeholders"]["docs_url"] == "https://docs.example.org"
    assert suggested(result, "scopes") == "openid offline_access profile email"
    assert suggested(result, "api_base_url") == OIDC_ISSUER

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "openid"},
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == f"{OIDC_ISSUER}/oauth2/auth"
    assert url.query["scope"] == "openid"

    id_token = fake_id_token(
        {
            "iss": OIDC_ISSUER,
            "sub": "oidc-subject",
            "aud": CLIENT_ID,
            "email": "me@example.org",
            "nonce": url.query["nonce"],
        }
    )
    aioclient_mock.post(
        f"{OIDC_ISSUER}/oauth2/token", json={**NEW_TOKEN, "id_token": id_token}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "id.example.org (me@example.org)"
    entry = result["result"]
    assert entry.unique_id == f"{OIDC_ISSUER}#oidc-subject"
    assert entry.data["subject"] == "oidc-subject"
    assert entry.data["provider"]["issuer"] == OIDC_ISSUER
    assert entry.data["provider"]["client_auth"] == "client_secret_post"
    assert entry.data["token"]["id_token"] == id_token
    # The id_token told who it is: userinfo was not asked.
    assert requested(aioclient_mock) == [
        ("GET", OIDC_OAUTH_DOC),
        ("GET", OIDC_DOC),
        ("POST", f"{OIDC_ISSUER}/oauth2/token"),
    ]


@pytest.mark.parametrize(
    ("issuer_url", "mocks", "error"),
    [
        ("not a url", {}, "invalid_issuer_url"),
        ("https://user:pw@id.example.org", {}, "invalid_issuer_url"),
        (
            OIDC_ISSUER,
            {
                OIDC_OAUTH_DOC: {"status": HTTPStatus.NOT_FOUND},
                OIDC_DOC: {"status": HTTPStatus.NOT_FOUND},
            },
            "discovery_not_found",
        ),
        (
            OIDC_ISSUER,
            {
                OIDC_OAUTH_DOC: {"text": "<html>hello</html>"},
                OIDC_DOC: {"text": "<html>hello</html>"},
            },
            "discovery_invalid_document",
        ),
        (
            OIDC_ISSUER,
            {
                OIDC_OAUTH_DOC: {"status": HTTPStatus.NOT_FOUND},
                OIDC_DOC: {"json": {"issuer": OIDC_ISSUER}},
            },
            "discovery_invalid_document",
        ),
        (
            OIDC_ISSUER,
            {
                OIDC_OAUTH_DOC: {
                    "json": {
                        **OIDC_METADATA,
                        "token_endpoint": "http://id.example.org/oauth2/token",
                    }
                },
                OIDC_DOC: {"status": HTTPStatus.NOT_FOUND},
            },
            "discovery_insecure_endpoint",
        ),
        (
            OIDC_ISSUER,
            {OIDC_OAUTH_DOC: {"exc": aiohttp.ClientError()}},
            "discovery_cannot_connect",
        ),
        (
            OIDC_ISSUER,
            {
                OIDC_OAUTH_DOC: {"status": HTTPStatus.BAD_GATEWAY},
                OIDC_DOC: {"status": HTTPStatus.SERVICE_UNAVAILABLE},
            },
            "discovery_cannot_connect",
        ),
    ],
)
async def test_discovery_errors(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    issuer_url: str,
    mocks: dict[str, dict[str, Any]],
    error: str,
) -> None:
    """Each discovery failure is a form error; a corrected URL then works."""
    for url, kwargs in mocks.items():
        aioclient_mock.get(url, **kwargs)
    result = await start_step(hass, "discovery")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"issuer_url": issuer_url}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "discovery"
    assert result["errors"] == {"base": error}
    assert suggested(result, "issuer_url") == issuer_url
    assert requested(aioclient_mock) == [("GET", url) for url in mocks]

    aioclient_mock.clear_requests()
    aioclient_mock.get(OIDC_DOC, json=OIDC_METADATA)
    aioclient_mock.get(OIDC_OAUTH_DOC, status=HTTPStatus.NOT_FOUND)
    result = await discover(hass, result["flow_id"], OIDC_ISSUER)
    assert result["step_id"] == "credentials"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"authorize_url": "auth.example.com/authorize"},
            {"authorize_url": "invalid_url"},
        ),
        (
            {"authorize_url": "not a url", "token_url": "ftp://auth.example.com/t"},
            {"authorize_url": "invalid_url", "token_url": "invalid_url"},
        ),
        (
            {"token_url": "https://auth.example.com:99999/token"},
            {"token_url": "invalid_url"},
        ),
        ({"userinfo_url": "/userinfo"}, {"userinfo_url": "invalid_url"}),
        ({"api_base_url": "api.example.com"}, {"api_base_url": "invalid_url"}),
        ({"revocation_url": "mailto:x@example.com"}, {"revocation_url": "invalid_url"}),
        ({"name": "   "}, {"name": "name_required"}),
        ({"name": "", "token_url": "nope"}, {"name": "name_required", "token_url": "invalid_url"}),
    ],
)  # fmt: skip
async def test_manual_invalid_urls(
    hass: HomeAssistant, changes: dict[str, str], errors: dict[str, str]
) -> None:
    """Each URL field that is not an absolute http(s) URL gets `invalid_url`.

    A provider name that is empty or only spaces is required.
    """
    result = await start_step(hass, "manual")
    user_input = {
        "name": "Example",
        "authorize_url": AUTHORIZE_URL,
        "token_url": TOKEN_URL,
        "client_auth": "client_secret_basic",
        "pkce": "supported",
        **changes,
    }
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], user_input
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "manual"
    assert result["errors"] == errors
    for key, value in changes.items():
        assert suggested(result, key) == value


async def test_manual_flow_without_scopes_or_userinfo(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A public client with no scopes; no userinfo: the user names the account."""
    result = await start_step(hass, "manual")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "name": "Public",
            "authorize_url": AUTHORIZE_URL,
            "token_url": TOKEN_URL,
            "client_auth": "none",
            "pkce": "required",
        },
    )
    assert result["step_id"] == "credentials"
    assert suggested(result, "scopes") == ""
    assert suggested(result, "api_base_url") == ""
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"client_id": CLIENT_ID, "scopes": " "}
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert "scope" not in url.query

    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "account_name"
    assert result["description_placeholders"] == {"provider": "Public"}
    # Nothing is stored while the flow still asks.
    assert await stored_credentials(hass) == {}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"account_name": "  "}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"account_name": "account_name_required"}

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"account_name": " Home "}
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Public (Home)"
    entry = result["result"]
    assert entry.unique_id == "https://auth.example.com#Home"
    assert entry.data["subject"] == "Home"
    assert entry.data["subject_from_user"] is True
    assert entry.data["scopes"] == []
    assert "api_base_url" not in entry.data["provider"]
    form, headers = token_form(aioclient_mock, TOKEN_URL)
    assert form["client_id"] == CLIENT_ID
    assert "client_secret" not in form
    assert "Authorization" not in headers
    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, "")}


@pytest.mark.parametrize(
    ("client_auth", "pkce"),
    [
        ("client_secret_basic", "supported"),
        ("client_secret_basic", "no"),
        ("client_secret_post", "required"),
        ("client_secret_post", "no"),
        ("none", "required"),
    ],
)
async def test_manual_flow_creates_entry(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    client_auth: str,
    pkce: str,
) -> None:
    """The whole auth-code flow; assert what goes over the wire."""
    result = await start_manual_flow(hass, client_auth, pkce)
    secret = "" if client_auth == "none" else CLIENT_SECRET
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": secret, "scopes": "read write"},
    )
    url = await authorize(hass, hass_client_no_auth, result)
    query = url.query
    assert str(url.with_query(None)) == AUTHORIZE_URL
    assert query["response_type"] == "code"
    assert query["client_id"] == CLIENT_ID
    assert query["redirect_uri"] == REDIRECT_URI
    assert query["scope"] == "read write"
    if pkce == "no":
        assert "code_challenge" not in query
    else:
        assert query["code_challenge_method"] == "S256"
        assert len(query["code_challenge"]) == 43

    aioclient_mock.post(TOKEN_URL, json=NEW_TOKEN)
    aioclient_mock.get(USERINFO_URL, json={"sub": "user-42", "email": "me@example.com"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Example (me@example.com)"
    entry = result["result"]
    assert entry.unique_id == "https://auth.example.com#user-42"
    assert entry.data["token"]["access_token"] == "new-access-token"
    assert entry.data["scopes"] == ["read", "write"]
    assert entry.data["provider"]["token_url"] == TOKEN_URL

    # What was sent to the token endpoint.
    form, headers = token_form(aioclient_mock, TOKEN_URL)
    assert headers["Accept"] == "application/json"
    assert form["grant_type"] == "authorization_code"
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == REDIRECT_URI
    if client_auth == "client_secret_basic":
        expected = base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode()
        assert headers["Authorization"] == f"Basic {expected}"
        assert "client_secret" not in form
    else:
        assert "Authorization" not in headers
        assert form["client_id"] == CLIENT_ID
        if client_auth == "client_secret_post":
            assert form["client_secret"] == CLIENT_SECRET
        else:
            assert "client_secret" not in form
    if pkce == "no":
        assert "code_verifier" not in form
    else:
        verifier = form["code_verifier"]
        assert (
            config_entry_oauth2_flow.LocalOAuth2ImplementationWithPkce.compute_code_challenge(
                verifier
            )
            == url.query["code_challenge"]
        )
