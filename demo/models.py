"""In-memory records implementing authlib's model mixins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import hmac
from typing import Any
from urllib.parse import urlsplit

from authlib.oauth2.rfc6749 import ClientMixin, TokenMixin, scope_to_list
from authlib.oauth2.rfc8628 import DeviceCredentialMixin
from authlib.oidc.core import AuthorizationCodeMixin, UserInfo

from .config import SCOPES

CONFIDENTIAL_METHODS = ("client_secret_basic", "client_secret_post")


@dataclass(slots=True)
class User:
    """A resource owner who can log in on the demo pages."""

    username: str
    password: str
    name: str
    email: str

    @property
    def sub(self) -> str:
        """The stable subject identifier."""
        return f"user-{self.username}"

    def userinfo(self, scope: str | None) -> UserInfo:
        """Claims released for the given scope."""
        scopes = set(scope_to_list(scope) or [])
        info = UserInfo(sub=self.sub)
        if "profile" in scopes:
            info["name"] = self.name
            info["preferred_username"] = self.username
        if "email" in scopes:
            info["email"] = self.email
            info["email_verified"] = True
        return info


@dataclass(slots=True)
class Client(ClientMixin):
    """A pre-registered OAuth client (confidential when it has a secret)."""

    client_id: str
    client_secret: str | None
    name: str
    grant_types: tuple[str, ...]
    default_scope: str
    redirect_hosts: tuple[str, ...]
    client_metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (and must use PKCE)."""
        return self.client_secret is None

    def get_client_id(self) -> str:
        """Return the client id."""
        return self.client_id

    def get_default_redirect_uri(self) -> str | None:
        """No default: every request names its redirect URI."""
        return None

    def get_allowed_scope(self, scope: str | None) -> str:
        """Known scopes out of the requested ones; the default scope when none is asked."""
        if not scope:
            return self.default_scope
        return " ".join(s for s in scope_to_list(scope) if s in SCOPES)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        """Accept any http(s) URI on an allowed host (loopback by default)."""
        try:
            parts = urlsplit(redirect_uri)
        except ValueError:
            return False
        return (
            parts.scheme in ("http", "https")
            and parts.hostname is not None
            and parts.hostname in self.redirect_hosts
            and not parts.fragment
        )

    def check_client_secret(self, client_secret: str) -> bool:
        """Compare the secret in constant time."""
        if self.client_secret is None:
            return False
        return hmac.compare_digest(self.client_secret, client_secret)

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        """Public clients use 'none', confidential ones basic or post."""
        if self.is_public:
            return method == "none"
        return method in CONFIDENTIAL_METHODS

    def check_response_type(self, response_type: str) -> bool:
        """Only the authorization code flow is offered."""
        return response_type == "code" and "authorization_code" in self.grant_types

    def check_grant_type(self, grant_type: str) -> bool:
        """Whether the client may use this grant type."""
        return grant_type in self.grant_types


@dataclass(slots=True)
class AuthorizationCode(AuthorizationCodeMixin):
    """A one-time authorization code."""

    code: str
    client_id: str
    redirect_uri: str | None
    scope: str
    user: User
    auth_time: int
    expires_at: float
    grant_id: str
    nonce: str | None = None
    code_challenge: str | None = None
    code_challenge_method: str | None = None

    def get_redirect_uri(self) -> str | None:
        """Return the redirect URI of the authorization request."""
        return self.redirect_uri

    def get_scope(self) -> str:
        """Return the granted scope."""
        return self.scope

    def get_nonce(self) -> str | None:
        """Return the OpenID nonce."""
        return self.nonce

    def get_auth_time(self) -> int:
        """Return when the user logged in."""
        return self.auth_time


@dataclass(slots=True, eq=False)
class Token(TokenMixin):
    """An issued access token with its (optional) refresh token."""

    access_token: str
    client: Client
    scope: str
    user: User | None
    issued_at: float
    expires_in: int
    grant_id: str
    clock: Callable[[], float] = field(repr=False)
    refresh_token: str | None = None
    refresh_expires_at: float | None = None
    access_revoked: bool = False
    refresh_revoked: bool = False
    rotated: bool = False

    def check_client(self, client: ClientMixin) -> bool:
        """Whether the token was issued to this client."""
        return self.client.client_id == client.get_client_id()

    def get_scope(self) -> str:
        """Return the token's scope."""
        return self.scope

    def get_expires_in(self) -> int:
        """Return the access token lifetime in seconds."""
        return self.expires_in

    def is_expired(self) -> bool:
        """Whether the access token has expired."""
        return self.clock() >= self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        """Whether the access token was revoked."""
        return self.access_revoked

    def is_refresh_usable(self) -> bool:
        """Whether the refresh token may still be exchanged."""
        if self.refresh_token is None or self.refresh_revoked:
            return False
        return self.refresh_expires_at is None or self.clock() < self.refresh_expires_at

    def get_user(self) -> User | None:
        """Return the resource owner (None for client credentials)."""
        return self.user

    def get_client(self) -> Client:
        """Return the client the token was issued to."""
        return self.client


@dataclass(slots=True)
class DeviceCredential(DeviceCredentialMixin):
    """A pending device authorization (RFC 8628)."""

    device_code: str
    user_code: str
    client_id: str
    scope: str
    expires_at: float
    clock: Callable[[], float] = field(repr=False)
    last_poll: float | None = None

    def get_client_id(self) -> str:
        """Return the client id."""
        return self.client_id

    def get_scope(self) -> str:
        """Return the requested scope."""
        return self.scope

    def get_user_code(self) -> str:
        """Return the user code shown to the user."""
        return self.user_code

    def is_expired(self) -> bool:
        """Whether the device code has expired."""
        return self.clock() >= self.expires_at
