"""Every preset against what its provider documents, replayed from a loopback server.

The fixtures (``fixtures/<preset>.json``) are written from each provider's public
documentation. They go through the real code: the implementation's token requests
and answer parsing, the identity lookup, and, for API errors, a loaded account whose
endpoint polls through the client. Expected: the account is identified, the code
exchange and the refresh give the token the provider meant (lifetime, rotation or
the old refresh token kept), a dead access token is refreshed once and retried and
then ends in reauth, a dead grant ends in reauth, a passing fault is retried.

Cases that fail on a known bug are marked ``xfail(strict=True)`` in KNOWN_BUGS: the
day the bug is fixed they pass, and the strict marker turns that into a failure that
asks for the mark to go.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
import time
from typing import Any

from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import ConfigEntryState
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
from homeassistant.helpers import issue_registry as ir
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN
from custom_components.oauth2_rest.oauth.device import (
    DeviceFlowError,
    DeviceOutcome,
    async_poll_device_token,
    async_start_device_authorization,
)
from custom_components.oauth2_rest.oauth.identity import async_identify
from custom_components.oauth2_rest.oauth.implementation import (
    DEVICE_CODE_GRANT_TYPE,
    OAuth2RestImplementation,
)
from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    ProviderProfile,
    TokenResponseQuirks,
    load_presets,
)
from custom_components.oauth2_rest.oauth.token_response import (
    NON_EXPIRING_MARKER,
    NON_EXPIRING_SECONDS,
)

from ..common import AUTH_DOMAIN, CLIENT_SECRET, ISSUER, endpoint_subentry, reauth_flows
from .replay import (
    ProviderServer,
    fixture_presets,
    load_fixture,
    preset_profile,
    relocate,
    start_provider,
)

pytestmark = pytest.mark.usefixtures("socket_enabled")

REDIRECT_URI = "https://my.home-assistant.io/redirect/oauth"
ENTITY_ID = "sensor.contract"

# (preset, kind, case name) -> why it fails today and what fixes it.
KNOWN_BUGS: dict[tuple[str, str, str], str] = {}


def cases(kind: str, *, needs_refresh_token: bool = False) -> Iterator[Any]:
    """One parameter per fixture case of ``kind``, known bugs marked xfail."""
    for preset in fixture_presets():
        fixture = load_fixture(preset)
        if needs_refresh_token and not stored_token(fixture, refreshable=True).get(
            "refresh_token"
        ):
            continue
        for case in fixture.get(kind, []):
            marks = []
            if reason := KNOWN_BUGS.get((preset, kind, case["name"])):
                marks.append(pytest.mark.xfail(strict=True, reason=reason))
            yield pytest.param(
                preset, case["name"], id=f"{preset}-{case['name']}", marks=marks
            )


def case_of(fixture: dict[str, Any], kind: str, name: str) -> dict[str, Any]:
    """The fixture's case of ``kind`` called ``name``."""
    return next(case for case in fixture[kind] if case["name"] == name)


def stored_token(
    fixture: dict[str, Any], *, refreshable: bool = False
) -> dict[str, Any]:
    """What the account stored after its code exchange, as HA stamps it.

    The first code exchange of the fixture, or with ``refreshable`` the first that
    gave a refresh token (GitHub: an app's expiring token, not the classic one).
    """
    case = next(
        (
            case
            for case in fixture["code"]
            if not refreshable or "refresh_token" in case["token"]
        ),
        fixture["code"][0],
    )
    token: dict[str, Any] = dict(case["token"])
    if case["expires_in"] is None:
        token.update(expires_in=NON_EXPIRING_SECONDS, **{NON_EXPIRING_MARKER: True})
    else:
        token["expires_in"] = case["expires_in"]
    token["expires_at"] = time.time() + token["expires_in"]
    return token


@pytest.fixture
async def provider() -> AsyncIterator[ProviderServer]:
    """The provider's hosts, on 127.0.0.1."""
    async with start_provider() as server:
        yield server


def profile_at(fixture: dict[str, Any], provider: ProviderServer) -> ProviderProfile:
    """The fixture's preset, talking to the loopback provider."""
    return relocate(preset_profile(fixture), provider.origin)


