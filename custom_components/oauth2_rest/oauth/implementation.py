"""Our OAuth 2.0 implementation: HA's local implementation, driven by a provider profile.

Adds to ``LocalOAuth2Implementation``: the three client authentication methods, PKCE
with a fresh verifier for every flow, an OIDC nonce checked in the id_token,
``Accept: application/json``, the token-response quirks of the profile, refresh tokens kept when the provider does not rotate them,
tokens without ``expires_in``, and errors mapped exactly as HA's
``OAuth2TokenRequest*Error`` hierarchy defines them (also for errors hidden in a 200).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass, replace
from http import HTTPStatus
import logging
from typing import Any, override
from urllib.parse import quote

from aiohttp import ClientError, ClientTimeout, RequestInfo, hdrs
from homeassistant.components.application_credentials import ClientCredential
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import (
    OAuth2TokenRequestError,
    OAuth2TokenRequestReauthError,
    OAuth2TokenRequestTransientError,
)
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from homeassistant.helpers.config_entry_oauth2_flow import (
    LocalOAuth2Implementation,
    LocalOAuth2ImplementationWithPkce,
)
from multidict import CIMultiDict, CIMultiDictProxy
from yarl import URL

from ..client.errors import ResponseTooLargeError
from ..client.response import read_capped
from ..redirect import redirect_uri
from .identity import check_nonce, new_nonce, wants_nonce
from .provider import ClientAuthMethod, PkceMode, ProviderProfile
from .token_response import (
    MAX_TOKEN_RESPONSE_BYTES,
    InvalidTokenResponse,
    TokenEndpointError,
    UnsupportedTokenType,
    detect_quirks,
    parse_token_response,
)
from .token_set import (
    ACCESS_TOKEN,
    CLIENT_CREDENTIALS_KEY,
    NON_EXPIRING_MARKER,
    REFRESH_TOKEN,
    is_client_credentials_token,
    stamp_expiry,
)

_LOGGER = logging.getLogger(__name__)

TOKEN_REQUEST_TIMEOUT = 30
DEVICE_CODE_GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
CLIENT_CREDENTIALS_GRANT_TYPE = "client_credentials"
# Of the profile's authorization parameters, those a client credentials request
# carries (there is no authorize request): RFC 8707 and Auth0's API identifier.
CLIENT_CREDENTIALS_PARAMS = ("resource", "audience")


# Removing an account waits for the revocation: keep that short.
REVOCATION_TIMEOUT = 10


@dataclass(frozen=True, slots=True)
class ServerAnswer:
    """What an authorization server answered a POST, read within the cap.

    ``too_large`` holds the refusal when the body was over the cap; ``body`` is
    empty then.
    """

    status: int
    content_type: str
    headers: CIMultiDictProxy[str]
    body: bytes
    too_large: ResponseTooLargeError | None = None


class OAuth2RestImplementation(LocalOAuth2Implementation):
    """Talks to one authorization server with one client credential."""

    def __init__(
        self,
        hass: HomeAssistant,
        auth_domain: str,
        credential: ClientCredential,
        profile: ProviderProfile,
    ) -> None:
        """Initialise from an application credential and a provider profile."""
        super().__init__(
            hass,
            auth_domain,
            credential.client_id,
            credential.client_secret,
            profile.authorize_url,
            profile.token_url,
        )
        self.profile = profile
        self._credential_name = credential.name
        # One PKCE verifier per flow: the instance may serve several flows at once.
        self._verifiers: dict[str, str] = {}
        # One OIDC nonce per flow that asks for ``openid``; never logged.
        self._nonces: dict[str, str] = {}

    @property
    @override
    def name(self) -> str:
        """Name shown to the user: the credential's name, else the provider's."""
        return self._credential_name or self.profile.name

    @property
    @override
    def redirect_uri(self) -> str:
        """The redirect URI to send: the one the forms told the user to register."""
        return redirect_uri(self.hass)

    @property
    def uses_pkce(self) -> bool:
        """Whether authorize requests carry a PKCE challenge."""
        # Coerced: with_placeholders() leaves the plain string value behind.
        return PkceMode(self.profile.pkce) is not PkceMode.NO

    @override
    async def async_generate_authorize_url(self, flow_id: str) -> str:
        """Return the authorize URL, with a PKCE challenge fresh for this flow."""
        url = URL(await super().async_generate_authorize_url(flow_id))
        extra = dict(self.profile.extra_authorize_params)
        if self.uses_pkce:
            verifier = LocalOAuth2ImplementationWithPkce.generate_code_verifier()
            self._verifiers[flow_id] = verifier
            extra["code_challenge"] = (
                LocalOAuth2ImplementationWithPkce.compute_code_challenge(verifier)
            )
            extra["code_challenge_method"] = "S256"
        return str(url.update_query(extra))

    def add_nonce(self, flow_id: str, authorize_url: str) -> str:
        """``authorize_url`` with a fresh nonce for this flow when it asks for openid.

        The nonce is kept until the code exchange checks it in the id_token.
        """
        url = URL(authorize_url)
        if not wants_nonce(url.query.get("scope"), self.profile.scope_separator):
            self._nonces.pop(flow_id, None)
            return authorize_url
        self._nonces[flow_id] = nonce = new_nonce()
        return str(url.update_query(nonce=nonce))

    @override
    async def async_resolve_external_data(self, external_data: Any) -> dict[str, Any]:
        """Exchange the authorization code, with this flow's PKCE verifier."""
        data: dict[str, Any] = {
            "grant_type": "authorization_code",
            "code": external_data["code"],
            "redirect_uri": external_data["state"]["redirect_uri"],
        }
        flow_id = external_data["state"].get("flow_id")
        if (verifier := self._verifiers.pop(flow_id, None)) is not None:
            data["code_verifier"] = verifier
        nonce = self._nonces.pop(flow_id, None)
        token = await self._token_request(data, detect=True)
        check_nonce(token, self.client_id, nonce)  # NonceMismatchError
        return token

    async def async_device_code_token(self, device_code: str) -> dict[str, Any]:
        """Poll the token endpoint once for a device code (RFC 8628 section 3.4).

        Raises the mapped ``OAuth2TokenRequestError``; when the endpoint answered
        with an error, its ``__cause__`` is the ``TokenEndpointError`` holding the
        error code (``authorization_pending``, ``slow_down``...).
        """
        return await self._token_request(
            {"grant_type": DEVICE_CODE_GRANT_TYPE, "device_code": device_code},
            detect=True,
        )

    def client_credentials_params(self, scopes: list[str]) -> dict[str, str]:
        """The parameters of this client's credentials request for ``scopes``."""
        params = {
            name: value
            for name, value in self.profile.extra_authorize_params.items()
            if name in CLIENT_CREDENTIALS_PARAMS
        }
        if scopes:
            params["scope"] = self.profile.join_scopes(scopes)
        return params

    async def async_client_credentials_token(
        self, params: dict[str, str]
    ) -> dict[str, Any]:
        """Get a token for the client itself (RFC 6749 section 4.4), at link time.

        The token keeps ``params``: when it is due, the same request gets the next
        one (see :meth:`_async_refresh_token`).
        """
        return stamp_expiry(await self._client_credentials_request(params, detect=True))

    async def _client_credentials_request(
        self, params: dict[str, str], *, detect: bool = False
    ) -> dict[str, Any]:
        token = await self._token_request(
            {"grant_type": CLIENT_CREDENTIALS_GRANT_TYPE, **params}, detect=detect
        )
        # Never a refresh token: RFC 6749 4.4.3 says none should be issued.
        token.pop(REFRESH_TOKEN, None)
        token[CLIENT_CREDENTIALS_KEY] = dict(params)
        return token

    def forget_flow(self, flow_id: str) -> None:
        """Drop the PKCE verifier and nonce of a flow that ended without a code."""
        self._verifiers.pop(flow_id, None)
        self._nonces.pop(flow_id, None)

    @override
    async def async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Refresh, keeping the old refresh token when the provider sends none.

        Replaces HA's, which stamps the expiry by the same rule and maps raw
        aiohttp errors (``_token_request`` raises HA's mapped errors only).
        """
        return stamp_expiry(await self._async_refresh_token(token))

    @override
    async def _async_refresh_token(self, token: dict[str, Any]) -> dict[str, Any]:
        """Use the refresh token; merge so non-rotated fields survive.

        Without a refresh token (GitHub's non-expiring tokens, a grant without
        offline access) the only way to a new token is to link the account again.
        A token of the client credentials grant is replaced by a new request.
        """
        if is_client_credentials_token(token):
            return await self._client_credentials_request(token[CLIENT_CREDENTIALS_KEY])
        if not token.get(REFRESH_TOKEN):
            raise self._error(
                OAuth2TokenRequestReauthError,
                HTTPStatus.BAD_REQUEST,
                "no refresh token: the account must be linked again",
            )
        new_token = await self._token_request(
            {"grant_type": "refresh_token", REFRESH_TOKEN: token[REFRESH_TOKEN]}
        )
        merged = {**token, **new_token}
        if NON_EXPIRING_MARKER not in new_token:
            # The new token expires, whatever the old one did.
            merged.pop(NON_EXPIRING_MARKER, None)
        return merged

    async def async_revoke(self, token: Mapping[str, Any]) -> bool:
        """Revoke the grant at the provider (RFC 7009); True when it confirmed.

        Revoking the refresh token ends the whole grant at compliant servers; the
        access token is revoked when there is no refresh token. Failures are
        logged, never raised: the caller is removing the account anyway.
        """
        if not (url := self.profile.revocation_url):
            return False
        kind = REFRESH_TOKEN if token.get(REFRESH_TOKEN) else ACCESS_TOKEN
        try:
            answer = await self.async_post_form(
                url,
                {"token": token[kind], "token_type_hint": kind},
                timeout=REVOCATION_TIMEOUT,
            )
        except (ClientError, TimeoutError) as err:
            _LOGGER.warning(
                "Could not revoke the grant at %s: %s", url, type(err).__name__
            )
            return False
        # The status says it all: the body (empty per RFC 7009) is not looked at.
        if not (revoked := answer.status == HTTPStatus.OK):
            _LOGGER.warning("Revocation at %s answered HTTP %s", url, answer.status)
        return revoked

    async def async_post_form(
        self,
        url: str,
        data: dict[str, Any],
        *,
        timeout: float = TOKEN_REQUEST_TIMEOUT,
    ) -> ServerAnswer:
        """POST a form to the authorization server as this client; read the answer.

        The one way to the authorization server (token requests, revocation,
        device authorization): client authentication added, JSON asked for, no
        redirect followed (client secrets and refresh tokens are never replayed to
        another URL), the body read up to ``MAX_TOKEN_RESPONSE_BYTES``. Raises
        ClientError or TimeoutError when there is no answer.
        """
        headers = {hdrs.ACCEPT: "application/json", **self.client_auth(data)}
        session = async_get_clientsession(self.hass)
        async with session.post(
            url,
            data=data,
            headers=headers,
            timeout=ClientTimeout(total=timeout),
            allow_redirects=False,
        ) as resp:
            status, content_type = resp.status, resp.content_type or ""
            response_headers = CIMultiDictProxy(CIMultiDict(resp.headers))
            try:
                body = await read_capped(resp, MAX_TOKEN_RESPONSE_BYTES)
            except ResponseTooLargeError as err:
                return ServerAnswer(status, content_type, response_headers, b"", err)
        return ServerAnswer(status, content_type, response_headers, body)

    def client_auth(self, data: dict[str, Any]) -> dict[str, str]:
        """Add client authentication to a token request; return extra headers."""
        # Coerced: with_placeholders() leaves the plain string value behind.
        method = ClientAuthMethod(self.profile.client_auth)
        if method is ClientAuthMethod.CLIENT_SECRET_BASIC and self.client_secret:
            # RFC 6749 2.3.1: both parts are form-urlencoded before base64.
            pair = (
                f"{quote(self.client_id, safe='')}:{quote(self.client_secret, safe='')}"
            )
            encoded = base64.b64encode(pair.encode()).decode()
            return {hdrs.AUTHORIZATION: f"Basic {encoded}"}
        data["client_id"] = self.client_id
        if method is ClientAuthMethod.CLIENT_SECRET_POST and self.client_secret:
            data["client_secret"] = self.client_secret
        return {}

    @override
    async def _token_request(
        self, data: dict[str, Any], *, detect: bool = False
    ) -> dict[str, Any]:
        """Send a token request; return the normalised token or raise a mapped error.

        With ``detect`` (the first answer of a grant) the answer's shape is looked
        at and what it shows is added to the profile's quirks (kept in
        ``self.profile``, stored with the entry, used by every later refresh).
        """
        data = {**self.profile.quirks.extra_token_params, **data}
        _LOGGER.debug(
            "Sending %s token request to %s", data["grant_type"], self.token_url
        )
        try:
            answer = await self.async_post_form(self.token_url, data)
        except (ClientError, TimeoutError) as err:
            _LOGGER.debug(
                "Token request to %s got no response: %s", self.token_url, err
            )
            raise self._error(OAuth2TokenRequestTransientError, 0, str(err)) from err
        status, content_type, body = answer.status, answer.content_type, answer.body
        if (too_large := answer.too_large) is not None:
            _LOGGER.debug("Token response of %s refused: %s", self.token_url, too_large)
            raise self._error(OAuth2TokenRequestTransientError, status, str(too_large))

        if detect:
            quirks = detect_quirks(status, content_type, body, self.profile.quirks)
            if quirks != self.profile.quirks:
                _LOGGER.debug(
                    "Token answers of %s: found %s", self.token_url, quirks.detected
                )
                self.profile = replace(self.profile, quirks=quirks)
        try:
            return parse_token_response(status, content_type, body, self.profile.quirks)
        except TokenEndpointError as err:
            _LOGGER.debug("Token request to %s failed: %s", self.token_url, err)
            # Chained: callers that need the error code (device polling) read it
            # from __cause__. It holds no token material.
            raise self._mapped_error(err, answer.headers) from err
        except UnsupportedTokenType as err:
            # Not transient: every refresh would get the same kind of token.
            _LOGGER.error("Token endpoint %s: %s", self.token_url, err)
            raise self._error(OAuth2TokenRequestReauthError, status, str(err)) from None
        except InvalidTokenResponse as err:
            _LOGGER.debug("Token response of %s unusable: %s", self.token_url, err)
            raise self._error(
                OAuth2TokenRequestTransientError, status, str(err)
            ) from None

    def _mapped_error(
        self,
        err: TokenEndpointError,
        headers: CIMultiDictProxy[str],
    ) -> OAuth2TokenRequestError:
        """Classify as HA does: 429/5xx transient, other 4xx reauth."""
        if (
            err.status == HTTPStatus.TOO_MANY_REQUESTS
            or err.status >= HTTPStatus.INTERNAL_SERVER_ERROR
        ):
            error_type: type[OAuth2TokenRequestError] = OAuth2TokenRequestTransientError
        elif err.status >= HTTPStatus.BAD_REQUEST:
            error_type = OAuth2TokenRequestReauthError
        else:
            error_type = OAuth2TokenRequestError
        return self._error(error_type, err.status, str(err), headers)

    def _error(
        self,
        error_type: type[OAuth2TokenRequestError],
        status: int,
        message: str,
        headers: CIMultiDictProxy[str] | None = None,
    ) -> OAuth2TokenRequestError:
        return error_type(
            request_info=self._request_info(),
            status=status,
            message=message,
            headers=headers,
            domain=self.domain,
        )

    def _request_info(self) -> RequestInfo:
        url = URL(self.token_url)
        return RequestInfo(url, "POST", CIMultiDictProxy(CIMultiDict()), url)
