"""Who the linked account is: the subject that makes an entry's unique id.

Sources, first hit wins: the OIDC id_token from the token response (received
directly from the token endpoint over TLS, so OIDC Core 3.1.3.7 lets the client skip
the signature check), the provider's account field in the token response (data in
the profile), the userinfo endpoint.

Two outcomes must not be confused: a provider that has no way to tell who the account
is (no id_token subject, no account field, no userinfo endpoint: ``None``, the user
names the account), and a provider that should tell but whose userinfo lookup failed
(``IdentityLookupError``: the caller must not guess, it may only ask again).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
import hmac
from http import HTTPStatus
import secrets
from typing import Any

from aiohttp import ClientError, ClientSession, ClientTimeout, hdrs

from ..client.errors import ResponseTooLargeError
from ..client.response import loads_json, read_capped
from .provider import ProviderProfile
from .token_response import MAX_TOKEN_RESPONSE_BYTES, value_at_path
from .token_set import ACCESS_TOKEN, ID_TOKEN

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


class IdentityLookupError(Exception):
    """The provider's userinfo endpoint should say who the account is, but did not."""


class NonceMismatchError(Exception):
    """The id_token does not carry the nonce of this authorization request.

    It was issued for another login (replayed or injected): the link must fail.
    The message never holds the nonce.
    """


OPENID_SCOPE = "openid"


def wants_nonce(scope: str | None, separator: str = " ") -> bool:
    """Whether an authorization request with ``scope`` asks for an id_token."""
    if not scope:
        return False
    return OPENID_SCOPE in scope.replace(separator, " ").split()


def new_nonce() -> str:
    """A fresh random nonce (256 bits) for one authorization request."""
    return secrets.token_urlsafe(32)


def check_nonce(token: dict[str, Any], client_id: str, nonce: str | None) -> None:
    """Raise NonceMismatchError unless the id_token carries ``nonce``.

    OIDC Core 3.1.3.7, step 11: when a nonce was sent, the id_token's ``nonce``
    claim must be present and equal to it. Nothing to check when no nonce was sent,
    no id_token came back, or it is not one for this client (it is then not read).
    """
    if nonce is None or (claims := id_token_claims(token, client_id)) is None:
        return
    claim = claims.get("nonce")
    if not isinstance(claim, str):
        raise NonceMismatchError("the id_token has no nonce")
    if not hmac.compare_digest(claim.encode(), nonce.encode()):
        raise NonceMismatchError("the id_token's nonce is not this login's")


@dataclass(frozen=True, slots=True)
class AccountIdentity:
    """The account's stable id, and a label a person recognises.

    ``from_user`` marks a subject the user typed (the provider cannot tell): nothing
    at the provider can confirm it later.
    """

    subject: str
    label: str | None = None
    from_user: bool = False


def id_token_claims(token: dict[str, Any], client_id: str) -> dict[str, Any] | None:
    """Return the claims of the token response's id_token meant for this client.

    None when there are none: no id_token, not for this client, or a payload that
    is not base64url JSON of bounded depth (an id_token nested 100 000 deep says
    nothing, it does not crash the lookup).
    """
    id_token = token.get(ID_TOKEN)
    if not isinstance(id_token, str) or id_token.count(".") != _JWT_DOTS:
        return None
    payload = id_token.split(".")[1]
    try:
        claims = loads_json(
            base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
        )
    except ValueError:  # bad base64, not JSON, or too deep (JsonTooDeepError)
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
    """Return the account's identity, or None when the provider has no way to tell.

    Raises IdentityLookupError when the provider has a userinfo endpoint (and nothing
    earlier told) but asking it failed: unreachable, not 200, or no usable subject.
    """
    claims = id_token_claims(token, client_id)
    if claims and claims.get("sub"):
        return AccountIdentity(str(claims["sub"]), _label(claims))
    if profile.quirks.subject_field and (
        subject := value_at_path(token, profile.quirks.subject_field)
    ) not in (None, ""):
        return AccountIdentity(str(subject))
    if profile.userinfo_url:
        return await _async_userinfo(session, profile, token[ACCESS_TOKEN])
    return None


async def _async_userinfo(
    session: ClientSession, profile: ProviderProfile, access_token: str
) -> AccountIdentity:
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
                raise IdentityLookupError(
                    f"userinfo of {profile.name} answered HTTP {resp.status}"
                )
            body = await read_capped(resp, MAX_TOKEN_RESPONSE_BYTES)
        info = loads_json(body)  # bounded depth: a ValueError when too deep
    except (ClientError, TimeoutError, ValueError, ResponseTooLargeError) as err:
        raise IdentityLookupError(
            f"userinfo of {profile.name} failed: {type(err).__name__}"
        ) from err
    if not isinstance(info, dict):
        raise IdentityLookupError(f"userinfo of {profile.name} is not a JSON object")
    subject = value_at_path(info, profile.userinfo_subject)
    if subject in (None, ""):
        raise IdentityLookupError(
            f"userinfo of {profile.name} has no {profile.userinfo_subject!r}"
        )
    return AccountIdentity(str(subject), _label(info))
