"""The account config flow: provider sources, credentials, grant, entry."""

from __future__ import annotations

import base64
from http import HTTPStatus
import json
from typing import Any
from unittest.mock import AsyncMock
from urllib.parse import parse_qs

import aiohttp
from homeassistant.components.application_credentials import (
    DATA_COMPONENT,
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.config_flow import OAuth2RestConfigFlow
from custom_components.oauth2_rest.const import DOMAIN, LINKING_DOCS_URL
from custom_components.oauth2_rest.endpoint_flow import EndpointSubentryFlow
from custom_components.oauth2_rest.flow.account_forms import NEW_CREDENTIAL

from .common import (
    AUTH_DOMAIN,
    AUTHORIZE_URL,
    CLIENT_ID,
    CLIENT_SECRET,
    ISSUER,
    REDIRECT_URI,
    TOKEN_URL,
    USERINFO_URL,
    discover,
    manual_profile,
)
from .strings import assert_form_placeholders

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)

TOKEN_RESPONSE = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}

GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_USER = "https://api.github.com/user"

OIDC_ISSUER = "https://id.example.org"
OIDC_OAUTH_DOC = f"{OIDC_ISSUER}/.well-known/oauth-authorization-server"
OIDC_DOC = f"{OIDC_ISSUER}/.well-known/openid-configuration"
OIDC_METADATA = {
    "issuer": OIDC_ISSUER,
    "authorization_endpoint": f"{OIDC_ISSUER}/oauth2/auth",
    "token_endpoint": f"{OIDC_ISSUER}/oauth2/token",
    "userinfo_endpoint": f"{OIDC_ISSUER}/oauth2/userinfo",
    "token_endpoint_auth_methods_supported": ["client_secret_post"],
    "code_challenge_methods_supported": ["S256"],
    "scopes_supported": ["openid", "email", "profile", "offline_access", "phone"],
    "service_documentation": "https://docs.example.org",
}

NEW_AUTH_DOMAIN = "oauth2_rest_new_client"


def fake_id_token(claims: dict[str, Any]) -> str:
    """An unsigned JWT-shaped id_token (the flow does not check signatures)."""

    def part(data: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'RS256', 'typ': 'JWT'})}.{part(claims)}.c2lnbmF0dXJl"


def token_form(aioclient_mock: AiohttpClientMocker, url: str) -> tuple[Any, Any]:
    """The form and headers of the single POST to url."""
    calls = [
        c for c in aioclient_mock.mock_calls if c[0] == "POST" and str(c[1]) == url
    ]
    assert len(calls) == 1
    _, _, body, headers = calls[0]
    return (body if isinstance(body, dict) else parse_qs(body)), headers


def requested(aioclient_mock: AiohttpClientMocker) -> list[tuple[str, str]]:
    """(method, URL) of every request made, in order."""
    return [(c[0], str(c[1])) for c in aioclient_mock.mock_calls]


async def stored_credentials(hass: HomeAssistant) -> dict[str, tuple[str, str]]:
    """Application Credentials of the integration: auth domain -> (id, secret)."""
    implementations = await config_entry_oauth2_flow.async_get_implementations(
        hass, DOMAIN
    )
    return {
        domain: (impl.client_id, impl.client_secret)  # type: ignore[attr-defined]
        for domain, impl in implementations.items()
    }


def suggested(result: dict[str, Any], field: str) -> Any:
    """The suggested (or default) value of a form field."""
    for key in result["data_schema"].schema:
        if key == field:
            if key.description and "suggested_value" in key.description:
                return key.description["suggested_value"]
            return key.default() if callable(key.default) else None
    raise KeyError(field)


def fields(result: dict[str, Any]) -> list[str]:
    """The names of a form's fields."""
    return [str(key) for key in result["data_schema"].schema]


