"""Who the linked account is: the subject that makes an entry's unique id.

Sources, first hit wins: the OIDC id_token from the token response (received
directly from the token endpoint over TLS, so OIDC Core 3.1.3.7 lets the client skip
the signature check), the provider's account field in the token response (data in
the profile), the userinfo endpoint.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from http import HTTPStatus
import json
import logging
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, hdrs

from .provider import ProviderProfile
from .token_response import value_at_path

_LOGGER = logging.getLogger(__name__)
_LABEL_CLAIMS = (
    "email",
    "preferred_username",
    "login",
    "name",
    "display_name",
    "username",
)
USERINFO_TIMEOUT = 10
_JWT_DOTS = 2  # header.payload.signature


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """The account's stable id, and a label a person recognises."""

    subject: str
    label: str | None = None


def id_token_claims(token: dict[str, Any], client_id: str) -> dict[str, Any] | None:
    """Return the claims of the token response's id_token meant for this client."""
    id_token = token.get("id_token")
    if not isinstance(id_token, str) or id_token.count(".") != _JWT_DOTS:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = json.loads(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
    except ValueError:
        return None
    if not isinstance(claims, dict):
        return None
    audience = claims.get("aud")
    audiences = audience if isinstance(audience, list) else [audience]
    if audience is not None and client_id not in audiences:
        return None
    return claims


def _label(claims: dict[str, Any]) -> str | None:
    return next((str(claims[c]) for c in _LABEL_CLAIMS if claims.get(c)), None)


async def async_identify(
    session: ClientSession,
    profile: ProviderProfile,
    client_id: str,
    token: dict[str, Any],
) -> AccountIdentity | None:
    """Return the account's identity, or None when the provider does not tell."""
    claims = id_token_claims(token, client_id)
    if claims and claims.get("sub"):
        return AccountIdentity(str(claims["sub"]), _label(claims))
    if profile.quirks.subject_field and (
        subject := value_at_path(token, profile.quirks.subject_field)
    ) not in (None, ""):
        return AccountIdentity(str(subject))
    if profile.userinfo_url:
        return await _async_userinfo(session, profile, token["access_token"])
    return None


async def _async_userinfo(
    session: ClientSession, profile: ProviderProfile, access_token: str
) -> AccountIdentity | None:
    assert profile.userinfo_url is not None
    try:
        async with session.get(
            profile.userinfo_url,
            headers={
                hdrs.AUTHORIZATION: f"Bearer {access_token}",
                hdrs.ACCEPT: "application/json",
            },
            timeout=ClientTimeout(total=USERINFO_TIMEOUT),
        ) as resp:
            if resp.status != HTTPStatus.OK:
                _LOGGER.debug("Userinfo of %s answered %s", profile.name, resp.status)
                return None
            info = await resp.json(content_type=None)
    except (ClientError, TimeoutError, ValueError) as err:
        _LOGGER.debug("Userinfo of %s failed: %s", profile.name, type(err).__name__)
        return None
    if not isinstance(info, dict):
        return None
    subject = value_at_path(info, profile.userinfo_subject)
    if subject in (None, ""):
        return None
    return AccountIdentity(str(subject), _label(info))
