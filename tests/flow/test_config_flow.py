"""The account config flow: the menu, presets, and what an entry offers."""

from __future__ import annotations

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.config_flow import OAuth2RestConfigFlow
from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.control_flow import ControlSubentryFlow
from custom_components.oauth2_rest.endpoint_flow import EndpointSubentryFlow

from ..common import (
    AUTH_DOMAIN,
    CLIENT_ID,
    CLIENT_SECRET,
    NEW_TOKEN,
    REDIRECT_URI,
    authorize,
    fields,
    in_browser,
    start_preset_flow,
    start_step,
    stored_credentials,
    suggested,
    token_form,
)
from ..strings import assert_form_placeholders

pytestmark = pytest.mark.usefixtures(
    "current_request_with_host", "setup_application_credentials"
)


GITHUB_AUTHORIZE = "https://github.com/login/oauth/authorize"
GITHUB_TOKEN = "https://github.com/login/oauth/access_token"
GITHUB_USER = "https://api.github.com/user"

# -- menu and presets -------------------------------------------------------------


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

    aioclient_mock.post(token_url, json=NEW_TOKEN)
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


# -- entry features --------------------------------------------------------------------


async def test_supported_subentry_types(config_entry: MockConfigEntry) -> None:
    """Endpoints and controls are added to an account as subentries."""
    assert OAuth2RestConfigFlow.async_get_supported_subentry_types(config_entry) == {
        "endpoint": EndpointSubentryFlow,
        "control": ControlSubentryFlow,
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
