"""Bearer token checks for the userinfo endpoint and the demo API."""

from __future__ import annotations

from dataclasses import dataclass
import json
import logging
from typing import Any, Protocol

import aiohttp
from aiohttp import web
from authlib.oauth2 import OAuth2Error, ResourceProtector
from authlib.oauth2.rfc6750 import BearerTokenValidator, InvalidTokenError

from .models import Token
from .store import Store

_LOGGER = logging.getLogger(__name__)
REALM = "oauth2-rest-demo"


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a valid bearer token speaks for."""

    sub: str
    client_id: str | None
    scope: str | None
    token: Token | None = None


class TokenCheck(Protocol):
    """Validates the bearer token of a request."""

    async def check(self, request: web.Request, scopes: list[str]) -> Principal:
        """Return the principal or raise an authlib OAuth2Error."""


def error_response(error: OAuth2Error) -> web.Response:
    """Render an RFC 6750 error (with WWW-Authenticate)."""
    status, body, headers = error()
    response = web.Response(status=status, text=json.dumps(dict(body)))
    for key, value in headers:
        response.headers[key] = value
    response.headers.setdefault("WWW-Authenticate", f'Bearer realm="{REALM}"')
    return response


class _StoreValidator(BearerTokenValidator):
    def __init__(self, store: Store) -> None:
        super().__init__(realm=REALM)
        self._store = store

    def authenticate_token(self, token_string: str) -> Token | None:
        return self._store.by_access.get(token_string)


class LocalTokenCheck:
    """Tokens issued by this provider, looked up in memory (authlib's ResourceProtector)."""

    def __init__(self, store: Store) -> None:
        """Register a bearer validator over the store."""
        self._protector = ResourceProtector()
        self._protector.register_token_validator(_StoreValidator(store))

    async def check(self, request: web.Request, scopes: list[str]) -> Principal:
        """Validate the token and its scope."""
        token: Token = self._protector.validate_request(scopes, request)
        user = token.get_user()
        sub = user.sub if user else token.client.client_id
        return Principal(
            sub=sub, client_id=token.client.client_id, scope=token.scope, token=token
        )


class UserinfoTokenCheck:
    """Tokens of another issuer, accepted when that issuer's userinfo endpoint accepts them.

    The userinfo answer carries no scope, so scope requirements cannot be checked here.
    """

    def __init__(self, userinfo_url: str) -> None:
        """Remember the remote userinfo endpoint."""
        self._url = userinfo_url
        self._session: aiohttp.ClientSession | None = None

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()

    async def check(self, request: web.Request, scopes: list[str]) -> Principal:
        """Ask the remote userinfo endpoint about the token."""
        auth = request.headers.get("Authorization", "")
        kind, _, token = auth.partition(" ")
        if kind.lower() != "bearer" or not token.strip():
            raise InvalidTokenError(description="Missing bearer token", realm=REALM)
        if self._session is None:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=10)
            )
        try:
            async with self._session.get(
                self._url, headers={"Authorization": f"Bearer {token.strip()}"}
            ) as resp:
                if resp.status in (401, 403):
                    raise InvalidTokenError(
                        description="Rejected by the issuer", realm=REALM
                    )
                resp.raise_for_status()
                info: dict[str, Any] = await resp.json(content_type=None)
        except aiohttp.ClientError as err:
            _LOGGER.warning("userinfo check failed: %s", err)
            raise InvalidTokenError(
                description="Issuer unreachable", realm=REALM
            ) from err
        return Principal(sub=str(info.get("sub", "")), client_id=None, scope=None)
