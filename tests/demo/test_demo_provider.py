"""End-to-end HTTP tests of the demo OAuth2/OpenID provider (demo/)."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from pathlib import Path
import secrets
from typing import Any
from urllib.parse import parse_qs, urlsplit

from aiohttp import ClientError
from authlib.oauth2.rfc8414 import AuthorizationServerMetadata
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import jwt
from joserfc.jwk import KeySet
import pytest

from demo.events import fingerprint

from .conftest import ISSUER, REDIRECT_URI, Provider, ProviderFactory, hidden_field

CLIENT_ID = "home-assistant"
CLIENT_SECRET = "demo-secret"
PUBLIC_CLIENT_ID = "home-assistant-public"
DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def pkce_pair() -> tuple[str, str]:
    """A code verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    """HTTP Basic client authentication header."""
    raw = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


def bearer(token: str) -> dict[str, str]:
    """Bearer authorization header."""
    return {"Authorization": f"Bearer {token}"}


async def authorize(
    provider: Provider,
    *,
    client_id: str = CLIENT_ID,
    challenge: str | None = None,
    scope: str | None = "openid profile email api:read",
    ticked: list[str] | None = None,
    decision: str = "allow",
    nonce: str | None = None,
) -> dict[str, list[str]]:
    """Drive the browser part: authorize -> login form -> consent form -> redirect back.

    Returns the query parameters of the redirect to the client's redirect URI.
    """
    client = provider.client
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "state": "state-123",
    }
    if scope is not None:
        params["scope"] = scope
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    if nonce is not None:
        params["nonce"] = nonce
    resp = await client.get("/authorize", params=params, allow_redirects=False)
    if "demo_session" not in {c.key for c in client.session.cookie_jar}:
        assert resp.status == 302, await resp.text()
        login_url = resp.headers["Location"]
        assert login_url.startswith("/login?next=")
        page = await (await client.get(login_url)).text()
        next_url = hidden_field(page, "next")
        assert next_url.startswith("/authorize?")
        bad = await client.post(
            "/login", data={"username": "demo", "password": "nope", "next": next_url}
        )
        assert bad.status == 401
        resp = await client.post(
            "/login",
            data={"username": "demo", "password": "demo", "next": next_url},
            allow_redirects=False,
        )
        assert resp.status == 302
        assert resp.headers["Location"] == next_url
        consent_url = next_url
    else:
        consent_url = str(resp.url.relative())
    consent = await client.get(consent_url)
    assert consent.status == 200
    page = await consent.text()
    assert "Authorize access" in page
    csrf = hidden_field(page, "csrf")
    requested = (scope or "").split() or page.split("name=grant_scope value='")[1:]
    form: list[tuple[str, str]] = [("csrf", csrf), ("decision", decision)]
    form += [("grant_scope", s) for s in (ticked if ticked is not None else requested)]
    resp = await client.post(consent_url, data=form, allow_redirects=False)
    assert resp.status == 302, await resp.text()
    location = urlsplit(resp.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return parse_qs(location.query)


async def token_request(
    provider: Provider, data: dict[str, str], headers: dict[str, str] | None = None
) -> tuple[int, dict[str, Any]]:
    """POST to the token endpoint."""
    resp = await provider.client.post("/token", data=data, headers=headers)
    return resp.status, await resp.json()


async def code_tokens(provider: Provider, **kwargs: Any) -> dict[str, Any]:
    """A full code + PKCE flow for the confidential client; returns the token response."""
    verifier, challenge = pkce_pair()
    query = await authorize(provider, challenge=challenge, **kwargs)
    status, body = await token_request(
        provider,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        basic(),
    )
    assert status == 200, body
    return body


async def test_discovery_documents(provider: Provider) -> None:
    """Both discovery documents are served, valid and consistent."""
    oauth = await (
        await provider.client.get("/.well-known/oauth-authorization-server")
    ).json()
    oidc = await (await provider.client.get("/.well-known/openid-configuration")).json()
    assert oauth == oidc
    AuthorizationServerMetadata(oauth).validate()
    OpenIDProviderMetadata(oidc).validate()
    assert oidc["issuer"] == ISSUER
    assert oidc["token_endpoint"] == f"{ISSUER}/token"
    assert oidc["code_challenge_methods_supported"] == ["S256"]
    assert DEVICE_GRANT in oidc["grant_types_supported"]
    assert {"client_secret_basic", "client_secret_post", "none"} <= set(
        oidc["token_endpoint_auth_methods_supported"]
    )
    jwks = await (await provider.client.get("/jwks.json")).json()
    assert jwks["keys"][0]["kty"] == "RSA"
    assert "d" not in jwks["keys"][0]


async def test_discovery_with_issuer_path(make_provider: ProviderFactory) -> None:
    """An issuer with a path: RFC 8414 inserts the well-known segment, OIDC appends it."""
    provider = await make_provider(issuer="http://127.0.0.1:8765/realms/demo")
    for path in (
        "/.well-known/oauth-authorization-server/realms/demo",
        "/realms/demo/.well-known/openid-configuration",
    ):
        doc = await (await provider.client.get(path)).json()
        assert doc["issuer"] == "http://127.0.0.1:8765/realms/demo"
        assert (
            doc["authorization_endpoint"]
            == "http://127.0.0.1:8765/realms/demo/authorize"
        )
    assert (
        await provider.client.get("/.well-known/openid-configuration")
    ).status == 404
    assert (await provider.client.post("/realms/demo/token")).status == 400


async def test_code_flow_with_pkce(provider: Provider) -> None:
    """Login, consent, code exchange; id_token verifies against the JWKS; API and userinfo work."""
    body = await code_tokens(provider, nonce="n-0S6_WzA2Mj")
    assert body["token_type"].lower() == "bearer"
    assert body["expires_in"] == 60
    assert body["refresh_token"]
    assert set(body["scope"].split()) == {"openid", "profile", "email", "api:read"}

    jwks = KeySet.import_key_set(await (await provider.client.get("/jwks.json")).json())
    claims = jwt.decode(body["id_token"], jwks).claims
    assert claims["iss"] == ISSUER
    assert claims["aud"] == [CLIENT_ID]
    assert claims["sub"] == "user-demo"
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["email"] == "demo@example.test"

    info = await provider.client.get("/userinfo", headers=bearer(body["access_token"]))
    assert info.status == 200
    assert (await info.json())["preferred_username"] == "demo"

    resp = await provider.client.get(
        "/api/weather", headers=bearer(body["access_token"])
    )
    assert resp.status == 200
    assert isinstance((await resp.json())["temperature"], float)


async def test_code_flow_rejects_wrong_verifier_and_reuse(provider: Provider) -> None:
    """A wrong PKCE verifier fails; a code works once only; redirect_uri must match."""
    verifier, challenge = pkce_pair()
    query = await authorize(provider, challenge=challenge)
    assert query["state"] == ["state-123"]
    code = query["code"][0]
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
    }

    status, body = await token_request(
        provider, data | {"code_verifier": pkce_pair()[0]}, basic()
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await token_request(provider, data, basic())
    assert (status, body["error"]) == (400, "invalid_request")  # verifier missing
    status, body = await token_request(
        provider,
        data | {"code_verifier": verifier, "redirect_uri": "http://localhost:9/other"},
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")

    status, body = await token_request(
        provider, data | {"code_verifier": verifier}, basic()
    )
    assert status == 200, body
    status, body = await token_request(
        provider, data | {"code_verifier": verifier}, basic()
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_code_expires(provider: Provider) -> None:
    """Authorization codes are short-lived."""
    verifier, challenge = pkce_pair()
    query = await authorize(provider, challenge=challenge)
    provider.clock.advance(provider.config.code_ttl + 1)
    status, body = await token_request(
        provider,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")


async def test_public_client_needs_pkce_and_post_auth_works(provider: Provider) -> None:
    """The public client must use PKCE; the confidential one may use client_secret_post."""
    query = await authorize(provider, client_id=PUBLIC_CLIENT_ID)
    status, body = await token_request(
        provider,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": PUBLIC_CLIENT_ID,
        },
    )
    assert (status, body["error"]) == (400, "invalid_request")

    verifier, challenge = pkce_pair()
    query = await authorize(provider, client_id=PUBLIC_CLIENT_ID, challenge=challenge)
    status, body = await token_request(
        provider,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": PUBLIC_CLIENT_ID,
            "code_verifier": verifier,
        },
    )
    assert status == 200, body

    # The confidential client without PKCE, its secret in the body.
    query = await authorize(provider)
    status, body = await token_request(
        provider,
        {
            "grant_type": "authorization_code",
            "code": query["code"][0],
            "redirect_uri": REDIRECT_URI,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
        },
    )
    assert status == 200, body
    status, body = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": body["refresh_token"]},
        basic(secret="wrong"),
    )
    assert (status, body["error"]) == (401, "invalid_client")


async def test_consent_denied_and_bad_redirect(provider: Provider) -> None:
    """Deny redirects with access_denied; a foreign redirect URI is never redirected to."""
    query = await authorize(provider, decision="deny")
    assert query["error"] == ["access_denied"]
    assert "code" not in query

    resp = await provider.client.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": "https://evil.example/cb",
        },
        allow_redirects=False,
    )
    assert resp.status == 400
    assert "Location" not in resp.headers


