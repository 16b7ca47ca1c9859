"""The implementation against mocked token endpoints: presets, quirks, error mapping."""

from __future__ import annotations

import base64
import time
from typing import Any
from urllib.parse import quote

from aiohttp import ClientConnectionError
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestError,
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
from homeassistant.helpers.config_entry_oauth2_flow import (
    LocalOAuth2ImplementationWithPkce,
)
from multidict import CIMultiDict, CIMultiDictProxy
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from yarl import URL

from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation
from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
    TokenResponseQuirks,
    load_presets,
)
from custom_components.oauth2_rest.oauth.token_response import (
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
    TokenEndpointError,
)

from ..common import AUTHORIZE_URL, CLIENT_ID, CLIENT_SECRET, TOKEN_URL, manual_profile

OLD_REFRESH = "old-refresh-token-SENSITIVE"
PLACEHOLDER_VALUES = {
    "tenant": "contoso.onmicrosoft.com",
    "domain": "example.eu.auth0.com",
    "base_url": "https://sso.example.org",
    "realm": "home",
}
JWT = (
    "eyJhbGciOiJSUzI1NiJ9."
    + base64.urlsafe_b64encode(b'{"sub":"1","aud":"test-client"}').decode().rstrip("=")
    + ".sig"
)

# What each provider's token endpoint realistically answers to a refresh:
# (content type, body, expected access token, expected refresh token, expires_in,
#  expected scope, expected extra fields).
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
JSON = {"Content-Type": "application/json"}
PRESET_RESPONSES: dict[str, dict[str, Any]] = {
    "google": {
        "json": {
            "access_token": "ya29.new",
            "expires_in": 3599,
            "scope": "openid https://www.googleapis.com/auth/userinfo.email",
            "token_type": "Bearer",
            "id_token": JWT,
        },
        "refresh_token": OLD_REFRESH,  # Google does not rotate.
        "expires_in": 3599,
        "scope": "openid https://www.googleapis.com/auth/userinfo.email",
    },
    "microsoft": {
        "json": {
            "token_type": "Bearer",
            "scope": "openid profile email User.Read",
            "expires_in": 4742,
            "ext_expires_in": 4742,
            "access_token": "eyJ0eXAi.new",
            "refresh_token": "M.C5.rotated",
            "id_token": JWT,
        },
        "refresh_token": "M.C5.rotated",
        "expires_in": 4742,
        "scope": "openid profile email User.Read",
    },
    "github": {
        # GitHub apps with expiring tokens; form-encoded when Accept is ignored.
        "text": "access_token=ghu_new&expires_in=28800&refresh_token=ghr_rotated"
        "&refresh_token_expires_in=15811200&scope=&token_type=bearer",
        "headers": FORM,
        "refresh_token": "ghr_rotated",
        "expires_in": 28800,
        "scope": "",
    },
    "spotify": {
        "json": {
            "access_token": "BQ.new",
            "token_type": "Bearer",
            "scope": "user-read-private user-read-playback-state",
            "expires_in": 3600,
        },
        "refresh_token": OLD_REFRESH,
        "expires_in": 3600,
        "scope": "user-read-private user-read-playback-state",
    },
    "strava": {
        "json": {
            "token_type": "Bearer",
            "access_token": "a9b7.new",
            "expires_at": 1568775134,  # Strava's own; replaced by ours.
            "expires_in": "20566",
            "refresh_token": "b5c5.rotated",
        },
        "refresh_token": "b5c5.rotated",
        "expires_in": 20566,
        "scope": None,
    },
    "fitbit": {
        "json": {
            "access_token": "eyJhbGciOi.new",
            "expires_in": 28800,
            "refresh_token": "c643a6.rotated",
            "scope": "weight profile activity sleep heartrate",
            "token_type": "Bearer",
            "user_id": "GGNJL9",
        },
        "refresh_token": "c643a6.rotated",
        "expires_in": 28800,
        "scope": "weight profile activity sleep heartrate",
    },
    "withings": {
        "json": {
            "status": 0,
            "body": {
                "userid": "363",
                "access_token": "a075f8c1.new",
                "refresh_token": "f631236f.rotated",
                "expires_in": 10800,
                "scope": "user.info,user.metrics",
                "csrf_token": "PACnnxwHTaBQOzF7bQqwFUUotIuvtzSM",
                "token_type": "Bearer",
            },
        },
        "refresh_token": "f631236f.rotated",
        "expires_in": 10800,
        "scope": "user.info,user.metrics",
    },
    "netatmo": {
        "json": {
            "access_token": "5c4f|new",
            "refresh_token": "5c4f|rotated",
            "scope": ["read_station", "read_thermostat"],
            "expires_in": 10800,
            "expire_in": 10800,
        },
        "refresh_token": "5c4f|rotated",
        "expires_in": 10800,
        "scope": "read_station read_thermostat",
    },
    "dropbox": {
        "json": {
            "access_token": "sl.new",
            "expires_in": 14400,
            "token_type": "bearer",
        },
        "refresh_token": OLD_REFRESH,
        "expires_in": 14400,
        "scope": None,
    },
    "twitch": {
        "json": {
            "access_token": "1ssjqsqfy6bads1ws7m03gras79zfr",
            "refresh_token": "eyJfMzUtNDU0OC4MWYwLTQ5MDY5ODY4NGNlMSJ9%asdfasdf=",
            "scope": ["openid", "user:read:email"],
            "token_type": "bearer",
            "expires_in": 14124,
        },
        "refresh_token": "eyJfMzUtNDU0OC4MWYwLTQ5MDY5ODY4NGNlMSJ9%asdfasdf=",
        "expires_in": 14124,
        "scope": "openid user:read:email",
    },
    "auth0": {
        "json": {
            "access_token": "eyJz93a.new",
            "expires_in": 86400,
            "scope": "openid offline_access",
            "id_token": JWT,
            "token_type": "Bearer",
        },
        "refresh_token": OLD_REFRESH,
        "expires_in": 86400,
        "scope": "openid offline_access",
    },
    "keycloak": {
        "json": {
            "access_token": "eyJhbG.new",
            "expires_in": 300,
            "refresh_expires_in": 1800,
            "refresh_token": "eyJhbG.rotated",
            "token_type": "Bearer",
            "id_token": JWT,
            "not-before-policy": 0,
            "session_state": "a856fb91",
            "scope": "openid email profile",
        },
        "refresh_token": "eyJhbG.rotated",
        "expires_in": 300,
        "scope": "openid email profile",
    },
    "okta": {
        "json": {
            "token_type": "Bearer",
            "expires_in": 3600,
            "access_token": "eyJraWQi.new",
            "scope": "offline_access openid",
            "refresh_token": "a9VpZDRCeFh3Nkk2VdY.rotated",
            "id_token": JWT,
        },
        "refresh_token": "a9VpZDRCeFh3Nkk2VdY.rotated",
        "expires_in": 3600,
        "scope": "offline_access openid",
    },
}


