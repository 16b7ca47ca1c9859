"""authlib's generic AuthorizationServer wired to aiohttp and the in-memory store."""

from __future__ import annotations

from collections import defaultdict
import json
import logging
import secrets
from typing import Any, ClassVar

from aiohttp import web
from authlib.oauth2 import rfc7009, rfc8628
from authlib.oauth2.rfc6749 import (
    AuthorizationServer,
    JsonPayload,
    JsonRequest,
    OAuth2Payload,
    OAuth2Request,
    grants,
)
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from joserfc.jwk import RSAKey
from multidict import MultiDict, MultiDictProxy

from .config import SCOPES, DemoConfig
from .events import fingerprint
from .models import AuthorizationCode, Client, DeviceCredential, Token, User
from .store import Store, new_grant_id

_LOGGER = logging.getLogger(__name__)
AUTH_METHODS = ["client_secret_basic", "client_secret_post", "none"]


class _Payload(OAuth2Payload):
    """Query string and form fields of one request (form wins)."""

    def __init__(self, query: MultiDictProxy[str], form: MultiDictProxy[Any]) -> None:
        self._data: dict[str, str] = {
            **query,
            **{k: v for k, v in form.items() if isinstance(v, str)},
        }
        self._datalist: defaultdict[str, list[str]] = defaultdict(list)
        for source in (query, form):
            for key, value in source.items():
                if isinstance(value, str):
                    self._datalist[key].append(value)

    @property
    def data(self) -> dict[str, str]:
        """Flat parameters."""
        return self._data

    @property
    def datalist(self) -> defaultdict[str, list[str]]:
        """Parameters with every repeated value."""
        return self._datalist


class AiohttpOAuth2Request(OAuth2Request):
    """An already-read aiohttp request, in the shape authlib's grants expect."""

    def __init__(self, request: web.Request, form: MultiDictProxy[Any]) -> None:
        """Snapshot method, URL, headers, query and form."""
        super().__init__(
            method=request.method, uri=str(request.url), headers=request.headers
        )
        self._query = request.query
        self._form = form
        self.payload = _Payload(request.query, form)
        self.consented_scope: str | None = None

    @property
    def args(self) -> MultiDictProxy[str]:
        """Query parameters."""
        return self._query

    @property
    def form(self) -> MultiDictProxy[Any]:
        """Form parameters."""
        return self._form


class _JsonPayload(JsonPayload):
    def __init__(self, data: dict[str, Any]) -> None:
        self._data = data

    @property
    def data(self) -> dict[str, Any]:
        return self._data


async def read_oauth2_request(request: web.Request) -> AiohttpOAuth2Request:
    """Read the body of an aiohttp request and wrap it for authlib."""
    form = (
        await request.post()
        if request.method == "POST"
        else MultiDictProxy(MultiDict())
    )
    return AiohttpOAuth2Request(request, form)