async def test_refresh_rotation_and_reuse_detection(provider: Provider) -> None:
    """Each refresh returns a new refresh token; reusing an old one revokes the grant."""
    first = await code_tokens(provider)
    status, second = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic(),
    )
    assert status == 200, second
    assert second["refresh_token"] != first["refresh_token"]
    assert second["access_token"] != first["access_token"]
    assert set(second["scope"].split()) == set(first["scope"].split())
    api = await provider.client.get(
        "/api/status", headers=bearer(second["access_token"])
    )
    assert api.status == 200

    status, third = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        basic(),
    )
    assert status == 200, third

    # The rotated-out token is dead, and presenting it kills the whole grant.
    status, body = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    status, body = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": third["refresh_token"]},
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    api = await provider.client.get(
        "/api/status", headers=bearer(third["access_token"])
    )
    assert api.status == 401


async def test_refresh_without_reuse_detection(make_provider: ProviderFactory) -> None:
    """With reuse detection off, a reused refresh token fails but the grant survives."""
    provider = await make_provider(reuse_detection=False)
    first = await code_tokens(provider)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    status, second = await token_request(provider, refresh, basic())
    assert status == 200
    status, body = await token_request(provider, refresh, basic())
    assert (status, body["error"]) == (400, "invalid_grant")
    status, _ = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        basic(),
    )
    assert status == 200


