"""What several test modules share: the test account, flow walkers, helpers, constants."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from datetime import timedelta
from http import HTTPStatus
import json
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web
from freezegun.api import FrozenDateTimeFactory
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.config_entries import SOURCE_USER, ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResult, FlowResultType
from homeassistant.helpers import config_entry_oauth2_flow
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import (
    AiohttpClientMocker,
    AiohttpClientMockResponse,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN, LINKING_DOCS_URL
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation
from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
)

from .strings import assert_form_placeholders

# -- the test account ------------------------------------------------------------------

CLIENT_ID = "test-client"
CLIENT_SECRET = "test-secret"
AUTH_DOMAIN = "oauth2_rest_test_client"
ISSUER = "https://auth.example.com"
AUTHORIZE_URL = f"{ISSUER}/authorize"
TOKEN_URL = f"{ISSUER}/token"
USERINFO_URL = f"{ISSUER}/userinfo"
API_BASE = "https://api.example.com/v1"
REDIRECT_URI = "https://example.com/auth/external/callback"
# The entry id of accounts in snapshots (it is part of unique ids).
SNAPSHOT_ENTRY_ID = "01JTESTACCOUNTENTRY0000000"
# What the token endpoint answers a link or a refresh of the test account.
NEW_TOKEN = {
    "access_token": "new-access-token",
    "refresh_token": "new-refresh-token",
    "token_type": "Bearer",
    "expires_in": 3600,
}


def manual_profile(**changes: Any) -> ProviderProfile:
    """The provider profile of the test account."""
    values: dict[str, Any] = {
        "key": "manual",
        "name": "Example",
        "authorize_url": AUTHORIZE_URL,
        "token_url": TOKEN_URL,
        "userinfo_url": USERINFO_URL,
        "issuer": ISSUER,
        "api_base_url": API_BASE,
        "client_auth": ClientAuthMethod.CLIENT_SECRET_BASIC,
        "pkce": PkceMode.SUPPORTED,
        "default_scopes": ("read",),
    }
    values.update(changes)
    return ProviderProfile(**values)


def endpoint_subentry(
    title: str = "Weather",
    url: str = "/weather",
    value_template: str = "{{ value_json.temperature }}",
    unit: str | None = "°C",
    subentry_id: str = "endpoint_weather",
    scan_interval: int = 60,
) -> ConfigSubentryData:
    """An endpoint subentry with one sensor value."""
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": url,
            "scan_interval": scan_interval,
            "timeout": 30,
            "values": [
                {
                    "key": "value",
                    "name": title,
                    "platform": "sensor",
                    "value_template": value_template,
                    "unit_of_measurement": unit,
                }
            ],
        },
        subentry_id=subentry_id,
        subentry_type="endpoint",
        title=title,
        unique_id=None,
    )


def expire_token(hass: Any, entry: Any, expires_at: float = 0) -> None:
    """Have the stored token expire at ``expires_at``, the way HA stores a token."""
    hass.config_entries.async_update_entry(
        entry,
        data={**entry.data, "token": {**entry.data["token"], "expires_at": expires_at}},
    )


def token_requests(aioclient_mock: Any, token_url: str = TOKEN_URL) -> list[Any]:
    """The calls an AiohttpClientMocker saw to the token endpoint."""
    return [call for call in aioclient_mock.mock_calls if str(call[1]) == token_url]


def api_requests(aioclient_mock: Any, path: str) -> list[Any]:
    """The calls an AiohttpClientMocker saw to an API path under API_BASE."""
    url = f"{API_BASE}{path}"
    return [call for call in aioclient_mock.mock_calls if str(call[1]) == url]


def reauth_flows(hass: Any, domain: str = "oauth2_rest") -> list[Any]:
    """The reauth flows in progress for the integration."""
    return [
        flow
        for flow in hass.config_entries.flow.async_progress_by_handler(domain)
        if flow["context"].get("source") == "reauth"
    ]


def _ha_version() -> tuple[int, int]:
    from homeassistant.const import MAJOR_VERSION, MINOR_VERSION

    return MAJOR_VERSION, MINOR_VERSION


# Registry and state snapshots are recorded on the newest Home Assistant we test; older
# versions serialise some fields differently (attribute keys as plain strings, aliases
# as a set). Their behaviour is asserted by the other tests on every version.
SNAPSHOT_HA_VERSION = (2026, 10)
newest_ha_only = pytest.mark.skipif(
    _ha_version() < SNAPSHOT_HA_VERSION,
    reason="registry/state snapshots are recorded on the newest HA",
)


async def tick(
    hass: HomeAssistant, freezer: FrozenDateTimeFactory, seconds: float
) -> None:
    """Move time on and run what became due (polls run as background tasks)."""
    freezer.tick(timedelta(seconds=seconds))
    async_fire_time_changed(hass)
    await hass.async_block_till_done(wait_background_tasks=True)


# -- what an account must never show ---------------------------------------------------

ACCESS_TOKEN = "stored-access-token"
REFRESH_TOKEN = "stored-refresh-token"
# The account's secrets: none may appear in anything we show, log or return.
ACCOUNT_SECRETS = (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET)


def leaked(output: Any, secrets: tuple[str, ...] = ACCOUNT_SECRETS) -> list[str]:
    """The secrets found anywhere in output (serialised as text)."""
    text = output if isinstance(output, str) else json.dumps(output, default=repr)
    return [secret for secret in secrets if secret in text]


# -- the account config flow -----------------------------------------------------------


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


# Where a credential entered anew is stored, and where a new secret for the test client goes.
NEW_AUTH_DOMAIN = "oauth2_rest_new_client"
ROTATED_DOMAIN = f"{AUTH_DOMAIN}_2"


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


# -- the device authorization grant (RFC 8628) -----------------------------------------

DEVICE_URL = f"{ISSUER}/device_authorization"
DEVICE_RESPONSE = {
    "device_code": "the-device-code",
    "user_code": "WDJB-MJHT",
    "verification_uri": f"{ISSUER}/device",
    "verification_uri_complete": f"{ISSUER}/device?user_code=WDJB-MJHT",
    "expires_in": 1800,
    "interval": 3,
}


def device_implementation(
    hass: HomeAssistant,
    client_auth: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC,
    **changes: Any,
) -> OAuth2RestImplementation:
    """The test client at the test provider, which has a device endpoint."""
    profile = manual_profile(
        **{"device_authorization_url": DEVICE_URL, "client_auth": client_auth} | changes
    )
    return OAuth2RestImplementation(
        hass, AUTH_DOMAIN, ClientCredential(CLIENT_ID, CLIENT_SECRET), profile
    )


def respond_in_turn(
    aioclient_mock: AiohttpClientMocker, url: str, responses: list[dict[str, Any]]
) -> None:
    """Answer the POSTs to url with responses, one after the other."""
    queue = list(responses)

    async def next_response(
        method: str, request_url: URL, data: Any
    ) -> AiohttpClientMockResponse:
        return AiohttpClientMockResponse(method, request_url, **queue.pop(0))

    aioclient_mock.post(url, side_effect=next_response)


class FakeTime:
    """An injectable clock and sleep that never wait; sleeps are recorded."""

    def __init__(self) -> None:
        """Start at zero."""
        self.now = 0.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        """The fake monotonic clock."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Advance the clock instead of waiting (and let other tasks run)."""
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