def preset_profile(key: str) -> ProviderProfile:
    """A preset with its placeholders filled as the flow would."""
    return load_presets()[key].with_placeholders(PLACEHOLDER_VALUES)


def make_impl(
    hass: HomeAssistant,
    profile: ProviderProfile | None = None,
    client_id: str = CLIENT_ID,
    client_secret: str = CLIENT_SECRET,
    name: str | None = None,
) -> OAuth2RestImplementation:
    """An implementation for the profile (the manual test profile by default)."""
    return OAuth2RestImplementation(
        hass,
        "oauth2_rest_test",
        ClientCredential(client_id, client_secret, name),
        profile or manual_profile(),
    )


def old_token(**changes: Any) -> dict[str, Any]:
    """A stored token about to be refreshed."""
    token = {
        "access_token": "old-access-token-SENSITIVE",
        "refresh_token": OLD_REFRESH,
        "token_type": "Bearer",
        "expires_in": 3600,
        "expires_at": time.time() - 10,
    }
    token.update(changes)
    return token


def basic_header(client_id: str, client_secret: str) -> str:
    """The RFC 6749 2.3.1 Basic header."""
    pair = f"{quote(client_id, safe='')}:{quote(client_secret, safe='')}"
    return "Basic " + base64.b64encode(pair.encode()).decode()


def test_every_preset_has_a_response_shape() -> None:
    """New presets must get a realistic token response here too."""
    assert set(PRESET_RESPONSES) == set(load_presets())