async def test_access_token_expiry(provider: Provider) -> None:
    """An access token stops working after its TTL; refreshing gets a working one."""
    tokens = await code_tokens(provider)
    provider.clock.advance(61)
    resp = await provider.client.get(
        "/api/counter", headers=bearer(tokens["access_token"])
    )
    assert resp.status == 401
    assert "invalid_token" in resp.headers["WWW-Authenticate"]
    status, fresh = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(),
    )
    assert status == 200
    resp = await provider.client.get(
        "/api/counter", headers=bearer(fresh["access_token"])
    )
    assert resp.status == 200


async def test_revocation(provider: Provider) -> None:
    """RFC 7009: revoking the access token kills it; revoking the refresh token kills the grant."""
    tokens = await code_tokens(provider)
    resp = await provider.client.post(
        "/revoke", data={"token": tokens["access_token"]}, headers=basic()
    )
    assert resp.status == 200
    api = await provider.client.get(
        "/api/weather", headers=bearer(tokens["access_token"])
    )
    assert api.status == 401

    resp = await provider.client.post(
        "/revoke",
        data={"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
        headers=basic(),
    )
    assert resp.status == 200
    status, body = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")

    resp = await provider.client.post(
        "/revoke", data={"token": "unknown"}, headers=basic()
    )
    assert resp.status == 200  # RFC 7009 2.2: unknown tokens are not an error
    resp = await provider.client.post(
        "/revoke", data={"token": "x"}, headers=basic(secret="no")
    )
    assert resp.status == 401


async def test_admin_revoke_all(provider: Provider) -> None:
    """POST /demo/revoke-all ends every grant and session of the user."""
    tokens = await code_tokens(provider)
    grants = await (await provider.client.get("/demo/grants")).json()
    assert [g["user"] for g in grants["grants"]] == ["demo"]
    resp = await provider.client.post("/demo/revoke-all", json={"username": "demo"})
    assert await resp.json() == {"revoked_grants": 1, "username": "demo"}
    status, body = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(),
    )
    assert (status, body["error"]) == (400, "invalid_grant")
    api = await provider.client.get(
        "/api/weather", headers=bearer(tokens["access_token"])
    )
    assert api.status == 401
    assert (await (await provider.client.get("/demo/grants")).json())["grants"] == []
    # The browser session is gone too: authorizing asks for the password again.
    resp = await provider.client.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
        },
        allow_redirects=False,
    )
    assert resp.headers["Location"].startswith("/login")


