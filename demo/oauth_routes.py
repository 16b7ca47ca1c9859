"""HTTP endpoints of the authorization server (discovery, authorize, token, device, ...)."""

from __future__ import annotations

from html import escape
from http import HTTPStatus
import json
from typing import Any
from urllib.parse import urlencode

from aiohttp import web
from authlib.oauth2 import OAuth2Error

from . import pages
from .authserver import DemoAuthorizationServer, read_oauth2_request
from .config import SCOPES, DemoConfig
from .faults import answer_fault
from .models import User
from .store import DEVICE_CODE_GRANT, Session, Store
from .tokens import LocalTokenCheck, error_response

SESSION_COOKIE = "demo_session"
NO_STORE = {"Cache-Control": "no-store"}


def html(text: str, status: int = 200) -> web.Response:
    """An HTML response that is never cached."""
    return web.Response(
        text=text, status=status, content_type="text/html", headers=NO_STORE
    )


class OAuthViews:
    """Request handlers bound to one server instance."""

    def __init__(
        self, config: DemoConfig, store: Store, server: DemoAuthorizationServer
    ) -> None:
        """Keep the collaborators."""
        self.config = config
        self.store = store
        self.server = server
        self.tokens = LocalTokenCheck(store)

    def routes(self) -> list[web.RouteDef]:
        """Routes under the issuer's path."""
        p = self.config.prefix
        # RFC 8414 inserts the well-known segment before the issuer's path; OIDC appends it.
        well_known = {
            f"/.well-known/oauth-authorization-server{p}",
            f"{p}/.well-known/oauth-authorization-server",
        }
        return [
            *(web.get(path, self.oauth_metadata) for path in sorted(well_known)),
            web.get(f"{p}/.well-known/openid-configuration", self.openid_metadata),
            web.get(f"{p}/jwks.json", self.jwks),
            web.get(f"{p}/authorize", self.authorize),
            web.post(f"{p}/authorize", self.authorize),
            web.get(f"{p}/login", self.login),
            web.post(f"{p}/login", self.login),
            web.post(f"{p}/logout", self.logout),
            web.post(f"{p}/token", self.token),
            web.post(f"{p}/wrapped/token", self.wrapped_token),
            web.post(f"{p}/revoke", self.revoke),
            web.post(f"{p}/device_authorization", self.device_authorization),
            web.get(f"{p}/device", self.device),
            web.post(f"{p}/device", self.device),
            web.get(f"{p}/userinfo", self.userinfo),
            web.post(f"{p}/userinfo", self.userinfo),
        ]

    # -- discovery ---------------------------------------------------------------
    def metadata(self) -> dict[str, Any]:
        """RFC 8414 / OpenID Connect Discovery metadata."""
        url = self.config.url
        return {
            "issuer": self.config.issuer,
            "authorization_endpoint": url("/authorize"),
            "token_endpoint": url("/token"),
            "revocation_endpoint": url("/revoke"),
            "device_authorization_endpoint": url("/device_authorization"),
            "userinfo_endpoint": url("/userinfo"),
            "jwks_uri": url("/jwks.json"),
            "scopes_supported": list(SCOPES),
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": [
                "authorization_code",
                "refresh_token",
                "client_credentials",
                DEVICE_CODE_GRANT,
            ],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "revocation_endpoint_auth_methods_supported": [
                "client_secret_basic",
                "client_secret_post",
                "none",
            ],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": [
                "sub",
                "iss",
                "aud",
                "exp",
                "iat",
                "auth_time",
                "nonce",
                "name",
                "preferred_username",
                "email",
                "email_verified",
            ],
            "service_documentation": url("/"),
        }

    async def oauth_metadata(self, request: web.Request) -> web.Response:
        """RFC 8414 authorization server metadata."""
        return web.json_response(self.metadata())

    async def openid_metadata(self, request: web.Request) -> web.Response:
        """OpenID Connect discovery document."""
        return web.json_response(self.metadata())

    async def jwks(self, request: web.Request) -> web.Response:
        """Public keys that sign id_tokens."""
        return web.json_response(
            {"keys": [self.server.signing_key.as_dict(private=False)]}
        )

    # -- browser session -----------------------------------------------------------
    def session(self, request: web.Request) -> Session | None:
        """The logged-in session of this browser, if any."""
        session_id = request.cookies.get(SESSION_COOKIE)
        return self.store.sessions.get(session_id) if session_id else None

    def login_redirect(self, request: web.Request) -> web.HTTPFound:
        """Send the browser to the login page, coming back here afterwards."""
        query = urlencode({"next": request.path_qs})
        return web.HTTPFound(f"{self.config.prefix}/login?{query}", headers=NO_STORE)

    def safe_next(self, next_url: str | None) -> str:
        """Only local paths under the issuer may be returned to after login."""
        home = f"{self.config.prefix}/"
        if not next_url or not next_url.startswith(home) or next_url.startswith("//"):
            return home
        return next_url

    async def login(self, request: web.Request) -> web.Response:
        """Login form; sets the session cookie on success."""
        action = f"{self.config.prefix}/login"
        if request.method == "GET":
            return html(
                pages.login_page(action, self.safe_next(request.query.get("next")))
            )
        form = await request.post()
        next_url = self.safe_next(str(form.get("next", "")))
        user = self.store.check_login(
            str(form.get("username", "")), str(form.get("password", ""))
        )
        if user is None:
            return html(
                pages.login_page(action, next_url, "Wrong username or password."), 401
            )
        response = web.HTTPFound(next_url, headers=NO_STORE)
        response.set_cookie(
            SESSION_COOKIE,
            self.store.new_session(user),
            httponly=True,
            samesite="Lax",
            path=f"{self.config.prefix}/",
        )
        raise response

    async def logout(self, request: web.Request) -> web.Response:
        """Forget the browser session."""
        session_id = request.cookies.get(SESSION_COOKIE)
        if session_id:
            self.store.sessions.pop(session_id, None)
        response = web.HTTPFound(f"{self.config.prefix}/")
        response.del_cookie(SESSION_COOKIE, path=f"{self.config.prefix}/")
        raise response

    # -- authorization code ------------------------------------------------------------
    async def authorize(self, request: web.Request) -> web.StreamResponse:
        """Validate the request, log the user in, ask for consent, redirect with a code."""
        oauth_request = await read_oauth2_request(request)
        session = self.session(request)
        user: User | None = session.user if session else None
        try:
            grant = self.server.get_consent_grant(oauth_request, end_user=user)
        except OAuth2Error as error:
            if error.redirect_uri:
                return self.server.handle_error_response(oauth_request, error)
            text = f"{error.error}: {error.get_error_description() or ''}"
            return html(
                pages.message_page("Invalid authorization request", text, "error"), 400
            )
        if session is None:
            raise self.login_redirect(request)
        client = grant.client
        if request.method == "GET":
            return html(
                pages.consent_page(
                    action=request.path_qs,
                    client_name=client.name,
                    username=session.user.username,
                    scope=oauth_request.scope or "",
                    csrf=session.csrf,
                )
            )
        if oauth_request.form.get("csrf") != session.csrf:
            return html(
                pages.message_page("Expired form", "Reload and try again.", "error"),
                400,
            )
        allowed = oauth_request.form.get("decision") == "allow"
        requested = (oauth_request.scope or "").split()
        ticked = set(oauth_request.form.getall("grant_scope", []))
        oauth_request.consented_scope = " ".join(s for s in requested if s in ticked)
        oauth_request.auth_time = session.login_time
        return self.server.create_authorization_response(
            oauth_request, grant_user=session.user if allowed else None, grant=grant
        )

    # -- token endpoint and friends -----------------------------------------------------
    async def token(self, request: web.Request) -> web.StreamResponse:
        """Token endpoint for every grant type (or the next queued fault)."""
        if self.store.token_faults:
            fault = self.store.token_faults.pop(0)
            # The grant whose refresh the fault answers, when it is one.
            refresh = (await request.post()).get("refresh_token")
            grant_id = self.store.grant_of_refresh(refresh)
            answer = await answer_fault(
                request, fault, self.store.events, "token", grant_id
            )
            if answer is not None:
                return answer
        return self.server.create_token_response(await read_oauth2_request(request))

    async def wrapped_token(self, request: web.Request) -> web.Response:
        """The token endpoint behind a Withings-like front: always HTTP 200.

        A token comes as ``{"status": 0, "body": {...}}`` with an absolute
        ``expires_at`` instead of ``expires_in``; an error as ``{"status": <the HTTP
        status it would have had>, "error": ..., "error_description": ...}``.
        Not in the metadata: a client finds out by itself (or is told by hand).
        """
        answer = await self.token(request)
        try:
            body = json.loads(answer.text or "{}")
        except ValueError:
            body = {}
        if answer.status == HTTPStatus.OK and "access_token" in body:
            lifetime = body.pop("expires_in", None)
            if lifetime is not None:
                body["expires_at"] = int(self.config.clock()) + int(lifetime)
            wrapped: dict[str, Any] = {"status": 0, "body": body}
        else:
            wrapped = {"status": answer.status, **body}
        return web.json_response(wrapped, headers=NO_STORE)

    async def revoke(self, request: web.Request) -> web.Response:
        """RFC 7009 revocation."""
        return self.server.create_endpoint_response(
            "revocation", await read_oauth2_request(request)
        )

    async def device_authorization(self, request: web.Request) -> web.Response:
        """RFC 8628 device authorization request."""
        return self.server.create_endpoint_response(
            "device_authorization", await read_oauth2_request(request)
        )

    async def device(self, request: web.Request) -> web.StreamResponse:
        """User-code page: enter the code, then allow or deny."""
        session = self.session(request)
        if session is None:
            raise self.login_redirect(request)
        action = f"{self.config.prefix}/device"
        if request.method == "GET":
            user_code = request.query.get("user_code", "")
            form: dict[str, Any] = {}
        else:
            post = await request.post()
            if post.get("csrf") != session.csrf:
                return html(
                    pages.message_page(
                        "Expired form", "Reload and try again.", "error"
                    ),
                    400,
                )
            user_code = str(post.get("user_code", ""))
            form = {
                "decision": post.get("decision"),
                "grant_scope": post.getall("grant_scope", []),
            }
        if not user_code:
            return html(pages.device_entry_page(action, session.csrf))
        credential = self.store.device_by_user_code(user_code)
        if credential is None:
            return html(
                pages.device_entry_page(
                    action, session.csrf, "Unknown or expired code."
                ),
                400,
            )
        client = self.store.clients[credential.client_id]
        decision = form.get("decision")
        if decision is None:
            hidden = f"<input type=hidden name=user_code value='{escape(credential.user_code)}'>"
            return html(
                pages.consent_page(
                    action=action,
                    client_name=client.name,
                    username=session.user.username,
                    scope=credential.scope,
                    csrf=session.csrf,
                    extra=hidden,
                )
            )
        approved = decision == "allow"
        if approved:
            ticked = set(form["grant_scope"])
            credential.scope = " ".join(
                s for s in credential.scope.split() if s in ticked
            )
        self.store.device_decisions[credential.user_code] = (session.user, approved)
        text = "You may return to your device." if approved else "Access was denied."
        return html(
            pages.message_page(
                "Device " + ("connected" if approved else "denied"), text
            )
        )

    async def userinfo(self, request: web.Request) -> web.Response:
        """OpenID Connect userinfo for a token carrying the openid scope."""
        try:
            principal = await self.tokens.check(request, ["openid"])
        except OAuth2Error as error:
            return error_response(error)
        user = principal.token.user if principal.token else None
        if user is None:
            return web.json_response({"error": "invalid_token"}, status=401)
        return web.json_response(dict(user.userinfo(principal.scope)), headers=NO_STORE)
