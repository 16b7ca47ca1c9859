"""Authorization server discovery: RFC 8414 and OpenID Connect Discovery 1.0.

``async_discover`` turns an issuer URL (or the URL of a well-known metadata document)
into a ``ProviderProfile``. Candidates are tried in this order, the first valid
document wins:

1. RFC 8414 ``/.well-known/oauth-authorization-server`` (path-insertion form for an
   issuer with a path: ``https://host/.well-known/oauth-authorization-server/tenant``);
2. OIDC ``<issuer>/.well-known/openid-configuration``;
3. for an issuer with a path, the RFC 8414 section 5 compatibility forms
   ``https://host/.well-known/openid-configuration/tenant`` and
   ``<issuer>/.well-known/oauth-authorization-server`` (served by Okta, for example).

A candidate answering 4xx counts as "not found" and the next one is tried; a 5xx or
a document that is not valid metadata is remembered and the next one is tried; a
timeout or connection error stops at once (the host is not reachable). When nothing
worked the most telling error is raised: invalid document, then server error, then
not found.

The document is untrusted: it is refused when it was reached through a redirect to
another origin, when its ``issuer`` is not the issuer asked for (RFC 8414 section
3.3, OIDC Discovery section 4.3: identical, only a trailing slash is tolerated), and
when an https issuer lists a plain http endpoint that would carry the client secret,
a token or a device code (loopback hosts excepted, for local providers).

Every error is a ``DiscoveryError`` with a ``translation_key`` the config flow shows
as the form error. The module does not import Home Assistant.
"""

from collections.abc import Mapping
from http import HTTPStatus
from typing import Any, ClassVar, Final

import aiohttp
from yarl import URL

from ..client.errors import ResponseTooLargeError
from ..client.response import loads_json, read_capped
from ..client.urls import http_url, is_secure_transport
from .provider import ClientAuthMethod, PkceMode, ProviderProfile

DISCOVERY_KEY: Final = "discovery"
TIMEOUT: Final = aiohttp.ClientTimeout(total=10)
MAX_DOCUMENT_BYTES: Final = 512 * 1024

WELL_KNOWN_OAUTH: Final = "oauth-authorization-server"
WELL_KNOWN_OIDC: Final = "openid-configuration"
_WELL_KNOWN_PREFIX: Final = "/.well-known/"

# Scopes worth asking for by default when the server lists them, in this order.
_DEFAULT_SCOPE_CANDIDATES: Final = ("openid", "offline_access", "profile", "email")


class DiscoveryError(Exception):
    """Discovery failed; ``translation_key`` names the config flow form error."""

    translation_key: ClassVar[str] = "unknown"


class InvalidIssuerUrl(DiscoveryError):
    """The URL is not an absolute http(s) URL without query, fragment or user info."""

    translation_key: ClassVar[str] = "invalid_issuer_url"


class DiscoveryNotFound(DiscoveryError):
    """No candidate URL served a metadata document (all answered 4xx)."""

    translation_key: ClassVar[str] = "discovery_not_found"


class DiscoveryInvalidDocument(DiscoveryError):
    """A metadata document was served but is not usable.

    Not JSON, not a JSON object, an ``issuer`` that does not match the URL it was
    fetched for (RFC 8414 section 3.3), or no authorization/token endpoint.
    The subclasses name the two refusals that are about trust, not format.
    """

    translation_key: ClassVar[str] = "discovery_invalid_document"


class DiscoveryRedirected(DiscoveryInvalidDocument):
    """The metadata document was served after a redirect to another origin."""

    translation_key: ClassVar[str] = "discovery_redirected"


class DiscoveryInsecureEndpoint(DiscoveryInvalidDocument):
    """An https issuer lists a plain http endpoint that would carry secrets."""

    translation_key: ClassVar[str] = "discovery_insecure_endpoint"


class DiscoveryConnectionError(DiscoveryError):
    """The server could not be reached, timed out or answered with a 5xx."""

    translation_key: ClassVar[str] = "discovery_cannot_connect"


class _ServerError(DiscoveryConnectionError):
    """A candidate answered with a 5xx; worth trying the next one."""


async def async_discover(
    session: aiohttp.ClientSession, issuer_url: str
) -> ProviderProfile:
    """Discover the authorization server at issuer_url and return its profile.

    issuer_url is either the issuer identifier or the URL of its well-known
    metadata document. Raises a ``DiscoveryError`` subclass on failure.
    """
    candidates = _candidates(_parse_url(issuer_url))
    not_found: DiscoveryError | None = None
    server_error: DiscoveryError | None = None
    invalid: DiscoveryError | None = None
    for url, expected_issuer in candidates:
        try:
            document = await _fetch_document(session, url)
            return _profile_from_metadata(document, expected_issuer)
        except DiscoveryNotFound as err:
            not_found = not_found or err
        except DiscoveryInvalidDocument as err:
            invalid = invalid or err
        except _ServerError as err:
            server_error = server_error or err
    raise invalid or server_error or not_found or DiscoveryNotFound(issuer_url)