async def test_admin_expire_tokens(provider: Provider) -> None:
    """POST /demo/expire-tokens forces a refresh without waiting."""
    tokens = await code_tokens(provider)
    resp = await provider.client.post("/demo/expire-tokens")
    assert (await resp.json())["expired"] == 1
    api = await provider.client.get(
        "/api/weather", headers=bearer(tokens["access_token"])
    )
    assert api.status == 401
    status, _ = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(),
    )
    assert status == 200


async def test_device_flow(provider: Provider) -> None:
    """RFC 8628: device code, pending/slow_down polling, approval on the user-code page."""
    client = provider.client
    resp = await client.post(
        "/device_authorization",
        data={"client_id": PUBLIC_CLIENT_ID, "scope": "api:read"},
    )
    assert resp.status == 200
    grant = await resp.json()
    assert grant["verification_uri"] == f"{ISSUER}/device"
    assert grant["interval"] == 5
    poll = {
        "grant_type": DEVICE_GRANT,
        "device_code": grant["device_code"],
        "client_id": PUBLIC_CLIENT_ID,
    }

    status, body = await token_request(provider, poll)
    assert (status, body["error"]) == (400, "authorization_pending")
    status, body = await token_request(provider, poll)
    assert (status, body["error"]) == (400, "slow_down")

    # The user opens the verification page, logs in, enters the code (any case) and allows.
    resp = await client.get("/device", allow_redirects=False)
    assert resp.headers["Location"].startswith("/login?next=")
    login = await client.post(
        "/login", data={"username": "demo", "password": "demo", "next": "/device"}
    )
    page = await login.text()
    assert "Connect a device" in page
    csrf = hidden_field(page, "csrf")
    resp = await client.post("/device", data={"csrf": csrf, "user_code": "NOPE-NOPE"})
    assert resp.status == 400
    resp = await client.post(
        "/device", data={"csrf": csrf, "user_code": grant["user_code"].lower()}
    )
    assert "Authorize access" in await resp.text()
    resp = await client.post(
        "/device",
        data=[
            ("csrf", csrf),
            ("user_code", grant["user_code"]),
            ("decision", "allow"),
            ("grant_scope", "api:read"),
        ],
    )
    assert "Device connected" in await resp.text()

    provider.clock.advance(5)
    status, body = await token_request(provider, poll)
    assert status == 200, body
    assert body["scope"] == "api:read"
    assert body["refresh_token"]
    api = await client.get("/api/weather", headers=bearer(body["access_token"]))
    assert api.status == 200

    status, body = await token_request(provider, poll)  # the device code is spent
    assert (status, body["error"]) == (400, "invalid_request")


