"""Tests for the preset catalog (presets.json) loaded into ProviderProfile."""

import json
from typing import Any

import pytest
from yarl import URL

from custom_components.oauth2_rest.oauth.provider import (
    PRESETS_FILE,
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
    TokenResponseQuirks,
    load_presets,
)

EXPECTED_PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "google": (),
    "microsoft": ("tenant",),
    "github": (),
    "spotify": (),
    "strava": (),
    "fitbit": (),
    "withings": (),
    "netatmo": (),
    "dropbox": (),
    "twitch": (),
    "auth0": ("domain",),
    "keycloak": ("base_url", "realm"),
    "okta": ("domain",),
}

SAMPLE_VALUES = {
    "tenant": "contoso.onmicrosoft.com",
    "domain": "example.eu.auth0.com",
    "base_url": "https://sso.example.com",
    "realm": "home",
}

URL_FIELDS = (
    "authorize_url",
    "token_url",
    "revocation_url",
    "device_authorization_url",
    "userinfo_url",
    "issuer",
    "api_base_url",
    "documentation_url",
)


def _filled(key: str) -> ProviderProfile:
    """Return the preset with its placeholders filled from SAMPLE_VALUES."""
    profile = load_presets()[key]
    return profile.with_placeholders(
        {name: SAMPLE_VALUES[name] for name in profile.placeholders}
    )


def test_catalog_has_every_required_preset() -> None:
    """Every provider the issue asks for is in the catalog, keyed correctly."""
    presets = load_presets()
    assert set(EXPECTED_PLACEHOLDERS) <= set(presets)
    for key, profile in presets.items():
        assert profile.key == key
        assert profile.name


def test_catalog_is_data_without_keys() -> None:
    """The JSON entries carry profile fields only; the key is the dict key."""
    raw: dict[str, dict[str, Any]] = json.loads(PRESETS_FILE.read_text("utf-8"))
    for entry in raw.values():
        assert "key" not in entry


@pytest.mark.parametrize("key", sorted(EXPECTED_PLACEHOLDERS))
def test_placeholders_are_exactly_the_expected_ones(key: str) -> None:
    """Each preset asks for exactly its tenant/domain/realm placeholders."""
    assert load_presets()[key].placeholders == EXPECTED_PLACEHOLDERS[key]


@pytest.mark.parametrize("key", sorted(EXPECTED_PLACEHOLDERS))
def test_endpoints_are_https_once_filled(key: str) -> None:
    """After filling the placeholders every URL is an absolute https URL."""
    profile = _filled(key)
    assert profile.placeholders == ()
    for name in URL_FIELDS:
        value = getattr(profile, name)
        if value is None:
            continue
        url = URL(value)
        assert url.scheme == "https", (key, name, value)
        assert url.host, (key, name, value)
        assert "{" not in value, (key, name, value)
    assert profile.documentation_url is not None
    assert profile.api_base_url is not None


@pytest.mark.parametrize("key", sorted(EXPECTED_PLACEHOLDERS))
def test_round_trip_as_dict_from_dict(key: str) -> None:
    """as_dict output survives JSON and rebuilds an equal profile."""
    profile = load_presets()[key]
    stored = json.loads(json.dumps(profile.as_dict()))
    assert ProviderProfile.from_dict(stored) == profile
    filled = _filled(key)
    assert ProviderProfile.from_dict(json.loads(json.dumps(filled.as_dict()))) == (
        filled
    )


def test_with_placeholders_fills_the_endpoints() -> None:
    """Placeholders land in the URLs where they belong."""
    microsoft = _filled("microsoft")
    assert microsoft.authorize_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com"
        "/oauth2/v2.0/authorize"
    )
    assert microsoft.token_url == (
        "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
    )
    keycloak = _filled("keycloak")
    assert keycloak.token_url == (
        "https://sso.example.com/realms/home/protocol/openid-connect/token"
    )
    assert keycloak.issuer == "https://sso.example.com/realms/home"
    okta = load_presets()["okta"].with_placeholders({"domain": "dev-1.okta.com"})
    assert okta.issuer == "https://dev-1.okta.com/oauth2/default"
    assert okta.authorize_url == "https://dev-1.okta.com/oauth2/default/v1/authorize"
    auth0 = _filled("auth0")
    assert auth0.issuer == "https://example.eu.auth0.com/"
    assert auth0.token_url == "https://example.eu.auth0.com/oauth/token"