def _parse_url(raw: str) -> URL:
    """Parse and check the URL the user entered."""
    if (url := http_url(raw.strip(), bare=True)) is None:
        raise InvalidIssuerUrl(f"not an http(s) issuer URL: {raw!r}")
    return url


def _candidates(url: URL) -> list[tuple[URL, str]]:
    """Return (metadata URL, expected issuer) pairs to try, in order."""
    origin = url.origin()
    path = url.raw_path.rstrip("/")
    if _WELL_KNOWN_PREFIX in path + "/":
        return [(url, _issuer_of_well_known(url, origin, path))]

    issuer = str(origin) + path

    def at(raw_path: str) -> URL:
        """Return the URL on the issuer's origin with this (encoded) path."""
        return origin.with_path(raw_path, encoded=True)

    if not path:
        return [
            (at(_WELL_KNOWN_PREFIX + WELL_KNOWN_OAUTH), issuer),
            (at(_WELL_KNOWN_PREFIX + WELL_KNOWN_OIDC), issuer),
        ]
    return [
        (at(_WELL_KNOWN_PREFIX + WELL_KNOWN_OAUTH + path), issuer),
        (at(path + _WELL_KNOWN_PREFIX + WELL_KNOWN_OIDC), issuer),
        (at(_WELL_KNOWN_PREFIX + WELL_KNOWN_OIDC + path), issuer),
        (at(path + _WELL_KNOWN_PREFIX + WELL_KNOWN_OAUTH), issuer),
    ]


def _issuer_of_well_known(url: URL, origin: URL, path: str) -> str:
    """Return the issuer a well-known document URL was built from."""
    before, _, after = path.partition(_WELL_KNOWN_PREFIX)
    name, _, suffix = after.partition("/")
    if name not in (WELL_KNOWN_OAUTH, WELL_KNOWN_OIDC) or (before and suffix):
        raise InvalidIssuerUrl(f"not a metadata document URL: {url}")
    # RFC 8414 inserts the issuer path after the well-known name; OIDC appends the
    # well-known name to the issuer. Either way one side is empty.
    issuer_path = f"/{suffix}" if suffix else before
    return str(origin) + issuer_path


async def _fetch_document(session: aiohttp.ClientSession, url: URL) -> dict[str, Any]:
    """Fetch one candidate and return the JSON object it serves."""
    try:
        async with session.get(
            url, timeout=TIMEOUT, headers={"Accept": "application/json"}
        ) as response:
            if (
                HTTPStatus.BAD_REQUEST
                <= response.status
                < HTTPStatus.INTERNAL_SERVER_ERROR
            ):
                raise DiscoveryNotFound(f"{url}: HTTP {response.status}")
            if response.status >= HTTPStatus.INTERNAL_SERVER_ERROR:
                raise _ServerError(f"{url}: HTTP {response.status}")
            if response.status != HTTPStatus.OK:
                raise DiscoveryInvalidDocument(f"{url}: HTTP {response.status}")
            if URL(response.url).origin() != url.origin():
                raise DiscoveryRedirected(
                    f"{url}: redirected to {URL(response.url).origin()}"
                )
            try:
                body = await read_capped(response, MAX_DOCUMENT_BYTES)
            except ResponseTooLargeError as err:
                raise DiscoveryInvalidDocument(f"{url}: document too large") from err
    except TimeoutError as err:
        raise DiscoveryConnectionError(f"{url}: timed out") from err
    except aiohttp.ClientError as err:
        raise DiscoveryConnectionError(f"{url}: {err}") from err
    try:
        document = loads_json(body)
    except ValueError as err:
        raise DiscoveryInvalidDocument(f"{url}: not JSON") from err
    if not isinstance(document, dict):
        raise DiscoveryInvalidDocument(f"{url}: not a JSON object")
    return document


def _same_issuer(issuer: str, expected: str) -> bool:
    """Compare issuers as strings (RFC 8414 3.3), tolerating one trailing slash.

    No URL normalisation: a document naming ``https://AS.example.com:443`` or
    ``https://as.example.com/x/..`` is not the issuer ``https://as.example.com``.
    """
    return issuer.removesuffix("/") == expected.removesuffix("/")


# The endpoints that receive the client secret, a token or a device code.
_SECRET_ENDPOINTS: Final = (
    "token_endpoint",
    "userinfo_endpoint",
    "revocation_endpoint",
    "device_authorization_endpoint",
)