async def test_device_flow_denied(provider: Provider) -> None:
    """A denied device authorization answers access_denied."""
    grant = await (
        await provider.client.post(
            "/device_authorization", data={"client_id": CLIENT_ID}, headers=basic()
        )
    ).json()
    await provider.client.post(
        "/login", data={"username": "demo", "password": "demo", "next": "/"}
    )
    page = await (
        await provider.client.get("/device", params={"user_code": grant["user_code"]})
    ).text()
    await provider.client.post(
        "/device",
        data={
            "csrf": hidden_field(page, "csrf"),
            "user_code": grant["user_code"],
            "decision": "deny",
        },
    )
    status, body = await token_request(
        provider,
        {"grant_type": DEVICE_GRANT, "device_code": grant["device_code"]},
        basic(),
    )
    assert (status, body["error"]) == (400, "access_denied")


async def test_client_credentials(provider: Provider) -> None:
    """Client credentials: secret required, no refresh token, scope enforced by the API."""
    status, body = await token_request(
        provider, {"grant_type": "client_credentials", "scope": "api:read"}, basic()
    )
    assert status == 200, body
    assert "refresh_token" not in body
    assert body["scope"] == "api:read"
    me = await (
        await provider.client.get("/api/me", headers=bearer(body["access_token"]))
    ).json()
    assert me == {"sub": CLIENT_ID, "client_id": CLIENT_ID, "scope": "api:read"}
    resp = await provider.client.post(
        "/api/counter", headers=bearer(body["access_token"])
    )
    assert resp.status == 403
    assert (await resp.json())["error"] == "insufficient_scope"

    status, body = await token_request(
        provider, {"grant_type": "client_credentials"}, basic(secret="wrong")
    )
    assert (status, body["error"]) == (401, "invalid_client")
    status, body = await token_request(
        provider, {"grant_type": "client_credentials", "client_id": PUBLIC_CLIENT_ID}
    )
    assert status in (400, 401)
    assert body["error"] in ("invalid_client", "unauthorized_client")
    status, body = await token_request(
        provider, {"grant_type": "client_credentials", "scope": "admin"}, basic()
    )
    assert (status, body["error"]) == (400, "invalid_scope")


async def test_api_auth_errors_and_scope(provider: Provider) -> None:
    """401 without or with a bad token, 403 when consent left out api:read."""
    resp = await provider.client.get("/api/weather")
    assert resp.status == 401
    assert resp.headers["WWW-Authenticate"].lower().startswith("bearer")
    resp = await provider.client.get("/api/weather", headers=bearer("not-a-token"))
    assert resp.status == 401

    tokens = await code_tokens(provider, ticked=["openid", "profile"])
    assert set(tokens["scope"].split()) == {"openid", "profile"}
    resp = await provider.client.get(
        "/api/weather", headers=bearer(tokens["access_token"])
    )
    assert resp.status == 403
    assert "insufficient_scope" in (await resp.text())