async def start_step(hass: HomeAssistant, step: str) -> dict[str, Any]:
    """Open the menu and pick a provider source."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": step}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == step
    assert_form_placeholders(result, "config")
    return result


async def start_preset_flow(
    hass: HomeAssistant, preset: str, details: dict[str, str] | None = None
) -> dict[str, Any]:
    """Walk the flow up to the credentials form with a preset."""
    result = await start_step(hass, "preset")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"preset": preset}
    )
    if details is not None:
        assert result["step_id"] == "preset_details"
        result = await hass.config_entries.flow.async_configure(
            result["flow_id"], details
        )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    return result


async def start_manual_flow(
    hass: HomeAssistant,
    client_auth: str = "client_secret_basic",
    pkce: str = "supported",
    **changes: str,
) -> dict[str, Any]:
    """Walk the flow up to the credentials form with a manual provider."""
    result = await start_step(hass, "manual")
    user_input = {
        "name": "Example",
        "authorize_url": AUTHORIZE_URL,
        "token_url": TOKEN_URL,
        "userinfo_url": USERINFO_URL,
        "api_base_url": "https://api.example.com/v1",
        "client_auth": client_auth,
        "pkce": pkce,
        "scopes": "read write",
        "scope_separator": " ",
    }
    user_input.update(changes)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {k: v for k, v in user_input.items() if v is not None}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "credentials"
    assert result["description_placeholders"]["redirect_uri"] == REDIRECT_URI
    # No developer docs named: our own page on linking an account.
    assert result["description_placeholders"]["docs_url"] == LINKING_DOCS_URL
    return result


async def in_browser(hass: HomeAssistant, result: dict[str, Any]) -> dict[str, Any]:
    """Pick the browser login in the menu of a provider that also has device login."""
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "login"
    return await hass.config_entries.flow.async_configure(
        result["flow_id"], {"next_step_id": "auth"}
    )


async def authorize(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    result: dict[str, Any],
    **query: str,
) -> URL:
    """Check the external step and come back through the callback.

    The provider sends the user back with the state of the authorize URL and a code
    (or with what ``query`` says, an error for example).
    """
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = URL(result["url"])
    state = url.query["state"]
    assert config_entry_oauth2_flow._decode_jwt(hass, state) == {
        "flow_id": result["flow_id"],
        "redirect_uri": REDIRECT_URI,
    }
    client = await hass_client_no_auth()
    resp = await client.get(
        "/auth/external/callback",
        params={"state": state, **(query or {"code": "the-code"})},
    )
    assert resp.status == HTTPStatus.OK
    return url


# -- menu and provider sources -----------------------------------------------------


async def test_user_step_is_a_menu(hass: HomeAssistant) -> None:
    """The flow starts by asking where the provider description comes from."""
    result = await hass.config_entries.flow.async_init(
        DOMAIN, context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "user"
    assert result["menu_options"] == ["preset", "discovery", "manual"]


async def test_preset_form_lists_the_catalog(hass: HomeAssistant) -> None:
    """The preset form offers every preset, sorted by name."""
    result = await start_step(hass, "preset")
    options = result["data_schema"].schema["preset"].config["options"]
    labels = [option["label"] for option in options]
    assert labels == sorted(labels, key=str.lower)
    values = {option["value"] for option in options}
    assert {"google", "microsoft", "github", "strava", "keycloak", "okta"} <= values


async def test_github_preset_full_flow(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A preset without placeholders: client_secret_post, userinfo `id`, `login`."""
    result = await start_preset_flow(hass, "github")
    assert result["description_placeholders"] == {
        "provider": "GitHub",
        "redirect_uri": REDIRECT_URI,
        "docs_url": "https://github.com/settings/applications/new",
        "error": "",
    }
    assert suggested(result, "scopes") == "read:user"
    assert suggested(result, "api_base_url") == "https://api.github.com"
    assert "credential" not in fields(result)  # nothing stored yet

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": f" {CLIENT_ID} ",
            "client_secret": CLIENT_SECRET,
            "scopes": "read:user, repo",
            "api_base_url": "https://api.github.com",
        },
    )
    result = await in_browser(hass, result)
    # The credential is stored only once the grant worked.
    assert await stored_credentials(hass) == {}
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == GITHUB_AUTHORIZE
    assert url.query["client_id"] == CLIENT_ID
    assert url.query["redirect_uri"] == REDIRECT_URI
    assert url.query["response_type"] == "code"
    assert url.query["scope"] == "read:user repo"
    assert url.query["code_challenge_method"] == "S256"

    # GitHub: classic token without expires_in; account id is `id`, name is `login`.
    aioclient_mock.post(
        GITHUB_TOKEN,
        json={"access_token": "gho_x", "token_type": "bearer", "scope": "repo"},
    )
    aioclient_mock.get(GITHUB_USER, json={"id": 583231, "login": "octocat"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])

    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "GitHub (octocat)"
    entry = result["result"]
    assert entry.unique_id == "https://github.com#583231"
    assert entry.data["auth_implementation"] == AUTH_DOMAIN
    assert entry.data["subject"] == "583231"
    assert entry.data["scopes"] == ["read:user", "repo"]
    assert entry.data["provider"]["key"] == "github"
    assert entry.data["token"]["access_token"] == "gho_x"
    assert entry.data["token"]["non_expiring"] is True

    form, headers = token_form(aioclient_mock, GITHUB_TOKEN)
    assert "Authorization" not in headers
    assert headers["Accept"] == "application/json"
    assert form["client_id"] == CLIENT_ID
    assert form["client_secret"] == CLIENT_SECRET
    assert form["code"] == "the-code"
    assert form["redirect_uri"] == REDIRECT_URI
    assert "code_verifier" in form
    userinfo_call = next(c for c in aioclient_mock.mock_calls if c[0] == "GET")
    assert userinfo_call[3]["Authorization"] == "Bearer gho_x"

    assert await stored_credentials(hass) == {AUTH_DOMAIN: (CLIENT_ID, CLIENT_SECRET)}