def implementation(
    hass: HomeAssistant, profile: ProviderProfile, client_id: str
) -> OAuth2RestImplementation:
    """The integration's implementation for the profile and a client."""
    return OAuth2RestImplementation(
        hass, AUTH_DOMAIN, ClientCredential(client_id, CLIENT_SECRET), profile
    )


def path_of(url: str | None) -> str:
    """The path the loopback provider sees for one of the profile's URLs."""
    assert url is not None
    return URL(url).path


def assert_client_auth(request: Any, profile: ProviderProfile, client_id: str) -> None:
    """The client authenticated the way the preset says the provider wants."""
    if ClientAuthMethod(profile.client_auth) is ClientAuthMethod.CLIENT_SECRET_BASIC:
        assert request.headers["Authorization"].startswith("Basic ")
        assert "client_secret" not in request.form
    else:
        assert "Authorization" not in request.headers
        assert request.form["client_id"] == client_id
        assert request.form["client_secret"] == CLIENT_SECRET
    for name, value in profile.quirks.extra_token_params.items():
        assert request.form[name] == value


def assert_token(token: dict[str, Any], case: dict[str, Any]) -> None:
    """The normalised token holds what the provider meant."""
    for key, value in case["token"].items():
        assert token.get(key) == value, key
    if "refresh_token" not in case["token"]:
        assert "refresh_token" not in token
    if case["expires_in"] is None:
        assert token[NON_EXPIRING_MARKER] is True
        assert token["expires_in"] == NON_EXPIRING_SECONDS
    else:
        assert NON_EXPIRING_MARKER not in token
        assert token["expires_in"] == case["expires_in"]


# -- the fixtures themselves ------------------------------------------------------


def test_every_preset_has_documented_answers() -> None:
    """Each preset has a fixture; every answer in it names its documentation page."""
    assert fixture_presets() == sorted(load_presets())
    for preset in fixture_presets():
        fixture = load_fixture(preset)
        sources = fixture["source"]
        assert sources, preset
        assert all(url.startswith("https://") for url in sources), preset
        assert fixture["code"], preset
        assert fixture["refresh"] or not stored_token(fixture, refreshable=True).get(
            "refresh_token"
        )
        assert fixture["dead_token"], preset
        assert fixture["transient"], preset
        named = [
            *fixture["code"],
            *fixture["refresh"],
            *fixture["dead_token"],
            *fixture["dead_grant"],
            *fixture["transient"],
            *fixture.get("forbidden", []),
            fixture["identity"],
            fixture["api"],
        ]
        if "device" in fixture:
            named.append(fixture["device"])
        for case in named:
            assert case["source"] in sources, (preset, case.get("name"))
        for kind in ("code", "refresh", "dead_token", "dead_grant", "transient"):
            names = [case["name"] for case in fixture[kind]]
            assert len(names) == len(set(names)), (preset, kind)


# -- token answers ------------------------------------------------------------------


@pytest.mark.parametrize("preset", fixture_presets())
async def test_code_exchange_identifies_the_account(
    hass: HomeAssistant, provider: ProviderServer, preset: str
) -> None:
    """Each documented code answer: sent as wanted, read as meant, account known.

    The identity comes from the token the exchange returned (its id_token or the
    provider's account field), else from the userinfo endpoint.
    """
    fixture = load_fixture(preset)
    identity = fixture["identity"]
    for case in fixture["code"]:
        provider.reset()
        impl = implementation(hass, profile_at(fixture, provider), fixture["client_id"])
        token_path = path_of(impl.profile.token_url)
        provider.answer(token_path, case["answer"])
        if "userinfo" in identity:
            provider.answer(path_of(impl.profile.userinfo_url), identity["userinfo"])
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(
                "custom_components.oauth2_rest.oauth.implementation.redirect_uri",
                lambda hass: REDIRECT_URI,
            )
            await impl.async_generate_authorize_url("flow")
        state = {"flow_id": "flow", "redirect_uri": REDIRECT_URI}

        token = await impl.async_resolve_external_data(
            {"code": "the-code", "state": state}
        )
        found = await async_identify(
            async_get_clientsession(hass), impl.profile, fixture["client_id"], token
        )

        [request] = provider.requests(token_path)
        assert request.headers["Accept"] == "application/json"
        assert request.form["grant_type"] == "authorization_code"
        assert request.form["code"] == "the-code"
        assert request.form["redirect_uri"] == REDIRECT_URI
        assert ("code_verifier" in request.form) == impl.uses_pkce
        assert_client_auth(request, impl.profile, fixture["client_id"])
        assert_token(token, case)
        if identity["subject"] is None:
            assert found is None, case["name"]
            continue
        assert found is not None, case["name"]
        assert (found.subject, found.label) == (
            identity["subject"],
            identity["label"],
        ), case["name"]
        userinfo_path = URL(impl.profile.userinfo_url or "/").path
        for userinfo in provider.requests(userinfo_path):
            assert userinfo.headers["Authorization"] == (
                f"Bearer {token['access_token']}"
            )