async def test_api_etag_values_and_rate_limit(make_provider: ProviderFactory) -> None:
    """ETag + If-None-Match 304, values change with time, the counter counts, 429 at the limit."""
    provider = await make_provider(rate_limit=8, token_ttl=3600)
    status, body = await token_request(
        provider,
        {"grant_type": "client_credentials", "scope": "api:read api:write"},
        basic(),
    )
    assert status == 200
    auth = bearer(body["access_token"])
    client = provider.client

    first = await client.get("/api/weather", headers=auth)
    etag = first.headers["ETag"]
    assert first.headers["X-RateLimit-Remaining"] == "7"
    same = await client.get("/api/weather", headers=auth | {"If-None-Match": etag})
    assert same.status == 304
    assert same.headers["ETag"] == etag
    assert same.headers["X-RateLimit-Remaining"] == "6"

    provider.clock.advance(provider.config.api_interval * 7)
    changed = await client.get("/api/weather", headers=auth | {"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    assert await changed.json() != await first.json()

    counter = await (await client.get("/api/counter", headers=auth)).json()
    assert counter == {"value": 7}
    bumped = await client.post("/api/counter", json={"amount": 5}, headers=auth)
    assert await bumped.json() == {"value": 12}
    status_doc = await (await client.get("/api/status", headers=auth)).json()
    assert isinstance(status_doc["online"], bool)

    resp = await client.post("/demo/status", data={"online": "false"})
    assert await resp.json() == {"online": False}
    resp = await client.get("/api/status", headers=auth)
    assert (await resp.json())["online"] is False

    remaining = int(resp.headers["X-RateLimit-Remaining"])
    assert 0 < remaining < 8
    for _ in range(remaining):
        assert (await client.get("/api/status", headers=auth)).status == 200
    resp = await client.get("/api/status", headers=auth)
    assert resp.status == 429
    assert int(resp.headers["Retry-After"]) > 0
    provider.clock.advance(60)
    assert (await client.get("/api/status", headers=auth)).status == 200


@pytest.mark.parametrize("with_openid", [True, False])
async def test_api_only_mode_validates_with_userinfo(
    make_provider: ProviderFactory, with_openid: bool
) -> None:
    """--api-only: tokens are valid when the other issuer's userinfo endpoint accepts them."""
    issuer = await make_provider()
    api = await make_provider(
        api_only=True, validate_with_userinfo=issuer.url("/userinfo")
    )
    assert (await api.client.get("/.well-known/openid-configuration")).status == 404
    assert (await api.client.post("/token")).status in (404, 405)

    scope = "openid api:read" if with_openid else "api:read"
    tokens = await code_tokens(issuer, scope=scope)
    resp = await api.client.get("/api/weather", headers=bearer(tokens["access_token"]))
    if with_openid:
        assert resp.status == 200
        me = await (
            await api.client.get("/api/me", headers=bearer(tokens["access_token"]))
        ).json()
        assert me["sub"] == "user-demo"
    else:  # the issuer's userinfo refuses tokens without openid
        assert resp.status == 401

    assert (await api.client.get("/api/weather", headers=bearer("bogus"))).status == 401
    assert (await api.client.get("/api/weather")).status == 401
    await issuer.client.post("/demo/revoke-all")
    resp = await api.client.get("/api/weather", headers=bearer(tokens["access_token"]))
    assert resp.status == 401


async def test_plain_pkce_refused(provider: Provider) -> None:
    """Only S256 is accepted: a 'plain' challenge is sent back as invalid_request."""
    resp = await provider.client.get(
        "/authorize",
        params={
            "response_type": "code",
            "client_id": PUBLIC_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "state": "s",
            "code_challenge": "a" * 43,
            "code_challenge_method": "plain",
        },
        allow_redirects=False,
    )
    assert resp.status == 302
    query = parse_qs(urlsplit(resp.headers["Location"]).query)
    assert query["error"] == ["invalid_request"]
    assert query["state"] == ["s"]


async def test_events_report_rotation_reuse_and_api_calls(provider: Provider) -> None:
    """The crash suite learns of each rotation (long poll) without seeing tokens."""
    first = await code_tokens(provider)
    resp = await provider.client.get("/demo/events", params={"after": 0})
    start = (await resp.json())["seq"]

    waiter = asyncio.create_task(
        provider.client.get("/demo/events", params={"after": start, "wait": 5})
    )
    await asyncio.sleep(0.05)
    status, second = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic(),
    )
    assert status == 200
    (rotation,) = (await (await waiter).json())["events"]
    assert rotation["kind"] == "rotation"
    assert rotation["refresh"] == fingerprint(second["refresh_token"])
    assert second["refresh_token"] not in json.dumps(rotation)

    await provider.client.get("/api/status", headers=bearer(second["access_token"]))
    await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        basic(),
    )
    resp = await provider.client.get("/demo/events", params={"after": rotation["seq"]})
    kinds = [(e["kind"], e["grant_id"]) for e in (await resp.json())["events"]]
    assert kinds == [("api", rotation["grant_id"]), ("reuse", rotation["grant_id"])]