class DemoAuthorizationServer(AuthorizationServer):
    """The framework glue authlib asks integrations to provide."""

    def __init__(self, config: DemoConfig, store: Store) -> None:
        """Register grants, endpoints and the token generator."""
        super().__init__(scopes_supported=list(SCOPES))
        self.config = config
        self.store = store
        self.signing_key = RSAKey.generate_key(
            2048, parameters={"kid": secrets.token_hex(4), "use": "sig", "alg": "RS256"}
        )
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: secrets.token_urlsafe(32),
                refresh_token_generator=lambda **_: secrets.token_urlsafe(48),
                expires_generator=lambda client, grant_type: config.token_ttl,
            ),
        )
        self.register_grant(
            CodeGrant, [S256CodeChallenge(required=True), DemoOpenIDCode(self)]
        )
        self.register_grant(RefreshGrant)
        self.register_grant(ClientCredentialsGrant)
        self.register_grant(DeviceCodeGrant)
        device_endpoint = DeviceEndpoint(self)
        device_endpoint.EXPIRES_IN = config.device_ttl
        device_endpoint.INTERVAL = config.device_interval
        self.register_endpoint(device_endpoint)
        self.register_endpoint(RevocationEndpoint(self))

    # authlib hooks -------------------------------------------------------------
    def query_client(self, client_id: str) -> Client | None:
        """Look a client up."""
        return self.store.clients.get(client_id)

    def save_token(self, token: dict[str, Any], request: OAuth2Request) -> None:
        """Store a freshly generated token under the grant it belongs to."""
        if request.authorization_code is not None:
            grant_id = request.authorization_code.grant_id
        elif isinstance(request.refresh_token, Token):
            grant_id = request.refresh_token.grant_id
        else:
            grant_id = new_grant_id()
        self.store.add_token(token, request.client, request.user, grant_id)
        if isinstance(request.refresh_token, Token) and token.get("refresh_token"):
            # The old refresh token is dead from now on: a client must keep this one.
            self.store.events.record(
                "rotation", grant_id, refresh=fingerprint(token["refresh_token"])
            )

    def create_oauth2_request(self, request: Any) -> OAuth2Request:
        """Requests arrive already wrapped by the handlers."""
        if not isinstance(request, OAuth2Request):
            raise TypeError("handlers must pass an AiohttpOAuth2Request")
        return request

    def create_json_request(self, request: Any) -> JsonRequest:
        """Wrap a JSON body (unused by the grants offered here)."""
        json_request = JsonRequest(request.method, request.uri, request.headers)
        json_request.payload = _JsonPayload(dict(request.form))
        return json_request

    def handle_response(self, status: int, body: Any, headers: Any) -> web.Response:
        """Turn authlib's (status, body, headers) into an aiohttp response."""
        text = json.dumps(body) if isinstance(body, dict) else (body or "")
        response = web.Response(status=status, text=text)
        for key, value in headers or []:
            response.headers[key] = value
        return response

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        """No signal system here."""


class S256CodeChallenge(CodeChallenge):
    """PKCE, S256 only (required for public clients)."""

    SUPPORTED_CODE_CHALLENGE_METHOD: ClassVar[list[str]] = ["S256"]

    def get_authorization_code_challenge(
        self, authorization_code: AuthorizationCode
    ) -> str | None:
        """Return the stored challenge."""
        return authorization_code.code_challenge

    def get_authorization_code_challenge_method(
        self, authorization_code: AuthorizationCode
    ) -> str | None:
        """Return the stored challenge method."""
        return authorization_code.code_challenge_method


class DemoOpenIDCode(OpenIDCode):
    """id_token for the code flow, signed with the server's RSA key."""

    def __init__(self, server: DemoAuthorizationServer) -> None:
        """Keep the server for its key, issuer and store."""
        super().__init__(require_nonce=False)
        self.server = server

    def exists_nonce(self, nonce: str, request: OAuth2Request) -> bool:
        """Whether the nonce was already used by this client."""
        return (request.payload.client_id, nonce) in self.server.store.nonces

    def resolve_client_private_key(self, client: Client) -> RSAKey:
        """The server's signing key."""
        return self.server.signing_key

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        """Issuer and audience."""
        return {"iss": self.server.config.issuer, "aud": [client.client_id]}

    def generate_user_info(self, user: User, scope: str) -> UserInfo:
        """Claims for the id_token."""
        return user.userinfo(scope)