@pytest.mark.parametrize(
    ("preset", "authorize_url", "scope", "extra"),
    [
        (
            "google",
            "https://accounts.google.com/o/oauth2/v2/auth",
            "openid email profile",
            {"access_type": "offline", "prompt": "consent"},
        ),
        (
            "dropbox",
            "https://www.dropbox.com/oauth2/authorize",
            "account_info.read",
            {"token_access_type": "offline"},
        ),
    ],
)
async def test_preset_extra_authorize_params(
    hass: HomeAssistant,
    preset: str,
    authorize_url: str,
    scope: str,
    extra: dict[str, str],
) -> None:
    """Extra authorize parameters of a preset go into the authorize URL."""
    result = await start_preset_flow(hass, preset)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "scopes": suggested(result, "scopes"),
            # Shown prefilled with the preset's, submitted as shown.
            "extra_authorize_params": suggested(result, "extra_authorize_params"),
        },
    )
    if preset == "google":  # Google also offers the login on another device.
        result = await in_browser(hass, result)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = URL(result["url"])
    assert str(url.with_query(None)) == authorize_url
    assert url.query["scope"] == scope
    for key, value in extra.items():
        assert url.query[key] == value


@pytest.mark.parametrize(
    (
        "preset",
        "details",
        "authorize_url",
        "token_url",
        "userinfo_url",
        "unique_id",
        "client_auth",
    ),
    [
        (
            "microsoft",
            {"tenant": " contoso.onmicrosoft.com "},
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/authorize",
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token",
            "https://graph.microsoft.com/oidc/userinfo",
            "https://login.microsoftonline.com#ms-subject",
            "client_secret_post",
        ),
        (
            "keycloak",
            {"base_url": "https://sso.example.com/", "realm": "home"},
            "https://sso.example.com/realms/home/protocol/openid-connect/auth",
            "https://sso.example.com/realms/home/protocol/openid-connect/token",
            "https://sso.example.com/realms/home/protocol/openid-connect/userinfo",
            "https://sso.example.com/realms/home#ms-subject",
            "client_secret_basic",
        ),
    ],
)
async def test_preset_with_placeholders(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    preset: str,
    details: dict[str, str],
    authorize_url: str,
    token_url: str,
    userinfo_url: str,
    unique_id: str,
    client_auth: str,
) -> None:
    """Tenant/realm values fill the endpoints; the grant goes to the filled ones."""
    result = await start_step(hass, "preset")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"preset": preset}
    )
    assert result["step_id"] == "preset_details"
    assert_form_placeholders(result, "config")
    assert fields(result) == list(details)
    assert result["errors"] == {}
    result = await hass.config_entries.flow.async_configure(result["flow_id"], details)
    assert result["step_id"] == "credentials"

    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "openid"},
    )
    result = await in_browser(hass, result)
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == authorize_url

    aioclient_mock.post(token_url, json=TOKEN_RESPONSE)
    aioclient_mock.get(userinfo_url, json={"sub": "ms-subject", "name": "Ann"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.CREATE_ENTRY
    entry = result["result"]
    assert entry.unique_id == unique_id
    assert entry.data["provider"]["token_url"] == token_url
    assert entry.title.endswith("(Ann)")
    form, headers = token_form(aioclient_mock, token_url)
    if client_auth == "client_secret_post":
        assert form["client_secret"] == CLIENT_SECRET
    else:
        assert headers["Authorization"].startswith("Basic ")
        assert "client_secret" not in form


@pytest.mark.parametrize(
    ("preset", "bad", "good"),
    [
        (
            "keycloak",
            {"base_url": "not a url", "realm": "home"},
            {"base_url": "https://sso.example.com", "realm": "home"},
        ),
        (
            "keycloak",
            {"base_url": "ftp://sso.example.com", "realm": "home"},
            {"base_url": "http://sso.local:8080", "realm": "home"},
        ),
        (
            "keycloak",
            {"base_url": "http://[::1", "realm": "home"},
            {"base_url": "http://[::1]:8080", "realm": "home"},
        ),
        ("auth0", {"domain": "  "}, {"domain": "example.eu.auth0.com"}),
    ],
)
async def test_preset_invalid_placeholder(
    hass: HomeAssistant, preset: str, bad: dict[str, str], good: dict[str, str]
) -> None:
    """Values that don't make endpoint URLs are a form error; fixing them goes on."""
    result = await start_step(hass, "preset")
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"preset": preset}
    )
    result = await hass.config_entries.flow.async_configure(result["flow_id"], bad)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "preset_details"
    assert result["errors"] == {"base": "invalid_placeholder"}
    # What was typed is offered again.
    for key, value in bad.items():
        assert suggested(result, key) == value
    result = await hass.config_entries.flow.async_configure(result["flow_id"], good)
    assert result["step_id"] == "credentials"


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
        f"{OIDC_ISSUER}/oauth2/token", json={**TOKEN_RESPONSE, "id_token": id_token}
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

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json={**TOKEN_RESPONSE, **token_extra})
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
            **TOKEN_RESPONSE,
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post("https://api.netatmo.com/oauth2/token", json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "already_configured"
    assert hass.config_entries.async_entries(DOMAIN) == [config_entry]
    assert config_entry.data["token"]["access_token"] == "stored-access-token"
    assert NEW_AUTH_DOMAIN not in await stored_credentials(hass)


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

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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


ROTATED_DOMAIN = f"{AUTH_DOMAIN}_2"


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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
        ({"json": TOKEN_RESPONSE}, "someone-else", "wrong_account"),
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
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


# -- reconfigure -----------------------------------------------------------------------


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("name", "title"),
    [(" Work account ", "Work account"), ("  ", "Example (user@example.com)")],
)
async def test_reconfigure_name_only(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    name: str,
    title: str,
) -> None:
    """Same scopes: no new grant, only the title changes."""
    config_entry.add_to_hass(hass)
    data_before = dict(config_entry.data)
    result = await config_entry.start_reconfigure_flow(hass)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "reconfigure"
    assert_form_placeholders(result, "config")
    assert suggested(result, "name") == "Example (user@example.com)"
    assert suggested(result, "scopes") == "read"
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": name, "scopes": " read "}
    )
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.title == title
    assert dict(config_entry.data) == data_before
    assert aioclient_mock.call_count == 0


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(
    ("subject", "reason"),
    [("subject-1", "reconfigure_successful"), ("someone-else", "wrong_account")],
)
async def test_reconfigure_scopes(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
    subject: str,
    reason: str,
) -> None:
    """New scopes need a new grant, of the same account."""
    config_entry.add_to_hass(hass)
    data_before = dict(config_entry.data)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Work", "scopes": "read, write"}
    )
    url = await authorize(hass, hass_client_no_auth, result)
    assert str(url.with_query(None)) == AUTHORIZE_URL
    assert url.query["scope"] == "read write"
    assert url.query["client_id"] == CLIENT_ID

    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
    aioclient_mock.get(USERINFO_URL, json={"sub": subject})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == reason
    if reason == "wrong_account":
        assert dict(config_entry.data) == data_before
        assert config_entry.title == "Example (user@example.com)"
        assert mock_setup_entry.call_count == 0
        return
    assert config_entry.title == "Work"
    assert config_entry.data["scopes"] == ["read", "write"]
    assert config_entry.data["token"]["access_token"] == "new-access-token"
    assert config_entry.data["subject"] == "subject-1"
    assert config_entry.unique_id == f"{ISSUER}#subject-1"
    assert mock_setup_entry.call_count == 1