@pytest.mark.parametrize("key", sorted(PRESET_RESPONSES))
async def test_preset_refresh(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, key: str
) -> None:
    """Each preset: the refresh is sent as the provider wants and its answer parsed."""
    profile = preset_profile(key)
    assert not profile.placeholders
    case = PRESET_RESPONSES[key]
    aioclient_mock.post(
        profile.token_url,
        json=case.get("json"),
        text=case.get("text"),
        headers=case.get("headers", JSON),
    )
    impl = make_impl(hass, profile)

    before = time.time()
    token = await impl.async_refresh_token(old_token())

    # What was sent.
    assert aioclient_mock.call_count == 1
    method, url, data, headers = aioclient_mock.mock_calls[0]
    assert method.upper() == "POST"
    assert url == URL(profile.token_url)
    assert headers["Accept"] == "application/json"
    assert data["grant_type"] == "refresh_token"
    assert data["refresh_token"] == OLD_REFRESH
    for name, value in profile.quirks.extra_token_params.items():
        assert data[name] == value
    # Filling placeholders leaves the method as a plain string: still honoured.
    method = ClientAuthMethod(profile.client_auth)
    if method is ClientAuthMethod.CLIENT_SECRET_BASIC:
        assert headers["Authorization"] == basic_header(CLIENT_ID, CLIENT_SECRET)
        assert "client_id" not in data
        assert "client_secret" not in data
    else:
        assert method is ClientAuthMethod.CLIENT_SECRET_POST
        assert "Authorization" not in headers
        assert data["client_id"] == CLIENT_ID
        assert data["client_secret"] == CLIENT_SECRET

    # What was parsed.
    assert token["access_token"].endswith("new") or key == "twitch"
    assert token["access_token"] != "old-access-token-SENSITIVE"
    assert token["refresh_token"] == case["refresh_token"]
    assert token["expires_in"] == case["expires_in"]
    assert isinstance(token["expires_in"], int)
    assert before + case["expires_in"] <= token["expires_at"]
    assert token["expires_at"] <= time.time() + case["expires_in"]
    if case["scope"] is None:
        assert "scope" not in token
    else:
        assert token["scope"] == case["scope"]
    assert NON_EXPIRING_MARKER not in token
    # Wrapped providers hand over the inner object.
    assert "status" not in token
    assert "body" not in token


def test_withings_preset_quirks() -> None:
    """The Withings preset carries the quirks its token endpoint needs."""
    quirks = load_presets()["withings"].quirks
    assert quirks.wrapper_key == "body"
    assert quirks.status_key == "status"
    assert dict(quirks.extra_token_params) == {"action": "requesttoken"}


async def test_refresh_keeps_refresh_token(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A provider that does not rotate: the old refresh token survives."""
    aioclient_mock.post(TOKEN_URL, json={"access_token": "new", "expires_in": 60})
    token = await make_impl(hass).async_refresh_token(old_token(extra="kept"))
    assert token["access_token"] == "new"
    assert token["refresh_token"] == OLD_REFRESH
    assert token["extra"] == "kept"
    assert token["expires_in"] == 60


async def test_refresh_rotates_refresh_token(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A rotated refresh token replaces the old one."""
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "new", "refresh_token": "rotated", "expires_in": 60},
    )
    token = await make_impl(hass).async_refresh_token(old_token())
    assert token["refresh_token"] == "rotated"


