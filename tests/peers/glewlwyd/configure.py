"""Set up a fresh Glewlwyd over its admin REST API (standard library only).

    python3 tests/peers/glewlwyd/configure.py BASE_URL REDIRECT_URI ACCESS_TTL KEY_PEM [ISSUER_BASE] [--ttl-only]

Scope ``api``; user ``alice``/``wonderland``; clients ``ha-code`` (code + refresh), ``ha-cc``
(client credentials) and ``ha-device`` (device grant), all confidential and allowed both
``client_secret_basic`` and ``client_secret_post``; the OIDC plugin
instance ``oidc`` (issuer ``ISSUER_BASE/api/oidc``, BASE_URL by default; RS256 with the given key, PKCE, one-use refresh tokens, revocation and
introspection, device authorization). ``--ttl-only`` changes the access token lifetime of the
running plugin. Admin: ``admin``/``password`` (the packaged schema's).
"""

from __future__ import annotations

import json
from pathlib import Path
import subprocess
import sys
from typing import Any
import urllib.error
import urllib.request

CLIENTS = {
    "ha-code": (["code", "refresh_token", "delete_token"], "ha-code-secret"),
    "ha-cc": (["client_credentials", "delete_token"], "ha-cc-secret"),
    "ha-device": (
        ["device_authorization", "refresh_token", "delete_token"],
        "ha-device-secret",
    ),
}


# Glewlwyd refuses every token, device authorization and revocation request of a confidential
# client whose ``token_endpoint_auth_method`` is unset (403 ``unauthorized_client``, or 403 with
# an empty body for client credentials), however right the secret: the methods are explicit.
AUTH_METHODS = ["client_secret_basic", "client_secret_post"]


class Admin:
    """An admin session (cookie) on Glewlwyd's API."""

    def __init__(self, base: str) -> None:
        self.base = base.rstrip("/")
        self.cookie = ""
        self.call("POST", "/api/auth/", {"username": "admin", "password": "password"})

    def call(
        self, method: str, path: str, body: Any = None, ok: tuple[int, ...] = (200,)
    ) -> Any:
        data = None if body is None else json.dumps(body).encode()
        # Glewlwyd sets its session cookie with an empty Domain, which cookie jars refuse.
        headers = {"Content-Type": "application/json", "Cookie": self.cookie}
        request = urllib.request.Request(
            self.base + path, data=data, method=method, headers=headers
        )
        try:
            with urllib.request.urlopen(request, timeout=30) as resp:
                text = resp.read().decode()
                status = resp.status
                if cookie := resp.headers.get("Set-Cookie"):
                    self.cookie = cookie.split(";", 1)[0]
        except urllib.error.HTTPError as err:
            status, text = err.code, err.read().decode()
        if status not in ok:
            sys.exit(f"{method} {path}: HTTP {status} {text[:300]}")
        return json.loads(text) if text.strip() else None


def plugin(base: str, ttl: int, key_pem: str) -> dict[str, Any]:
    """The OIDC plugin instance."""
    public = subprocess.run(
        ["openssl", "rsa", "-pubout"],
        input=key_pem,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        "module": "oidc",
        "name": "oidc",
        "display_name": "OpenID Connect",
        "enabled": True,
        "parameters": {
            "iss": f"{base}/api/oidc",
            "jwt-type": "rsa",
            "jwt-key-size": "256",
            "key": key_pem,
            "cert": public,
            "jwks-show": True,
            "access-token-duration": ttl,
            "refresh-token-duration": 1209600,
            "code-duration": 600,
            "refresh-token-rolling": True,
            "refresh-token-one-use": "always",
            "client-refresh-token-one-use-parameter": "refresh-token-one-use",
            "allow-non-oidc": True,
            "auth-type-code-enabled": True,
            "auth-type-code-revoke-replayed": True,
            "auth-type-token-enabled": False,
            "auth-type-id-token-enabled": False,
            "auth-type-none-enabled": False,
            "auth-type-password-enabled": False,
            "auth-type-client-enabled": True,
            "auth-type-device-enabled": True,
            "auth-type-refresh-enabled": True,
            "device-authorization-expiration": 600,
            "device-authorization-interval": 1,
            "scope": [],
            "additional-parameters": [],
            "claims": [],
            # In userinfo always ("on-demand": only when a claims request names them).
            "name-claim": "mandatory",
            "email-claim": "mandatory",
            "scope-claim": "no",
            "address-claim": {"type": "no"},
            "subject-type": "public",
            "pkce-allowed": True,
            "pkce-method-plain-allowed": False,
            "introspection-revocation-allowed": True,
            "introspection-revocation-auth-scope": [],
            "introspection-revocation-allow-target-client": True,
            "register-client-allowed": False,
            "session-management-allowed": False,
            "request-parameter-allow": False,
            "service-documentation": "",
            "op-policy-uri": "",
            "op-tos-uri": "",
            "jwks-x5c": [],
        },
    }


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    base, redirect_uri, ttl, key_file = args[:4]
    issuer_base = args[4] if len(args) > 4 else base
    key_pem = Path(key_file).read_text()
    admin = Admin(base)
    if "--ttl-only" in sys.argv:
        admin.call(
            "PUT", "/api/mod/plugin/oidc", plugin(issuer_base, int(ttl), key_pem)
        )
        # The update is only stored; the running instance keeps its parameters until reset.
        admin.call("PUT", "/api/mod/plugin/oidc/reset")
        return
    admin.call(
        "POST",
        "/api/scope/",
        {
            "name": "api",
            "display_name": "API",
            "description": "Read the user's data",
            "password_required": True,
            "password_max_age": 0,
            "scheme": {},
        },
    )
    admin.call(
        "POST",
        "/api/user/",
        {
            "username": "alice",
            "name": "Alice Liddell",
            "email": "alice@example.org",
            "password": "wonderland",
            "scope": ["openid", "api"],
            "enabled": True,
        },
    )
    for client_id, (grants, secret) in CLIENTS.items():
        admin.call(
            "POST",
            "/api/client/",
            {
                "client_id": client_id,
                "name": client_id,
                "confidential": True,
                "password": secret,
                "redirect_uri": [redirect_uri],
                "authorization_type": grants,
                "token_endpoint_auth_method": AUTH_METHODS,
                "scope": ["api"],
                "enabled": True,
            },
        )
    admin.call("POST", "/api/mod/plugin/", plugin(issuer_base, int(ttl), key_pem))


if __name__ == "__main__":
    main()