@pytest.mark.usefixtures("setup_credentials")
async def test_reconfigure_new_client_secret(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
    mock_setup_entry: AsyncMock,
) -> None:
    """A new secret with the same scopes still needs a grant, to prove it works."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    assert "client_secret" in fields(result)
    assert suggested(result, "client_secret") is None
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"name": "Work", "scopes": "read", "client_secret": "rotated"},
    )
    await authorize(hass, hass_client_no_auth, result)
    aioclient_mock.post(TOKEN_URL, json=TOKEN_RESPONSE)
    aioclient_mock.get(USERINFO_URL, json={"sub": "subject-1"})
    result = await hass.config_entries.flow.async_configure(result["flow_id"])
    await hass.async_block_till_done()
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    assert config_entry.title == "Work"
    assert config_entry.data["auth_implementation"] == ROTATED_DOMAIN
    assert config_entry.data["scopes"] == ["read"]
    assert await stored_credentials(hass) == {ROTATED_DOMAIN: (CLIENT_ID, "rotated")}
    expected = base64.b64encode(f"{CLIENT_ID}:rotated".encode()).decode()
    assert token_form(aioclient_mock, TOKEN_URL)[1]["Authorization"] == (
        f"Basic {expected}"
    )


async def test_reconfigure_scopes_without_credential(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    config_entry: MockConfigEntry,
) -> None:
    """New scopes need the credential; when it is gone, say so."""
    config_entry.add_to_hass(hass)
    result = await config_entry.start_reconfigure_flow(hass)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"], {"name": "Work", "scopes": "read write"}
    )
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "credential_missing"
    assert config_entry.title == "Example (user@example.com)"
    assert config_entry.data["scopes"] == ["read"]
    assert aioclient_mock.call_count == 0


# -- entry features --------------------------------------------------------------------


async def test_supported_subentry_types(config_entry: MockConfigEntry) -> None:
    """Endpoints are added to an account as subentries."""
    assert OAuth2RestConfigFlow.async_get_supported_subentry_types(config_entry) == {
        "endpoint": EndpointSubentryFlow
    }


async def test_options_flow_is_offered(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """An account has options (allowed origins, response size cap)."""
    config_entry.add_to_hass(hass)
    assert config_entry.supports_options
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "init"
    assert {"allowed_origins", "max_response_bytes"} <= set(fields(result))


@pytest.mark.parametrize(
    ("preset", "details", "scopes", "prompt"),
    [
        # OIDC Core 11: offline_access needs prompt=consent, or no refresh token comes.
        ("auth0", {"domain": "x.eu.auth0.com"}, "openid offline_access", "consent"),
        ("auth0", {"domain": "x.eu.auth0.com"}, "openid profile", None),
        # Google's own prompt parameter wins; it is not sent twice.
        ("google", None, "openid offline_access", "consent"),
        ("github", None, "read:user", None),
    ],
)
async def test_offline_access_asks_for_consent(
    hass: HomeAssistant,
    preset: str,
    details: dict[str, str] | None,
    scopes: str,
    prompt: str | None,
) -> None:
    """Asking for offline_access adds prompt=consent to the authorize request."""
    result = await start_preset_flow(hass, preset, details)
    result = await hass.config_entries.flow.async_configure(
        result["flow_id"],
        {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": scopes},
    )
    result = await in_browser(hass, result)
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    url = URL(result["url"])
    assert url.query.get("prompt") == prompt
    assert len(url.query.getall("prompt", [])) == (0 if prompt is None else 1)