async def test_refresh_without_expires_in(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No expires_in: non-expiring, with an expiry far away."""
    aioclient_mock.post(TOKEN_URL, json={"access_token": "new"})
    token = await make_impl(hass).async_refresh_token(old_token())
    assert token[NON_EXPIRING_MARKER] is True
    assert token["expires_in"] == NON_EXPIRING_SECONDS
    assert token["expires_at"] > time.time() + NON_EXPIRING_SECONDS - 60


async def test_refresh_drops_stale_non_expiring_marker(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A token that was non-expiring and now expires loses the marker."""
    aioclient_mock.post(TOKEN_URL, json={"access_token": "new", "expires_in": 60})
    token = await make_impl(hass).async_refresh_token(
        old_token(expires_in=NON_EXPIRING_SECONDS, **{NON_EXPIRING_MARKER: True})
    )
    assert NON_EXPIRING_MARKER not in token
    assert token["expires_in"] == 60


async def test_basic_auth_encodes_special_characters(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """RFC 6749 2.3.1: id and secret are form-urlencoded before base64."""
    aioclient_mock.post(TOKEN_URL, json={"access_token": "new", "expires_in": 60})
    impl = make_impl(hass, client_id="id:with@chars", client_secret="sec ret/+%")
    await impl.async_refresh_token(old_token())
    _, _, data, headers = aioclient_mock.mock_calls[0]
    assert headers["Authorization"] == basic_header("id:with@chars", "sec ret/+%")
    decoded = base64.b64decode(headers["Authorization"].split()[1]).decode()
    assert decoded == "id%3Awith%40chars:sec%20ret%2F%2B%25"
    assert "client_id" not in data


@pytest.mark.parametrize(
    ("client_auth", "secret", "expected"),
    [
        # Public client: no secret, so the id goes in the body even for basic.
        (ClientAuthMethod.CLIENT_SECRET_BASIC, "", {"client_id": CLIENT_ID}),
        (ClientAuthMethod.CLIENT_SECRET_POST, "", {"client_id": CLIENT_ID}),
        (ClientAuthMethod.NONE, CLIENT_SECRET, {"client_id": CLIENT_ID}),
    ],
)
async def test_client_auth_without_secret(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    client_auth: ClientAuthMethod,
    secret: str,
    expected: dict[str, str],
) -> None:
    """Auth method none, or no secret: only client_id, no Authorization header."""
    aioclient_mock.post(TOKEN_URL, json={"access_token": "new", "expires_in": 60})
    impl = make_impl(
        hass, manual_profile(client_auth=client_auth), client_secret=secret
    )
    await impl.async_refresh_token(old_token())
    _, _, data, headers = aioclient_mock.mock_calls[0]
    assert "Authorization" not in headers
    assert {k: data[k] for k in ("client_id",)} == expected
    assert "client_secret" not in data


@pytest.mark.usefixtures("current_request_with_host")
async def test_authorize_url_and_code_exchange_with_pkce(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Each flow gets its own verifier; the code exchange sends that flow's verifier."""
    impl = make_impl(
        hass,
        manual_profile(extra_authorize_params={"prompt": "consent"}),
        name="My app",
    )
    assert impl.name == "My app"
    assert impl.uses_pkce
    url_a = URL(await impl.async_generate_authorize_url("flow-a"))
    url_b = URL(await impl.async_generate_authorize_url("flow-b"))
    assert url_a.query["redirect_uri"] == "https://example.com/auth/external/callback"
    assert str(url_a).startswith(AUTHORIZE_URL)
    assert url_a.query["prompt"] == "consent"
    assert url_a.query["code_challenge_method"] == "S256"
    assert url_a.query["code_challenge"] != url_b.query["code_challenge"]

    aioclient_mock.post(TOKEN_URL, json={"access_token": "new", "expires_in": 60})
    state = {"redirect_uri": "https://example.com/cb", "flow_id": "flow-a"}
    await impl.async_resolve_external_data({"code": "the-code", "state": state})
    _, _, data, _ = aioclient_mock.mock_calls[0]
    assert data["grant_type"] == "authorization_code"
    assert data["code"] == "the-code"
    assert data["redirect_uri"] == "https://example.com/cb"
    verifier = data["code_verifier"]
    assert (
        LocalOAuth2ImplementationWithPkce.compute_code_challenge(verifier)
        == url_a.query["code_challenge"]
    )
    # The verifier is used once; a forgotten flow drops its own.
    await impl.async_resolve_external_data({"code": "again", "state": state})
    assert "code_verifier" not in aioclient_mock.mock_calls[1][2]
    impl.forget_flow("flow-b")
    await impl.async_resolve_external_data(
        {"code": "b", "state": {**state, "flow_id": "flow-b"}}
    )
    assert "code_verifier" not in aioclient_mock.mock_calls[2][2]


@pytest.mark.usefixtures("current_request_with_host")
async def test_no_pkce_profile(hass: HomeAssistant) -> None:
    """A provider without PKCE gets no challenge; the provider names the impl."""
    impl = make_impl(hass, manual_profile(pkce=PkceMode.NO))
    assert impl.name == "Example"
    assert not impl.uses_pkce
    url = URL(await impl.async_generate_authorize_url("flow"))
    assert "code_challenge" not in url.query


@pytest.mark.parametrize(
    ("status", "body", "error_type", "error_status"),
    [
        (400, {"error": "invalid_grant"}, OAuth2TokenRequestReauthError, 400),
        (401, {"error": "invalid_client"}, OAuth2TokenRequestReauthError, 401),
        (403, {"error": "access_denied"}, OAuth2TokenRequestReauthError, 403),
        (429, {"error": "slow_down"}, OAuth2TokenRequestTransientError, 429),
        (500, {"error": "server_error"}, OAuth2TokenRequestTransientError, 500),
        (503, {}, OAuth2TokenRequestTransientError, 503),
        # Errors in a 200 (GitHub): the status the error code implies.
        (200, {"error": "invalid_grant"}, OAuth2TokenRequestReauthError, 400),
        (200, {"error": "temporarily_unavailable"}, OAuth2TokenRequestTransientError, 503),
        (200, {"error": "slow_down"}, OAuth2TokenRequestTransientError, 429),
        # A 200 without a usable token.
        (200, {"token_type": "Bearer"}, OAuth2TokenRequestTransientError, 200),
        (200, "<html>maintenance</html>", OAuth2TokenRequestTransientError, 200),
        (502, "<html>Bad gateway</html>", OAuth2TokenRequestTransientError, 502),
    ],
)  # fmt: skip
async def test_refresh_error_mapping(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    status: int,
    body: dict[str, Any] | str,
    error_type: type[Exception],
    error_status: int,
) -> None:
    """Token failures map exactly as HA's OAuth2 error hierarchy defines them."""
    if isinstance(body, str):
        aioclient_mock.post(TOKEN_URL, status=status, text=body)
    else:
        aioclient_mock.post(TOKEN_URL, status=status, json=body)
    impl = make_impl(
        hass, manual_profile(client_auth=ClientAuthMethod.CLIENT_SECRET_POST)
    )
    with pytest.raises(error_type) as err:
        await impl.async_refresh_token(old_token())
    assert type(err.value) is error_type
    assert isinstance(err.value, OAuth2TokenRequestError)
    assert err.value.status == error_status
    assert aioclient_mock.call_count == 1
    assert_no_secrets(err.value)


async def test_withings_status_error_maps_to_reauth(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Withings' dead refresh token: HTTP 200, status 401 in the body."""
    profile = preset_profile("withings")
    aioclient_mock.post(
        profile.token_url,
        json={"status": 401, "body": {}, "error": "invalid_grant"},
    )
    with pytest.raises(OAuth2TokenRequestReauthError) as err:
        await make_impl(hass, profile).async_refresh_token(old_token())
    assert err.value.status == 400
    assert_no_secrets(err.value)


async def test_error_in_non_error_status_maps_to_reauth(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """An error code in a 3xx answer is classified by its code, like in a 200."""
    aioclient_mock.post(TOKEN_URL, status=302, json={"error": "moved"})
    with pytest.raises(OAuth2TokenRequestReauthError) as err:
        await make_impl(hass).async_refresh_token(old_token())
    assert err.value.status == 400


def test_error_below_400_is_base_error(hass: HomeAssistant) -> None:
    """A status below 400 without a classification is the base error."""
    err = make_impl(hass)._mapped_error(
        TokenEndpointError(302, "moved"), CIMultiDictProxy(CIMultiDict())
    )
    assert type(err) is OAuth2TokenRequestError


@pytest.mark.parametrize(
    "exc", [ClientConnectionError("refused"), TimeoutError()], ids=["conn", "timeout"]
)
async def test_refresh_without_response(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, exc: Exception
) -> None:
    """No response at all is transient."""
    aioclient_mock.post(TOKEN_URL, exc=exc)
    with pytest.raises(OAuth2TokenRequestTransientError) as err:
        await make_impl(hass).async_refresh_token(old_token())
    assert err.value.status == 0
    assert_no_secrets(err.value)


async def test_error_keeps_response_headers(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A 429's Retry-After reaches the caller through the error's headers."""
    aioclient_mock.post(
        TOKEN_URL,
        status=429,
        json={"error": "rate_limited"},
        headers={"Retry-After": "30", **JSON},
    )
    with pytest.raises(OAuth2TokenRequestTransientError) as err:
        await make_impl(hass).async_refresh_token(old_token())
    assert err.value.headers is not None
    assert err.value.headers["Retry-After"] == "30"
    assert err.value.request_info.url == URL(TOKEN_URL)
    assert "Authorization" not in err.value.request_info.headers


def assert_no_secrets(err: BaseException) -> None:
    """No token or client secret in anything an error shows or logs."""
    shown = " ".join(
        [str(err), repr(err), str(getattr(err, "message", "")), repr(err.args)]
    )
    for secret in (
        OLD_REFRESH,
        "old-access-token-SENSITIVE",
        CLIENT_SECRET,
        base64.b64encode(f"{CLIENT_ID}:{CLIENT_SECRET}".encode()).decode(),
    ):
        assert secret not in shown


async def test_unused_quirks_default(hass: HomeAssistant) -> None:
    """A profile without quirks has empty defaults."""
    impl = make_impl(hass)
    assert impl.profile.quirks == TokenResponseQuirks()


@pytest.mark.parametrize("key", ["strava", "withings", "netatmo", "twitch"])
def test_preset_without_pkce_after_placeholders(hass: HomeAssistant, key: str) -> None:
    """Presets that don't do PKCE get no challenge, placeholders filled or not."""
    assert not make_impl(hass, preset_profile(key)).uses_pkce
    assert not make_impl(hass, load_presets()[key]).uses_pkce