@pytest.mark.parametrize("preset", fixture_presets())
async def test_refresh(
    hass: HomeAssistant, provider: ProviderServer, preset: str
) -> None:
    """Each documented refresh answer: lifetime stamped, rotation taken or old kept."""
    fixture = load_fixture(preset)
    impl = implementation(hass, profile_at(fixture, provider), fixture["client_id"])
    token_path = path_of(impl.profile.token_url)
    old = {**stored_token(fixture, refreshable=True), "expires_at": time.time() - 10}
    for case in fixture["refresh"]:
        provider.reset()
        provider.answer(token_path, case["answer"])

        before = time.time()
        token = await impl.async_refresh_token(old)

        [request] = provider.requests(token_path)
        assert request.form["grant_type"] == "refresh_token"
        assert request.form["refresh_token"] == old["refresh_token"]
        assert_client_auth(request, impl.profile, fixture["client_id"])
        assert_token(token, case)
        assert before + token["expires_in"] <= token["expires_at"]
        assert token["expires_at"] <= time.time() + token["expires_in"]


# -- a loaded account ----------------------------------------------------------------


async def load_account(
    hass: HomeAssistant,
    provider: ProviderServer,
    fixture: dict[str, Any],
    token: dict[str, Any],
    profile: ProviderProfile | None = None,
) -> MockConfigEntry:
    """An account linked with the preset, its endpoint polling the fixture's API.

    Any account loaded before in the test is removed first (one at a time).
    """
    for entry in hass.config_entries.async_entries(DOMAIN):
        await hass.config_entries.async_remove(entry.entry_id)
    provider.reset()
    api = fixture["api"]
    subentry = endpoint_subentry(
        title="Contract",
        url=api["url"],
        value_template=api["value_template"],
        unit=None,
        subentry_id="endpoint_contract",
    )
    subentry["data"] = {**subentry["data"], "method": api.get("method", "GET")}
    entry = MockConfigEntry(
        domain=DOMAIN,
        title=f"{fixture['preset']} (contract)",
        unique_id=f"{ISSUER}#contract",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token,
            "provider": (profile or profile_at(fixture, provider)).as_dict(),
            "scopes": list(preset_profile(fixture).default_scopes),
            "subject": "contract",
        },
        subentries_data=[subentry],
    )
    entry.add_to_hass(hass)
    return entry


async def start(hass: HomeAssistant, entry: MockConfigEntry) -> None:
    """Set the account up (its endpoint polls once)."""
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()


def reauths(hass: HomeAssistant, entry: MockConfigEntry) -> list[Any]:
    """The account's reauth flows."""
    return [
        flow
        for flow in reauth_flows(hass)
        if flow["context"].get("entry_id") == entry.entry_id
    ]


def api_path(fixture: dict[str, Any], provider: ProviderServer) -> str:
    """The path the endpoint's requests reach."""
    base = URL(profile_at(fixture, provider).api_base).path.rstrip("/")
    return f"{base}{URL(fixture['api']['url']).path}"


def value_of(hass: HomeAssistant) -> str:
    """The state of the endpoint's value."""
    state = hass.states.get(ENTITY_ID)
    assert state is not None
    return state.state