def posted_forms(aioclient_mock: AiohttpClientMocker, url: str) -> list[dict[str, Any]]:
    """The forms POSTed to url, in order."""
    return [
        {k: v[0] for k, v in parse_qs(c[2]).items()}
        if isinstance(c[2], str)
        else dict(c[2])
        for c in aioclient_mock.mock_calls
        if c[0] == "POST" and str(c[1]) == url
    ]


def token_error(code: str, status: int = HTTPStatus.BAD_REQUEST) -> dict[str, Any]:
    """A token endpoint error response."""
    return {"status": status, "json": {"error": code}}


# -- endpoints: their flow, their answers, their states, the action --------------------

ENDPOINT_REQUEST = {
    "name": "Forecast",
    "method": "GET",
    "url": "/forecast",
    "scan_interval": 120,
    "timeout": 10,
}


async def start_endpoint_flow(
    hass: HomeAssistant, entry: MockConfigEntry
) -> FlowResult:
    """Open the flow that adds an endpoint to the account, at its request form."""
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "endpoint"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "request"}
    )


async def configure_endpoint_flow(
    hass: HomeAssistant, result: FlowResult, user_input: dict[str, Any] | None = None
) -> FlowResult:
    """Submit a step of the endpoint flow (an empty form when no input)."""
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input or {}
    )


async def pick_endpoint_menu(
    hass: HomeAssistant, result: FlowResult, option: str
) -> FlowResult:
    """Pick ``option`` in the endpoint flow's menu."""
    assert result["type"] is FlowResultType.MENU
    assert option in result["menu_options"]
    return await configure_endpoint_flow(hass, result, {"next_step_id": option})


# The weather of the XML parity tests (an XML answer read by an endpoint).
XML_WEATHER = (
    '<?xml version="1.0"?><weather city="Oslo"><temperature unit="C">21.5'
    "</temperature><station>Blindern</station></weather>"
)


def respond(
    aioclient_mock: AiohttpClientMocker, url: str, *responses: dict[str, Any]
) -> list[dict[str, Any]]:
    """Answer ``url`` with ``responses`` in turn (the last one repeats)."""
    queue: Iterator[dict[str, Any]] = iter(responses)
    last: list[dict[str, Any]] = [responses[-1]]

    async def side_effect(method: str, req_url: URL, data: Any) -> Any:
        spec = next(queue, last[0])
        return AiohttpClientMockResponse(method, req_url, **spec)

    aioclient_mock.get(url, side_effect=side_effect)
    return last


def state(hass: HomeAssistant, entity_id: str = "sensor.weather") -> str:
    """An entity's state."""
    current = hass.states.get(entity_id)
    assert current is not None, entity_id
    return current.state


async def call_action(hass: HomeAssistant, entry: MockConfigEntry, **data: Any) -> Any:
    """Call the oauth2_rest.request action for ``entry`` and return its response."""
    return await hass.services.async_call(
        DOMAIN,
        "request",
        {"config_entry_id": entry.entry_id, **data},
        blocking=True,
        return_response=True,
    )


async def discover(hass: HomeAssistant, flow_id: str, issuer_url: str) -> Any:
    """Enter the issuer URL, then go on from what discovery found.

    Returns the flow's next result: the credentials form.
    """
    result = await hass.config_entries.flow.async_configure(
        flow_id, {"issuer_url": issuer_url}
    )
    assert result["type"] == "menu", result
    assert result["step_id"] == "discovered"
    assert result["menu_options"] == ["credentials", "adjust_discovered"]
    return await hass.config_entries.flow.async_configure(
        flow_id, {"next_step_id": "credentials"}
    )


async def send_json_body(
    request: web.Request, body: bytes, *, declared: bool
) -> web.StreamResponse:
    """Answer ``body`` as JSON, its length declared, or streamed in 64 KiB chunks."""
    if declared:
        return web.Response(body=body, content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/json"})
    response.enable_chunked_encoding()
    await response.prepare(request)
    for start in range(0, len(body), 64 * 1024):
        await response.write(body[start : start + 64 * 1024])
    await response.write_eof()
    return response