async def test_token_faults_answer_in_order(provider: Provider) -> None:
    """Queued faults answer the next token requests; then the real endpoint again."""
    first = await code_tokens(provider)
    resp = await provider.client.post(
        "/demo/faults",
        json={
            "token": [
                {"status": 503, "body": '{"error": "temporarily_unavailable"}'},
                {"body": "<html>", "content_type": "text/html", "delay": 0.01},
                {"drop": True},
            ]
        },
    )
    assert (await resp.json()) == {"queued": {"token": 3, "api": 0}}
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    resp = await provider.client.post("/token", data=refresh, headers=basic())
    assert resp.status == 503
    resp = await provider.client.post("/token", data=refresh, headers=basic())
    assert (resp.status, await resp.text()) == (200, "<html>")
    with pytest.raises(ClientError):
        await provider.client.post("/token", data=refresh, headers=basic())
    status, body = await token_request(provider, refresh, basic())
    assert status == 200, body


async def test_token_fault_events_name_the_grant(provider: Provider) -> None:
    """A fault answering a refresh is recorded with the refresh token's grant."""
    first = await code_tokens(provider)
    await provider.client.post(
        "/demo/faults", json={"token": [{"status": 500}, {"status": 502}]}
    )
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    resp = await provider.client.post("/token", data=refresh, headers=basic())
    assert resp.status == 500
    resp = await provider.client.post(
        "/token", data={"grant_type": "client_credentials"}, headers=basic()
    )
    assert resp.status == 502
    status, _ = await token_request(provider, refresh, basic())
    assert status == 200
    events = (await (await provider.client.get("/demo/events")).json())["events"]
    rotation = next(e for e in events if e["kind"] == "rotation")
    faults = [(e["grant_id"], e["status"]) for e in events if e["kind"] == "fault"]
    assert faults == [(rotation["grant_id"], 500), ("", 502)]
    assert first["refresh_token"] not in json.dumps(events)


async def test_api_fault_events_name_the_grant(provider: Provider) -> None:
    """A fault answering an API call is recorded with the caller's grant, if any.

    The soak tells the refreshes an injected 401 forced by it (was always "").
    """
    tokens = await code_tokens(provider)
    await provider.client.post(
        "/demo/faults", json={"api": [{"status": 401}, {"status": 503}]}
    )
    resp = await provider.client.get(
        "/api/weather", headers=bearer(tokens["access_token"])
    )
    assert resp.status == 401
    resp = await provider.client.get("/api/weather", headers=bearer("not-a-token"))
    assert resp.status == 503
    status, _ = await token_request(
        provider,
        {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]},
        basic(),
    )
    assert status == 200
    events = (await (await provider.client.get("/demo/events")).json())["events"]
    rotation = next(e for e in events if e["kind"] == "rotation")
    faults = [(e["grant_id"], e["status"]) for e in events if e["kind"] == "fault"]
    assert faults == [(rotation["grant_id"], 401), ("", 503)]


async def test_api_events_carry_path_and_query(provider: Provider) -> None:
    """Polls of one resource by different endpoints are told apart by their query."""
    tokens = await code_tokens(provider)
    resp = await provider.client.get(
        "/api/weather?soak=a1e7", headers=bearer(tokens["access_token"])
    )
    assert resp.status == 200
    events = (await (await provider.client.get("/demo/events")).json())["events"]
    (api,) = [e for e in events if e["kind"] == "api"]
    assert (api["path"], api["query"]) == ("/api/weather", "soak=a1e7")
    assert "method" not in api  # only writes carry method and body


async def test_state_file_keeps_grants_across_a_restart(
    make_provider: ProviderFactory, tmp_path: Path
) -> None:
    """With a state file, a restarted provider knows every token, rotated ones too."""
    path = tmp_path / "demo-state.json"
    provider = await make_provider(state_file=str(path))
    first = await code_tokens(provider)
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    status, second = await token_request(provider, refresh, basic())
    assert status == 200
    seq = (await (await provider.client.get("/demo/events")).json())["seq"]
    assert not path.exists()  # written when the provider stops
    await provider.client.close()
    assert path.exists()

    again = await make_provider(state_file=str(path))
    resp = await again.client.get("/api/status", headers=bearer(second["access_token"]))
    assert resp.status == 200
    status, third = await token_request(
        again,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        basic(),
    )
    assert status == 200, third
    # The refresh token rotated out before the restart is still known as rotated.
    status, body = await token_request(again, refresh, basic())
    assert (status, body["error"]) == (400, "invalid_grant")
    events = (await (await again.client.get("/demo/events")).json())["events"]
    assert [e["kind"] for e in events] == ["api", "rotation", "reuse"]
    assert events[0]["seq"] == seq + 1
    resp = await again.client.get("/api/status", headers=bearer(third["access_token"]))
    assert resp.status == 401