def sent_tokens(provider: ProviderServer, path: str) -> list[str]:
    """The Authorization headers the API received, in order."""
    return [request.headers["Authorization"] for request in provider.requests(path)]


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(("preset", "name"), cases("dead_token"))
async def test_dead_token_is_refreshed_once_and_retried(
    hass: HomeAssistant, provider: ProviderServer, preset: str, name: str
) -> None:
    """The API refuses a token that looked valid: one refresh, one retry.

    When the retry works, its answer is the value; when the API refuses the new
    token too, the account asks for reauth. A token without a refresh token (GitHub's
    classic ones, Google's after a re-consent) goes to reauth at once.
    """
    fixture = load_fixture(preset)
    dead = case_of(fixture, "dead_token", name)["answer"]
    path = api_path(fixture, provider)
    token_path = path_of(profile_at(fixture, provider).token_url)
    refresh = fixture["refresh"][0] if fixture["refresh"] else None

    # The retry with the refreshed token works.
    token = stored_token(fixture, refreshable=True)
    entry = await load_account(hass, provider, fixture, token)
    provider.answer(path, dead, fixture["api"]["answer"])
    assert refresh is not None
    provider.answer(token_path, refresh["answer"])
    await start(hass, entry)
    assert value_of(hass) == fixture["api"]["value"]
    assert sent_tokens(provider, path) == [
        f"Bearer {token['access_token']}",
        f"Bearer {refresh['token']['access_token']}",
    ]
    assert len(provider.requests(token_path)) == 1
    assert not reauths(hass, entry)

    # The API refuses the refreshed token too; or there is nothing to refresh with.
    for token in {
        "refreshable": stored_token(fixture, refreshable=True),
        "first": stored_token(fixture),
    }.values():
        entry = await load_account(hass, provider, fixture, token)
        provider.answer(path, dead)
        provider.answer(token_path, refresh["answer"])
        await start(hass, entry)
        expected = [f"Bearer {token['access_token']}"]
        if token.get("refresh_token"):
            expected.append(f"Bearer {refresh['token']['access_token']}")
        assert sent_tokens(provider, path) == expected
        assert len(provider.requests(token_path)) == len(expected) - 1
        assert value_of(hass) == STATE_UNAVAILABLE
        assert len(reauths(hass, entry)) == 1


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize("preset", fixture_presets())
async def test_token_endpoint_errors(
    hass: HomeAssistant, provider: ProviderServer, preset: str
) -> None:
    """A due refresh: a dead grant asks for reauth, a passing fault is retried.

    Neither reaches the API with the old token.
    """
    fixture = load_fixture(preset)
    token_path = path_of(profile_at(fixture, provider).token_url)
    path = api_path(fixture, provider)
    token = {**stored_token(fixture, refreshable=True), "expires_at": time.time() - 10}
    for kind, state, reauth in (
        ("dead_grant", ConfigEntryState.SETUP_ERROR, 1),
        ("transient", ConfigEntryState.SETUP_RETRY, 0),
    ):
        for case in fixture[kind]:
            entry = await load_account(hass, provider, fixture, token)
            provider.answer(token_path, case["answer"])
            provider.answer(path, fixture["api"]["answer"])
            await start(hass, entry)
            assert len(provider.requests(token_path)) == 1, case["name"]
            assert not provider.requests(path), case["name"]
            assert entry.state is state, case["name"]
            assert len(reauths(hass, entry)) == reauth, case["name"]


@pytest.mark.usefixtures("setup_credentials")
@pytest.mark.parametrize(("preset", "name"), cases("forbidden"))
async def test_missing_scope_is_a_repair(
    hass: HomeAssistant,
    provider: ProviderServer,
    issue_registry: ir.IssueRegistry,
    preset: str,
    name: str,
) -> None:
    """The API says the grant lacks a scope: a repair issue, no refresh, no reauth."""
    fixture = load_fixture(preset)
    path = api_path(fixture, provider)
    token_path = path_of(profile_at(fixture, provider).token_url)
    entry = await load_account(hass, provider, fixture, stored_token(fixture))
    provider.answer(path, case_of(fixture, "forbidden", name)["answer"])
    await start(hass, entry)

    assert issue_registry.async_get_issue(
        DOMAIN, f"forbidden_{entry.entry_id}_endpoint_contract"
    )
    assert not provider.requests(token_path)
    assert not reauths(hass, entry)


# -- shapes found by detection, and the device grant ---------------------------------


