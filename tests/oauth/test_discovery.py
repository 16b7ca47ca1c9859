"""Tests for RFC 8414 / OpenID Connect discovery."""

from collections.abc import AsyncIterator
from http import HTTPStatus
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.oauth import discovery
from custom_components.oauth2_rest.oauth.discovery import (
    DiscoveryConnectionError,
    DiscoveryError,
    DiscoveryInsecureEndpoint,
    DiscoveryInvalidDocument,
    DiscoveryNotFound,
    DiscoveryRedirected,
    InvalidIssuerUrl,
    async_discover,
)
from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
)

HOST = "https://as.example.com"
OAUTH_ROOT = f"{HOST}/.well-known/oauth-authorization-server"
OIDC_ROOT = f"{HOST}/.well-known/openid-configuration"

PATH_ISSUER = f"{HOST}/realms/home"
PATH_CANDIDATES = [
    f"{HOST}/.well-known/oauth-authorization-server/realms/home",
    f"{HOST}/realms/home/.well-known/openid-configuration",
    f"{HOST}/.well-known/openid-configuration/realms/home",
    f"{HOST}/realms/home/.well-known/oauth-authorization-server",
]


def metadata(issuer: str = HOST, **overrides: Any) -> dict[str, Any]:
    """Return a complete, valid metadata document for issuer."""
    document: dict[str, Any] = {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "revocation_endpoint": f"{issuer}/revoke",
        "device_authorization_endpoint": f"{issuer}/device",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "token_endpoint_auth_methods_supported": [
            "client_secret_post",
            "client_secret_basic",
        ],
        "code_challenge_methods_supported": ["plain", "S256"],
        "scopes_supported": ["email", "openid", "phone", "profile", "offline_access"],
    }
    document.update(overrides)
    return {key: value for key, value in document.items() if value is not None}


def called_urls(aioclient_mock: AiohttpClientMocker) -> list[str]:
    """Return the URLs requested, in order."""
    return [str(call[1]) for call in aioclient_mock.mock_calls]


async def discover(hass: HomeAssistant, url: str) -> ProviderProfile:
    """Run discovery with Home Assistant's shared session."""
    return await async_discover(async_get_clientsession(hass), url)