def insecure_for_issuer(url: str, issuer: str | None) -> bool:
    """Whether an endpoint that carries secrets is plain http under an https issuer.

    Loopback hosts are allowed (local providers). The same rule holds for the
    endpoints a document lists and for the ones a user adds to a discovered
    provider.
    """
    if issuer is None or URL(issuer).scheme != "https":
        return False
    return not is_secure_transport(URL(url))


def _check_transport(metadata: Mapping[str, Any], issuer: str) -> None:
    """Refuse plain http secret endpoints of an https issuer (loopback allowed)."""
    for key in _SECRET_ENDPOINTS:
        if (value := _http_url(metadata.get(key))) is not None and insecure_for_issuer(
            value, issuer
        ):
            raise DiscoveryInsecureEndpoint(f"{issuer}: {key} is plain http")


def _http_url(value: Any) -> str | None:
    """Return value if it is an absolute http(s) URL string, else None."""
    if not isinstance(value, str) or http_url(value) is None:
        return None
    return value


def _string_list(value: Any) -> list[str] | None:
    """Return value if it is a list of strings (ignoring other items), else None."""
    if not isinstance(value, list):
        return None
    return [item for item in value if isinstance(item, str)]


def _client_auth(metadata: Mapping[str, Any]) -> ClientAuthMethod:
    """Choose client authentication from ``token_endpoint_auth_methods_supported``."""
    methods = _string_list(metadata.get("token_endpoint_auth_methods_supported"))
    if methods is None:  # RFC 8414 section 2: the default is client_secret_basic
        return ClientAuthMethod.CLIENT_SECRET_BASIC
    for method in (
        ClientAuthMethod.CLIENT_SECRET_BASIC,
        ClientAuthMethod.CLIENT_SECRET_POST,
    ):
        if method in methods:
            return method
    return ClientAuthMethod.NONE


def _pkce(metadata: Mapping[str, Any]) -> PkceMode:
    """Return NO only when the server says it has no S256.

    Absent (RFC 8414: no PKCE) or a list without S256 means NO. A value of the
    wrong type says nothing: S256 is sent (servers ignore parameters they don't
    know), never switched off by a malformed document.
    """
    value = metadata.get("code_challenge_methods_supported")
    if value is None:
        return PkceMode.NO
    methods = _string_list(value)
    if methods is None or (value and not methods):  # not a list of strings
        return PkceMode.SUPPORTED
    return PkceMode.SUPPORTED if "S256" in methods else PkceMode.NO


def _default_scopes(metadata: Mapping[str, Any]) -> tuple[str, ...]:
    """Pick the generally useful scopes the server lists."""
    supported = _string_list(metadata.get("scopes_supported")) or []
    return tuple(scope for scope in _DEFAULT_SCOPE_CANDIDATES if scope in supported)


def _profile_from_metadata(
    metadata: Mapping[str, Any], expected_issuer: str
) -> ProviderProfile:
    """Validate a metadata document and build the profile from it."""
    issuer = metadata.get("issuer")
    if not isinstance(issuer, str) or not _same_issuer(issuer, expected_issuer):
        raise DiscoveryInvalidDocument(
            f"issuer {issuer!r} does not match {expected_issuer!r}"
        )
    if (token_url := _http_url(metadata.get("token_endpoint"))) is None:
        raise DiscoveryInvalidDocument(f"{issuer}: token_endpoint missing")
    _check_transport(metadata, issuer)
    issuer_url = URL(issuer)
    profile = ProviderProfile(
        key=DISCOVERY_KEY,
        name=issuer_url.host or issuer,
        authorize_url=_http_url(metadata.get("authorization_endpoint")) or "",
        token_url=token_url,
        revocation_url=_http_url(metadata.get("revocation_endpoint")),
        device_authorization_url=_http_url(
            metadata.get("device_authorization_endpoint")
        ),
        userinfo_url=_http_url(metadata.get("userinfo_endpoint")),
        issuer=issuer,
        api_base_url=str(issuer_url.origin()),
        client_auth=_client_auth(metadata),
        pkce=_pkce(metadata),
        default_scopes=_default_scopes(metadata),
        client_credentials="client_credentials"
        in (_string_list(metadata.get("grant_types_supported")) or []),
        documentation_url=_http_url(metadata.get("service_documentation")),
    )
    # RFC 8414 2: no authorization endpoint when no grant uses it (client
    # credentials, or the device grant, only).
    if not profile.offers_a_grant:
        raise DiscoveryInvalidDocument(f"{issuer}: authorization_endpoint missing")
    return profile