async def test_state_file_of_another_kind_is_refused(
    make_provider: ProviderFactory, tmp_path: Path
) -> None:
    """A file the provider did not write is not taken for its state."""
    path = tmp_path / "state.json"
    path.write_text(json.dumps({"version": 99}))
    with pytest.raises(ValueError, match="not a demo provider state file"):
        await make_provider(state_file=str(path))


def test_state_file_skips_tokens_of_unknown_clients(tmp_path: Path) -> None:
    """Tokens of a client or user the provider does not know are left out."""
    from demo.config import DemoConfig
    from demo.state import load
    from demo.store import Store

    record = {
        "access_token": "a",
        "client_id": "home-assistant",
        "scope": "api:read",
        "user": "demo",
        "issued_at": 0,
        "expires_in": 60,
        "grant_id": "g",
        "refresh_token": None,
        "refresh_expires_at": None,
        "access_revoked": False,
        "refresh_revoked": False,
        "rotated": False,
    }
    path = tmp_path / "state.json"
    path.write_text(
        json.dumps(
            {
                "version": 1,
                "events_seq": 7,
                "tokens": [
                    record,
                    record | {"access_token": "b", "client_id": "gone"},
                    record | {"access_token": "c", "user": "nobody"},
                    record | {"access_token": "d", "user": None},
                ],
            }
        )
    )
    store = Store(DemoConfig())
    assert load(store, path) == 2
    assert set(store.by_access) == {"a", "d"}
    assert store.events.seq == 7


def test_state_file_option() -> None:
    """``--state-file`` reaches the configuration."""
    from demo.server import parse_args

    assert parse_args(["--state-file", "state.json"]).state_file == "state.json"
    assert parse_args([]).state_file is None


async def test_pass_faults_answer_late_but_right(provider: Provider) -> None:
    """A ``pass`` fault only delays: then the real endpoint answers."""
    first = await code_tokens(provider)
    await provider.client.post(
        "/demo/faults", json={"token": [{"delay": 0.05, "pass": True}]}
    )
    refresh = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}
    loop = asyncio.get_running_loop()
    started = loop.time()
    status, second = await token_request(provider, refresh, basic())
    assert status == 200, second
    assert loop.time() - started >= 0.05
    await provider.client.post(
        "/demo/faults", json={"api": [{"delay": 0.01, "pass": True}]}
    )
    resp = await provider.client.get(
        "/api/weather", headers=bearer(second["access_token"])
    )
    assert resp.status == 200
    assert "temperature" in await resp.json()
    events = (await (await provider.client.get("/demo/events")).json())["events"]
    assert [e["kind"] for e in events] == ["fault", "rotation", "fault", "api"]


async def test_faults_append_or_replace(provider: Provider) -> None:
    """``append`` adds to the queues; without it a post replaces both."""
    post = provider.client.post
    resp = await post("/demo/faults", json={"token": [{"status": 500}]})
    assert (await resp.json())["queued"] == {"token": 1, "api": 0}
    resp = await post("/demo/faults", json={"api": [{"status": 503}], "append": True})
    assert (await resp.json())["queued"] == {"token": 1, "api": 1}
    resp = await post("/demo/faults", json={"token": [{"status": 502}], "append": True})
    assert (await resp.json())["queued"] == {"token": 2, "api": 1}
    resp = await post("/demo/faults", json={})
    assert (await resp.json())["queued"] == {"token": 0, "api": 0}