async def test_oidc_document_after_rfc8414_404(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """RFC 8414 is tried first; on 404 the OIDC document is used."""
    aioclient_mock.get(OAUTH_ROOT, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(OIDC_ROOT, json=metadata())

    profile = await discover(hass, HOST)

    assert called_urls(aioclient_mock) == [OAUTH_ROOT, OIDC_ROOT]
    assert aioclient_mock.mock_calls[0][3] == {"Accept": "application/json"}
    assert profile == ProviderProfile(
        key="discovery",
        name="as.example.com",
        authorize_url=f"{HOST}/authorize",
        token_url=f"{HOST}/token",
        revocation_url=f"{HOST}/revoke",
        device_authorization_url=f"{HOST}/device",
        userinfo_url=f"{HOST}/userinfo",
        issuer=HOST,
        api_base_url=HOST,
        client_auth=ClientAuthMethod.CLIENT_SECRET_BASIC,
        pkce=PkceMode.SUPPORTED,
        default_scopes=("openid", "offline_access", "profile", "email"),
    )


async def test_rfc8414_document_first(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A valid RFC 8414 document ends discovery without asking for OIDC."""
    aioclient_mock.get(
        OAUTH_ROOT,
        json=metadata(
            userinfo_endpoint=None,
            device_authorization_endpoint=None,
            revocation_endpoint=None,
            scopes_supported=None,
            service_documentation="https://as.example.com/docs",
        ),
    )

    profile = await discover(hass, f"{HOST}/")

    assert called_urls(aioclient_mock) == [OAUTH_ROOT]
    assert profile.issuer == HOST
    assert profile.token_url == f"{HOST}/token"
    assert profile.userinfo_url is None
    assert profile.revocation_url is None
    assert profile.device_authorization_url is None
    assert profile.default_scopes == ()
    assert profile.documentation_url == "https://as.example.com/docs"


async def test_path_insertion_form(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """An issuer with a path is looked up with the well-known name inserted."""
    aioclient_mock.get(PATH_CANDIDATES[0], json=metadata(PATH_ISSUER))

    profile = await discover(hass, PATH_ISSUER)

    assert called_urls(aioclient_mock) == PATH_CANDIDATES[:1]
    assert profile.issuer == PATH_ISSUER
    assert profile.authorize_url == f"{PATH_ISSUER}/authorize"
    assert profile.api_base_url == HOST
    assert profile.name == "as.example.com"


@pytest.mark.parametrize("found", [1, 2, 3])
async def test_path_issuer_fallbacks(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, found: int
) -> None:
    """Each later candidate for a path issuer is tried after 404s, in order."""
    for url in PATH_CANDIDATES[:found]:
        aioclient_mock.get(url, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(PATH_CANDIDATES[found], json=metadata(PATH_ISSUER))

    profile = await discover(hass, f"{PATH_ISSUER}/")

    assert called_urls(aioclient_mock) == PATH_CANDIDATES[: found + 1]
    assert profile.issuer == PATH_ISSUER


@pytest.mark.parametrize(
    ("url", "issuer"),
    [
        (OIDC_ROOT, HOST),
        (OAUTH_ROOT, HOST),
        (PATH_CANDIDATES[0], PATH_ISSUER),
        (PATH_CANDIDATES[1], PATH_ISSUER),
        (PATH_CANDIDATES[2], PATH_ISSUER),
        (PATH_CANDIDATES[3], PATH_ISSUER),
    ],
)
async def test_direct_well_known_url(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, url: str, issuer: str
) -> None:
    """A URL of a well-known document is fetched as is, and only that one."""
    aioclient_mock.get(url, json=metadata(issuer))

    profile = await discover(hass, url)

    assert called_urls(aioclient_mock) == [url]
    assert profile.issuer == issuer


async def test_direct_well_known_url_checks_issuer(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The issuer of a directly given document must match its URL."""
    aioclient_mock.get(OIDC_ROOT, json=metadata("https://other.example.com"))

    with pytest.raises(DiscoveryInvalidDocument, match="does not match"):
        await discover(hass, OIDC_ROOT)


async def test_issuer_trailing_slash_is_tolerated(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Auth0-style issuers with a trailing slash match the bare host."""
    aioclient_mock.get(OAUTH_ROOT, status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(
        OIDC_ROOT,
        json=metadata(
            f"{HOST}/",
            authorization_endpoint=f"{HOST}/authorize",
            token_endpoint=f"{HOST}/oauth/token",
        ),
    )

    profile = await discover(hass, "  HTTPS://AS.example.com  ")

    assert profile.issuer == f"{HOST}/"
    assert profile.token_url == f"{HOST}/oauth/token"


async def test_plain_http_is_allowed(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Plain http issuers (a local Keycloak, say) are accepted."""
    issuer = "http://127.0.0.1:8080/realms/dev"
    aioclient_mock.get(
        "http://127.0.0.1:8080/.well-known/oauth-authorization-server/realms/dev",
        json=metadata(issuer),
    )

    profile = await discover(hass, issuer)

    assert profile.issuer == issuer
    assert profile.api_base_url == "http://127.0.0.1:8080"
    assert profile.name == "127.0.0.1"


@pytest.mark.parametrize(
    "url",
    [
        "",
        "not a url",
        "as.example.com",
        "ftp://as.example.com",
        "https://",
        "https://as.example.com/?tenant=1",
        "https://as.example.com/#frag",
        "https://user:secret@as.example.com",
        "https://as.example.com/.well-known/jwks.json",
        "https://as.example.com/.well-known",
        "https://as.example.com/x/.well-known/openid-configuration/y",
        "http://[::1",
    ],
)
async def test_invalid_issuer_url(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, url: str
) -> None:
    """Anything but an http(s) issuer or metadata URL is refused before any request."""
    with pytest.raises(InvalidIssuerUrl):
        await discover(hass, url)
    assert aioclient_mock.call_count == 0


@pytest.mark.parametrize("status", [HTTPStatus.NOT_FOUND, HTTPStatus.FORBIDDEN])
async def test_not_found_everywhere(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, status: HTTPStatus
) -> None:
    """All candidates answering 4xx is "not found"."""
    for url in PATH_CANDIDATES:
        aioclient_mock.get(url, status=status)

    with pytest.raises(DiscoveryNotFound):
        await discover(hass, PATH_ISSUER)
    assert called_urls(aioclient_mock) == PATH_CANDIDATES


@pytest.mark.parametrize(
    ("response", "match"),
    [
        ({"text": "<html>login</html>"}, "not JSON"),
        ({"content": b"\xff\xfe\x00"}, "not JSON"),
        ({"json": [metadata()]}, "not a JSON object"),
        ({"json": "https://as.example.com"}, "not a JSON object"),
        (
            {
                "json": metadata(
                    authorization_endpoint=None, device_authorization_endpoint=None
                )
            },
            "missing",
        ),
        ({"json": metadata(token_endpoint=None)}, "missing"),
        ({"json": metadata(token_endpoint="/token")}, "missing"),
        ({"json": metadata(token_endpoint=["x"])}, "missing"),
        (
            {
                "json": metadata(
                    authorization_endpoint="ftp://x/a",
                    device_authorization_endpoint=None,
                )
            },
            "missing",
        ),
        ({"json": metadata(issuer=None)}, "does not match"),
        ({"json": metadata(issuer="https://evil.example.com")}, "does not match"),
        ({"json": metadata(issuer=f"{HOST}/other")}, "does not match"),
        ({"json": metadata(issuer=42)}, "does not match"),
        ({"json": metadata(issuer="https://[::1")}, "does not match"),
        ({"json": metadata(token_endpoint="https://[::1")}, "missing"),
        ({"text": "{}", "status": HTTPStatus.NO_CONTENT}, "HTTP 204"),
        ({"text": " " * (discovery.MAX_DOCUMENT_BYTES + 1)}, "too large"),
    ],
)
async def test_invalid_document(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    response: dict[str, Any],
    match: str,
) -> None:
    """A served document that is not usable metadata is an invalid document."""
    aioclient_mock.get(OAUTH_ROOT, **response)
    aioclient_mock.get(OIDC_ROOT, status=HTTPStatus.NOT_FOUND)

    with pytest.raises(DiscoveryInvalidDocument, match=match):
        await discover(hass, HOST)
    assert called_urls(aioclient_mock) == [OAUTH_ROOT, OIDC_ROOT]


async def test_invalid_document_then_valid_one(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """An unusable document does not stop the next candidate from working."""
    aioclient_mock.get(OAUTH_ROOT, text="<html>catch-all page</html>")
    aioclient_mock.get(OIDC_ROOT, json=metadata())

    profile = await discover(hass, HOST)

    assert profile.token_url == f"{HOST}/token"


@pytest.mark.parametrize(
    "exc",
    [
        TimeoutError(),
        aiohttp.ClientConnectionError("refused"),
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientPayloadError("broken"),
    ],
)
async def test_connection_failure_stops_at_once(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, exc: Exception
) -> None:
    """A timeout or connection error is reported without trying other URLs."""
    aioclient_mock.get(OAUTH_ROOT, exc=exc)
    aioclient_mock.get(OIDC_ROOT, json=metadata())

    with pytest.raises(DiscoveryConnectionError):
        await discover(hass, HOST)
    assert called_urls(aioclient_mock) == [OAUTH_ROOT]


async def test_server_error_everywhere(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """5xx on every candidate means the server cannot be used right now."""
    aioclient_mock.get(OAUTH_ROOT, status=HTTPStatus.INTERNAL_SERVER_ERROR)
    aioclient_mock.get(OIDC_ROOT, status=HTTPStatus.NOT_FOUND)

    with pytest.raises(DiscoveryConnectionError, match="HTTP 500"):
        await discover(hass, HOST)
    assert called_urls(aioclient_mock) == [OAUTH_ROOT, OIDC_ROOT]


async def test_server_error_then_document(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A 5xx on one candidate does not stop the next from working."""
    aioclient_mock.get(OAUTH_ROOT, status=HTTPStatus.BAD_GATEWAY)
    aioclient_mock.get(OIDC_ROOT, json=metadata())

    profile = await discover(hass, HOST)

    assert profile.issuer == HOST


async def test_invalid_document_beats_server_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """The most telling failure is reported when nothing worked."""
    aioclient_mock.get(PATH_CANDIDATES[0], status=HTTPStatus.SERVICE_UNAVAILABLE)
    aioclient_mock.get(
        PATH_CANDIDATES[1], json=metadata(PATH_ISSUER, token_endpoint=None)
    )
    aioclient_mock.get(PATH_CANDIDATES[2], status=HTTPStatus.NOT_FOUND)
    aioclient_mock.get(PATH_CANDIDATES[3], status=HTTPStatus.INTERNAL_SERVER_ERROR)

    with pytest.raises(DiscoveryInvalidDocument):
        await discover(hass, PATH_ISSUER)


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        (None, ClientAuthMethod.CLIENT_SECRET_BASIC),
        (["client_secret_basic"], ClientAuthMethod.CLIENT_SECRET_BASIC),
        (
            ["client_secret_post", "client_secret_basic"],
            ClientAuthMethod.CLIENT_SECRET_BASIC,
        ),
        (
            ["private_key_jwt", "client_secret_post"],
            ClientAuthMethod.CLIENT_SECRET_POST,
        ),
        (["none"], ClientAuthMethod.NONE),
        (["private_key_jwt", "tls_client_auth"], ClientAuthMethod.NONE),
        ("client_secret_post", ClientAuthMethod.CLIENT_SECRET_BASIC),
    ],
)
async def test_client_auth_derivation(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    methods: Any,
    expected: ClientAuthMethod,
) -> None:
    """Basic is preferred, then post, else none; absent means basic (RFC 8414)."""
    aioclient_mock.get(
        OAUTH_ROOT, json=metadata(token_endpoint_auth_methods_supported=methods)
    )

    assert (await discover(hass, HOST)).client_auth is expected


@pytest.mark.parametrize(
    ("methods", "expected"),
    [
        (["S256"], PkceMode.SUPPORTED),
        (["plain", "S256"], PkceMode.SUPPORTED),
        (["plain"], PkceMode.NO),
        ([], PkceMode.NO),
        (None, PkceMode.NO),
        # The wrong type says nothing: PKCE is not switched off by it.
        ("S256", PkceMode.SUPPORTED),
        ("plain", PkceMode.SUPPORTED),
        ({"S256": True}, PkceMode.SUPPORTED),
        ([1, 2], PkceMode.SUPPORTED),
        (True, PkceMode.SUPPORTED),
    ],
)
async def test_pkce_derivation(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    methods: Any,
    expected: PkceMode,
) -> None:
    """PKCE is off only when the server's list lacks S256 (or there is none)."""
    aioclient_mock.get(
        OAUTH_ROOT, json=metadata(code_challenge_methods_supported=methods)
    )

    assert (await discover(hass, HOST)).pkce is expected


@pytest.mark.parametrize(
    ("scopes", "expected"),
    [
        (
            ["address", "email", "openid", "phone", "profile", "offline_access"],
            ("openid", "offline_access", "profile", "email"),
        ),
        (["openid", "email", "roles"], ("openid", "email")),
        (["read", "write"], ()),
        (None, ()),
        ({"openid": True}, ()),
    ],
)
async def test_scope_derivation(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    scopes: Any,
    expected: tuple[str, ...],
) -> None:
    """Only the generally useful listed scopes become defaults, in a fixed order."""
    aioclient_mock.get(OAUTH_ROOT, json=metadata(scopes_supported=scopes))

    assert (await discover(hass, HOST)).default_scopes == expected


async def test_malformed_optional_fields_are_ignored(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Optional endpoints that are not absolute http(s) URLs are left out."""
    aioclient_mock.get(
        OAUTH_ROOT,
        json=metadata(
            revocation_endpoint=123,
            userinfo_endpoint="/userinfo",
            device_authorization_endpoint="",
            service_documentation="javascript:alert(1)",
        ),
    )

    profile = await discover(hass, HOST)

    assert profile.revocation_url is None
    assert profile.userinfo_url is None
    assert profile.device_authorization_url is None
    assert profile.documentation_url is None


def test_translation_keys() -> None:
    """Each failure class names the form error the config flow shows."""
    assert InvalidIssuerUrl.translation_key == "invalid_issuer_url"
    assert DiscoveryNotFound.translation_key == "discovery_not_found"
    assert DiscoveryInvalidDocument.translation_key == "discovery_invalid_document"
    assert DiscoveryConnectionError.translation_key == "discovery_cannot_connect"
    assert DiscoveryRedirected.translation_key == "discovery_redirected"
    assert DiscoveryInsecureEndpoint.translation_key == "discovery_insecure_endpoint"
    for cls in (
        InvalidIssuerUrl,
        DiscoveryNotFound,
        DiscoveryInvalidDocument,
        DiscoveryConnectionError,
        DiscoveryRedirected,
        DiscoveryInsecureEndpoint,
    ):
        assert issubclass(cls, DiscoveryError)


@pytest.mark.parametrize(
    "endpoint",
    [
        "token_endpoint",
        "userinfo_endpoint",
        "revocation_endpoint",
        "device_authorization_endpoint",
    ],
)
async def test_https_issuer_with_plain_http_endpoint_refused(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, endpoint: str
) -> None:
    """An https issuer may not send secrets to a plain http endpoint.

    Failed on the old code (the profile was built with the http endpoint).
    """
    aioclient_mock.get(
        OAUTH_ROOT, json=metadata(**{endpoint: "http://as.example.com/x"})
    )
    aioclient_mock.get(OIDC_ROOT, status=HTTPStatus.NOT_FOUND)

    with pytest.raises(DiscoveryInsecureEndpoint, match=endpoint) as raised:
        await discover(hass, HOST)
    assert raised.value.translation_key == "discovery_insecure_endpoint"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9000/token", "http://localhost/token", "http://[::1]/t"]
)
async def test_https_issuer_with_loopback_http_endpoint_allowed(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, url: str
) -> None:
    """A local provider's loopback endpoint may stay plain http."""
    aioclient_mock.get(OAUTH_ROOT, json=metadata(token_endpoint=url))

    assert (await discover(hass, HOST)).token_url == url


@pytest.mark.parametrize(
    "issuer",
    [
        "https://AS.example.com",
        "https://as.example.com:443",
        "https://as.example.com/x/..",
        "https://as.example.com#",
        "https://as.example.com?",
        "https://as.example.com//",
        "https://as.example.com/%2E",
    ],
)
async def test_issuer_must_be_identical(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, issuer: str
) -> None:
    """The issuer is compared as a string (RFC 8414 3.3), not after normalising.

    Failed on the old code (yarl normalised each of these into the issuer).
    """
    aioclient_mock.get(OAUTH_ROOT, json=metadata(issuer, token_endpoint=f"{HOST}/t"))
    aioclient_mock.get(OIDC_ROOT, status=HTTPStatus.NOT_FOUND)

    with pytest.raises(DiscoveryInvalidDocument, match="does not match"):
        await discover(hass, HOST)


@pytest.fixture
async def redirecting_servers() -> AsyncIterator[str]:
    """An issuer host whose metadata is redirected away (/away) or within it (/here).

    Both documents name the issuer that was asked for.
    """
    urls: dict[str, str] = {}

    async def away_document(request: web.Request) -> web.Response:
        return web.json_response(metadata(f"{urls['issuer']}/away"))

    async def here_document(request: web.Request) -> web.Response:
        return web.json_response(metadata(f"{urls['issuer']}/here"))

    async def away(request: web.Request) -> web.Response:
        raise web.HTTPFound(f"{urls['target']}/doc")

    async def here(request: web.Request) -> web.Response:
        raise web.HTTPFound("/doc")

    target = web.Application()
    target.router.add_get("/doc", away_document)
    issuer = web.Application()
    issuer.router.add_get("/away/.well-known/openid-configuration", away)
    issuer.router.add_get("/here/.well-known/openid-configuration", here)
    issuer.router.add_get("/doc", here_document)
    target_server = TestServer(target, host="127.0.0.1")
    issuer_server = TestServer(issuer, host="127.0.0.1")
    await target_server.start_server()
    await issuer_server.start_server()
    urls["target"] = str(target_server.make_url("")).rstrip("/")
    urls["issuer"] = str(issuer_server.make_url("")).rstrip("/")
    yield urls["issuer"]
    await issuer_server.close()
    await target_server.close()


@pytest.mark.usefixtures("socket_enabled")
async def test_metadata_redirected_to_another_origin_refused(
    redirecting_servers: str,
) -> None:
    """A document naming our issuer but served by another origin is not trusted.

    Failed on the old code (the redirect was followed and the profile built).
    """
    url = f"{redirecting_servers}/away/.well-known/openid-configuration"
    async with aiohttp.ClientSession() as session:
        with pytest.raises(DiscoveryRedirected, match="redirected") as raised:
            await async_discover(session, url)
    assert raised.value.translation_key == "discovery_redirected"


@pytest.mark.usefixtures("socket_enabled")
async def test_metadata_redirected_within_the_origin_allowed(
    redirecting_servers: str,
) -> None:
    """A redirect that stays on the issuer's origin is fine."""
    url = f"{redirecting_servers}/here/.well-known/openid-configuration"
    async with aiohttp.ClientSession() as session:
        profile = await async_discover(session, url)
    assert profile.issuer == f"{redirecting_servers}/here"


@pytest.mark.parametrize(
    ("grant_types", "authorize", "expected"),
    [
        (None, True, False),  # RFC 8414's default: authorization_code, implicit
        (["authorization_code", "refresh_token"], True, False),
        (["authorization_code", "client_credentials"], True, True),
        (["client_credentials"], False, True),  # no authorization endpoint needed
    ],
)
async def test_client_credentials_from_grant_types(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    grant_types: list[str] | None,
    authorize: bool,
    expected: bool,
) -> None:
    """``grant_types_supported`` tells whether the client credentials grant is there."""
    aioclient_mock.get(
        OAUTH_ROOT,
        json=metadata(
            grant_types_supported=grant_types,
            authorization_endpoint=None if not authorize else f"{HOST}/authorize",
        ),
    )
    profile = await discover(hass, HOST)
    assert profile.client_credentials is expected
    assert profile.authorize_url == (f"{HOST}/authorize" if authorize else "")


async def test_no_authorization_endpoint_without_client_credentials(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Without an authorization endpoint, only client credentials could work."""
    aioclient_mock.get(
        OAUTH_ROOT,
        json=metadata(
            authorization_endpoint=None,
            device_authorization_endpoint=None,
            grant_types_supported=["authorization_code"],
        ),
    )
    aioclient_mock.get(OIDC_ROOT, status=HTTPStatus.NOT_FOUND)
    with pytest.raises(DiscoveryInvalidDocument, match="missing"):
        await discover(hass, HOST)


async def test_device_grant_only_needs_no_authorization_endpoint(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """RFC 8414 2: a device-grant-only server has no authorization endpoint.

    It is still a provider to link with.
    """
    aioclient_mock.get(
        OAUTH_ROOT,
        json=metadata(
            authorization_endpoint=None,
            grant_types_supported=["urn:ietf:params:oauth:grant-type:device_code"],
        ),
    )
    profile = await discover(hass, HOST)
    assert profile.authorize_url == ""
    assert profile.device_authorization_url == f"{HOST}/device"
    assert not profile.client_credentials