class CodeGrant(grants.AuthorizationCodeGrant):
    """Authorization code grant storing codes in memory."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def create_authorization_response(
        self, redirect_uri: str, grant_user: User | None
    ) -> Any:
        """Narrow the scope to what the user ticked on the consent page."""
        consented = getattr(self.request, "consented_scope", None)
        if consented is not None:
            self.request.scope = consented
        return super().create_authorization_response(redirect_uri, grant_user)

    def save_authorization_code(self, code: str, request: OAuth2Request) -> None:
        """Remember the code with its PKCE challenge and nonce."""
        store: Store = self.server.store
        data = request.payload.data
        nonce = data.get("nonce")
        if nonce:
            store.nonces.add((request.payload.client_id, nonce))
        store.codes[code] = AuthorizationCode(
            code=code,
            client_id=request.client.client_id,
            redirect_uri=request.payload.redirect_uri,
            scope=request.scope or "",
            user=request.user,
            auth_time=int(getattr(request, "auth_time", store.now())),
            expires_at=store.now() + self.server.config.code_ttl,
            grant_id=new_grant_id(),
            nonce=nonce,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )

    def query_authorization_code(
        self, code: str, client: Client
    ) -> AuthorizationCode | None:
        """Return a live code of this client."""
        return self.server.store.get_code(code, client.client_id)

    def delete_authorization_code(self, authorization_code: AuthorizationCode) -> None:
        """Codes are single use."""
        self.server.store.codes.pop(authorization_code.code, None)

    def authenticate_user(self, authorization_code: AuthorizationCode) -> User:
        """The user who approved the code."""
        return authorization_code.user


class RefreshGrant(grants.RefreshTokenGrant):
    """Refresh with rotation: every use returns a new refresh token, the old one dies."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        """Return the token when its refresh token is still usable.

        Reusing an already rotated refresh token revokes the whole grant (OAuth 2.0 Security
        BCP, RFC 9700 4.14.2), unless reuse detection is off.
        """
        store: Store = self.server.store
        token = store.by_refresh.get(refresh_token)
        if token is None:
            return None
        if token.rotated and self.server.config.reuse_detection:
            _LOGGER.warning(
                "Refresh token reuse for grant %s: revoking the grant", token.grant_id
            )
            store.revoke_grant(token.grant_id)
            store.events.record(
                "reuse", token.grant_id, refresh=fingerprint(refresh_token)
            )
            return None
        return token if token.is_refresh_usable() else None

    def authenticate_user(self, refresh_token: Token) -> User | None:
        """The user of the original grant."""
        return refresh_token.user

    def revoke_old_credential(self, refresh_token: Token) -> None:
        """Rotation: the used refresh token may not be used again."""
        refresh_token.refresh_revoked = True
        refresh_token.rotated = True


class ClientCredentialsGrant(grants.ClientCredentialsGrant):
    """Client credentials for confidential clients."""

    TOKEN_ENDPOINT_AUTH_METHODS: ClassVar[list[str]] = [
        "client_secret_basic",
        "client_secret_post",
    ]


class DeviceEndpoint(rfc8628.DeviceAuthorizationEndpoint):
    """RFC 8628 device authorization endpoint."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def get_verification_uri(self) -> str:
        """Where the user enters the code."""
        return self.server.config.url("/device")

    def save_device_credential(
        self, client_id: str, scope: str | None, data: dict[str, Any]
    ) -> None:
        """Remember the pending authorization."""
        store: Store = self.server.store
        client = store.clients[client_id]
        store.devices[data["device_code"]] = DeviceCredential(
            device_code=data["device_code"],
            user_code=data["user_code"],
            client_id=client_id,
            scope=client.get_allowed_scope(scope),
            expires_at=store.now() + data["expires_in"],
            clock=store.config.clock,
        )


class DeviceCodeGrant(rfc8628.DeviceCodeGrant):
    """Token endpoint side of the device flow."""

    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def query_device_credential(self, device_code: str) -> DeviceCredential | None:
        """Return the pending authorization."""
        return self.server.store.devices.get(device_code)

    def query_user_grant(self, user_code: str) -> tuple[User, bool] | None:
        """Return the user's decision, if made."""
        return self.server.store.device_decisions.get(user_code)

    def should_slow_down(self, credential: DeviceCredential) -> bool:
        """Polling faster than the advertised interval earns slow_down."""
        now = self.server.store.now()
        last, credential.last_poll = credential.last_poll, now
        return last is not None and now - last < self.server.config.device_interval

    def create_token_response(self) -> Any:
        """Issue the token once; the device code is then spent."""
        result = super().create_token_response()
        credential: DeviceCredential = self.request.credential
        self.server.store.devices.pop(credential.device_code, None)
        self.server.store.device_decisions.pop(credential.user_code, None)
        return result


class RevocationEndpoint(rfc7009.RevocationEndpoint):
    """RFC 7009: revoking a refresh token revokes its whole grant."""

    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(
        self, token_string: str, token_type_hint: str | None
    ) -> Token | None:
        """Find an access or refresh token."""
        store: Store = self.server.store
        if token_type_hint == "refresh_token":
            return store.by_refresh.get(token_string) or store.by_access.get(
                token_string
            )
        return store.by_access.get(token_string) or store.by_refresh.get(token_string)

    def revoke_token(self, token: Token, request: OAuth2Request) -> None:
        """Revoke an access token alone, or a refresh token with its grant."""
        if request.form.get("token") == token.refresh_token:
            self.server.store.revoke_grant(token.grant_id)
        else:
            token.access_revoked = True