def test_with_placeholders_names_the_missing_value() -> None:
    """A missing placeholder value raises KeyError naming it."""
    with pytest.raises(KeyError, match="realm"):
        load_presets()["keycloak"].with_placeholders({"base_url": "https://x.test"})


def test_client_auth_and_pkce() -> None:
    """Client authentication and PKCE are what each provider accepts."""
    presets = load_presets()
    expected_auth = {
        "github": ClientAuthMethod.CLIENT_SECRET_POST,
        "strava": ClientAuthMethod.CLIENT_SECRET_POST,
        "withings": ClientAuthMethod.CLIENT_SECRET_POST,
        "twitch": ClientAuthMethod.CLIENT_SECRET_POST,
        "fitbit": ClientAuthMethod.CLIENT_SECRET_BASIC,
        "spotify": ClientAuthMethod.CLIENT_SECRET_BASIC,
        "google": ClientAuthMethod.CLIENT_SECRET_BASIC,
    }
    for key, method in expected_auth.items():
        assert presets[key].client_auth is method, key
    assert presets["github"].pkce is PkceMode.SUPPORTED
    assert presets["fitbit"].pkce is PkceMode.SUPPORTED
    assert presets["withings"].pkce is PkceMode.NO
    assert presets["strava"].pkce is PkceMode.NO


def test_offline_access_is_requested() -> None:
    """Presets ask for what it takes to get a refresh token."""
    presets = load_presets()
    assert presets["google"].extra_authorize_params == {
        "access_type": "offline",
        "prompt": "consent",
    }
    assert presets["dropbox"].extra_authorize_params == {"token_access_type": "offline"}
    for key in ("microsoft", "auth0", "keycloak", "okta"):
        assert "offline_access" in presets[key].default_scopes, key
    assert "/v2.0/" in presets["microsoft"].token_url


def test_scope_separators() -> None:
    """Strava and Withings join scopes with commas, the others with spaces."""
    presets = load_presets()
    assert presets["strava"].join_scopes(presets["strava"].default_scopes) == (
        "read,activity:read"
    )
    assert presets["withings"].scope_separator == ","
    for key in set(EXPECTED_PLACEHOLDERS) - {"strava", "withings"}:
        assert presets[key].scope_separator == " ", key
        assert presets[key].default_scopes, key


def test_quirks() -> None:
    """Token-response quirks are present where the providers need them."""
    presets = load_presets()
    assert presets["withings"].quirks == TokenResponseQuirks(
        wrapper_key="body",
        status_key="status",
        status_ok=0,
        reauth_statuses=(100, 101, 102, 200, 401, 503),
        extra_token_params={"action": "requesttoken"},
        subject_field="userid",
    )
    assert presets["strava"].quirks.subject_field == "athlete.id"
    assert presets["fitbit"].quirks.subject_field == "user_id"
    assert presets["dropbox"].quirks.subject_field == "account_id"
    for key in ("google", "microsoft", "github", "spotify", "twitch", "okta"):
        assert presets[key].quirks == TokenResponseQuirks(), key


def test_userinfo() -> None:
    """Where the account id comes from for providers without a token quirk."""
    presets = load_presets()
    assert presets["github"].userinfo_url == "https://api.github.com/user"
    assert presets["github"].userinfo_subject == "id"
    assert presets["spotify"].userinfo_url == "https://api.spotify.com/v1/me"
    assert presets["spotify"].userinfo_subject == "id"
    assert presets["google"].userinfo_subject == "sub"


def test_placeholders_keep_enum_fields() -> None:
    """Filling placeholders leaves client_auth and pkce as enums, not plain strings."""
    filled = load_presets()["keycloak"].with_placeholders(
        {"base_url": "https://sso.example.com", "realm": "home"}
    )
    assert type(filled.client_auth) is ClientAuthMethod
    assert type(filled.pkce) is PkceMode
