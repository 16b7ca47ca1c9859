"""Accounts at the demo provider linked without the UI, for suites that run a real HA.

The crash suite (``tests/chaos``) and the soak (``tests/soak``) get a grant as Home
Assistant's flow would (code flow + PKCE, the demo user's login and consent over HTTP)
and write Home Assistant's storage as the flow would have left it: the application
credential and one config entry per account, with its endpoint subentries.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
import hashlib
import json
from pathlib import Path
import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from aiohttp import ClientSession, CookieJar, encode_basic_auth

from custom_components.oauth2_rest.oauth.provider import (
    ClientAuthMethod,
    PkceMode,
    ProviderProfile,
)

CLIENT_ID = "home-assistant"
CLIENT_SECRET = "demo-secret"  # the demo provider's published credential
AUTH_DOMAIN = "oauth2_rest_demo"
SCOPES = "openid profile email offline_access api:read"
CREATED = "2026-01-01T00:00:00+00:00"


def fingerprint(secret: str) -> str:
    """As the demo provider fingerprints refresh tokens in its events."""
    return hashlib.sha256(secret.encode()).hexdigest()[:16]


def basic_auth() -> dict[str, str]:
    """The demo client's HTTP Basic authentication header."""
    return {"Authorization": encode_basic_auth(CLIENT_ID, CLIENT_SECRET)}


async def code_grant(issuer: str, redirect_uri: str) -> dict[str, Any]:
    """A new grant of the demo user: code flow + PKCE; the token with ``expires_at``."""
    verifier = secrets.token_urlsafe(48)
    challenge = (
        base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
        .decode()
        .rstrip("=")
    )
    query = urlencode(
        {
            "response_type": "code",
            "client_id": CLIENT_ID,
            "redirect_uri": redirect_uri,
            "scope": SCOPES,
            "state": "linked",
            "code_challenge": challenge,
            "code_challenge_method": "S256",
        }
    )
    authorize = f"/authorize?{query}"
    async with ClientSession(cookie_jar=CookieJar(unsafe=True)) as browser:
        async with browser.post(
            f"{issuer}/login",
            data={"username": "demo", "password": "demo", "next": authorize},
        ) as resp:
            page = await resp.text()
        csrf = re.search(r"name=.?csrf.? value=.?([^'\" >]+)", page)
        if csrf is None:
            raise RuntimeError("no consent form from the demo provider")
        form = [("csrf", csrf.group(1)), ("decision", "allow")]
        form += [("grant_scope", scope) for scope in SCOPES.split()]
        async with browser.post(
            f"{issuer}{authorize}", data=form, allow_redirects=False
        ) as resp:
            code = parse_qs(urlsplit(resp.headers["Location"]).query)["code"][0]
        async with browser.post(
            f"{issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect_uri,
                "code_verifier": verifier,
            },
            headers=basic_auth(),
        ) as resp:
            token: dict[str, Any] = await resp.json()
    token["expires_at"] = time.time() + token["expires_in"]
    return token


@dataclass(frozen=True, slots=True)
class Value:
    """One sensor of an endpoint."""

    name: str
    template: str
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One endpoint subentry."""

    subentry_id: str
    title: str
    url: str
    scan_interval: int
    values: Sequence[Value]
    timeout: int = 10

    def subentry(self) -> dict[str, Any]:
        """As HA stores the subentry."""
        values = []
        for value in self.values:
            item = {
                "key": value.name.lower().replace(" ", "_"),
                "name": value.name,
                "platform": "sensor",
                "value_template": value.template,
            }
            if value.unit:
                item["unit_of_measurement"] = value.unit
            values.append(item)
        return {
            "data": {
                "method": "GET",
                "url": self.url,
                "scan_interval": self.scan_interval,
                "timeout": self.timeout,
                "values": values,
            },
            "subentry_id": self.subentry_id,
            "subentry_type": "endpoint",
            "title": self.title,
            "unique_id": None,
        }


def account_entry(
    issuer: str,
    entry_id: str,
    token: dict[str, Any],
    endpoints: Iterable[Endpoint],
    *,
    title: str = "Demo (demo)",
    unique_id: str | None = None,
) -> dict[str, Any]:
    """A config entry of ours as the account flow creates it (manual provider)."""
    profile = ProviderProfile(
        key="manual",
        name="Demo",
        authorize_url=f"{issuer}/authorize",
        token_url=f"{issuer}/token",
        revocation_url=f"{issuer}/revoke",
        userinfo_url=f"{issuer}/userinfo",
        issuer=issuer,
        api_base_url=issuer,
        client_auth=ClientAuthMethod.CLIENT_SECRET_BASIC,
        pkce=PkceMode.SUPPORTED,
        default_scopes=tuple(SCOPES.split()),
    ).as_dict()
    return {
        "created_at": CREATED,
        "data": {
            "auth_implementation": AUTH_DOMAIN,
            "token": token,
            "provider": profile,
            "scopes": SCOPES.split(),
            "subject": "demo",
        },
        "disabled_by": None,
        "discovery_keys": {},
        "domain": "oauth2_rest",
        "entry_id": entry_id,
        "minor_version": 1,
        "modified_at": CREATED,
        "options": {},
        "pref_disable_new_entities": False,
        "pref_disable_polling": False,
        "source": "user",
        "subentries": [endpoint.subentry() for endpoint in endpoints],
        "title": title,
        "unique_id": unique_id or f"{issuer}#demo",
        "version": 1,
    }


def write_storage(config_dir: Path, entries: Sequence[dict[str, Any]]) -> None:
    """HA's storage as if the accounts had just been linked through the flow.

    Replaces the config entries and the application credential, and drops the
    integration's token files (they belong to the grants being replaced).
    """
    storage = config_dir / ".storage"
    storage.mkdir(parents=True, exist_ok=True)
    for old in storage.glob("oauth2_rest.token.*"):
        old.unlink()
    credentials = {
        "version": 1,
        "minor_version": 1,
        "key": "application_credentials",
        "data": {
            "items": [
                {
                    "id": AUTH_DOMAIN,
                    "domain": "oauth2_rest",
                    "client_id": CLIENT_ID,
                    "client_secret": CLIENT_SECRET,
                    "auth_domain": AUTH_DOMAIN,
                    "name": "Demo",
                }
            ]
        },
    }
    config_entries = {
        "version": 1,
        "minor_version": 5,
        "key": "core.config_entries",
        "data": {"entries": list(entries)},
    }
    (storage / "application_credentials").write_text(json.dumps(credentials))
    (storage / "core.config_entries").write_text(json.dumps(config_entries))


def stored_refresh(config_dir: Path, entry_id: str) -> str | None:
    """The refresh token in the account's token file (None while there is none)."""
    path = config_dir / ".storage" / f"oauth2_rest.token.{entry_id}"
    try:
        token = json.loads(path.read_bytes())["token"]
    except OSError, ValueError, KeyError, TypeError:
        return None
    refresh = token.get("refresh_token")
    return refresh if isinstance(refresh, str) else None