@pytest.mark.parametrize(
    ("name", "dead"),
    [
        ("status_401_authentication_failed", True),
        ("status_601_too_many_requests", False),
    ],
)
async def test_withings_by_hand_detects_its_wrapper(
    hass: HomeAssistant, provider: ProviderServer, name: str, dead: bool
) -> None:
    """Withings entered by hand: its wrapper is found, its dead grant still ends.

    The profile carries only what a user can type (URLs, client authentication,
    the ``action`` parameter); the wrapper and its status are detected in the first
    answer. A refresh answered with status 401 in the wrapper is a dead grant; 601
    (too many requests) is retried.
    """
    fixture = load_fixture("withings")
    preset = profile_at(fixture, provider)
    profile = replace(
        preset,
        key="manual",
        quirks=TokenResponseQuirks(extra_token_params=preset.quirks.extra_token_params),
    )
    impl = implementation(hass, profile, fixture["client_id"])
    token_path = path_of(profile.token_url)
    provider.answer(token_path, fixture["code"][0]["answer"])
    state = {"flow_id": "flow", "redirect_uri": REDIRECT_URI}
    token = await impl.async_resolve_external_data({"code": "the-code", "state": state})
    assert impl.profile.quirks.wrapper_key == "body"
    assert impl.profile.quirks.status_key == "status"
    expected = fixture["code"][0]["token"]
    assert token["access_token"] == expected["access_token"]
    assert token["refresh_token"] == expected["refresh_token"]
    assert token["expires_in"] == fixture["code"][0]["expires_in"]

    kind = "dead_grant" if dead else "transient"
    provider.answer(token_path, case_of(fixture, kind, name)["answer"])
    error = OAuth2TokenRequestReauthError if dead else OAuth2TokenRequestTransientError
    with pytest.raises(error):
        await impl.async_refresh_token({**token, "expires_at": time.time() - 10})


async def test_github_device_flow(
    hass: HomeAssistant, provider: ProviderServer
) -> None:
    """GitHub's device flow: pending and slow_down in HTTP 200, then a classic token."""
    fixture = load_fixture("github")
    device = fixture["device"]
    impl = implementation(hass, profile_at(fixture, provider), fixture["client_id"])
    device_path = path_of(impl.profile.device_authorization_url)
    token_path = path_of(impl.profile.token_url)
    provider.answer(device_path, device["authorization"])
    provider.answer(token_path, *device["polls"])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    authorization = await async_start_device_authorization(impl, "read:user")
    token = await async_poll_device_token(
        impl, authorization, sleep=sleep, clock=lambda: sum(waits)
    )

    assert authorization.user_code == "WDJB-MJHT"
    assert authorization.verification_uri == "https://github.com/login/device"
    [start_request] = provider.requests(device_path)
    assert start_request.form == {
        "scope": "read:user",
        "client_id": fixture["client_id"],
        "client_secret": CLIENT_SECRET,
    }
    polls = provider.requests(token_path)
    assert len(polls) == 3
    assert {poll.form["device_code"] for poll in polls} == {authorization.device_code}
    assert {poll.form["grant_type"] for poll in polls} == {DEVICE_CODE_GRANT_TYPE}
    assert waits == [5, 5, 10]  # slow_down adds five seconds
    assert token["access_token"] == "gho_16C7e42F292c6912E7710c838347Ae178B4a"
    assert token[NON_EXPIRING_MARKER] is True
    assert "refresh_token" not in token


@pytest.mark.parametrize(
    ("answer", "outcome"),
    [("expired", DeviceOutcome.EXPIRED), ("denied", DeviceOutcome.DENIED)],
)
async def test_github_device_flow_ends(
    hass: HomeAssistant, provider: ProviderServer, answer: str, outcome: DeviceOutcome
) -> None:
    """GitHub's expired_token and access_denied (in HTTP 200) end the device login."""
    fixture = load_fixture("github")
    device = fixture["device"]
    impl = implementation(hass, profile_at(fixture, provider), fixture["client_id"])
    provider.answer(
        path_of(impl.profile.device_authorization_url), device["authorization"]
    )
    provider.answer(path_of(impl.profile.token_url), device["polls"][0], device[answer])
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    authorization = await async_start_device_authorization(impl, None)
    with pytest.raises(DeviceFlowError) as raised:
        await async_poll_device_token(
            impl, authorization, sleep=sleep, clock=lambda: sum(waits)
        )
    assert raised.value.outcome is outcome
