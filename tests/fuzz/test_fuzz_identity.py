"""Properties of account identification over hostile id_tokens and userinfo answers.

However deep, large or malformed the id_token's payload, reading its claims never
raises: it gives the claims or None (no identity from the id_token), and the lookup
then goes on to userinfo, which gives an identity or an IdentityLookupError.
"""

from __future__ import annotations

import base64
import json
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
from hypothesis import example, given, strategies as st
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.oauth.identity import (
    AccountIdentity,
    IdentityLookupError,
    NonceMismatchError,
    async_identify,
    check_nonce,
    id_token_claims,
    new_nonce,
)

from ..common import CLIENT_ID, USERINFO_URL, manual_profile
from .common import count, deep_json, json_values, nasty_text

DEEP_ID_TOKEN = "h." + base64.urlsafe_b64encode(b"[" * 100_000).decode() + ".s"


@st.composite
def payloads(draw: st.DrawFn) -> bytes:
    """An id_token payload: deep, huge, a JSON value, or bytes."""
    kind = draw(st.sampled_from(["deep", "deep-claim", "huge", "json", "bytes"]))
    if kind == "deep":
        return draw(deep_json).encode()
    if kind == "deep-claim":
        inner = draw(deep_json)
        return f'{{"sub": "s", "aud": "{CLIENT_ID}", "x": {inner}}}'.encode()
    if kind == "huge":
        size = draw(st.integers(100_000, 1_500_000))
        filler = draw(st.sampled_from(["a", "é", "[", "{", "\\u0000", '"']))
        return f'{{"sub": "s", "pad": "{filler * (size // len(filler))}"}}'.encode()
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    return draw(st.binary(max_size=64))


@st.composite
def id_tokens(draw: st.DrawFn) -> Any:
    """An id_token: header.payload.signature in some encoding, or anything."""
    kind = draw(st.sampled_from(["jwt", "jwt-padded", "text", "json"]))
    if kind == "text":
        return draw(nasty_text)
    if kind == "json":
        return draw(json_values)
    encoded = base64.urlsafe_b64encode(draw(payloads())).decode()
    if kind == "jwt":
        encoded = encoded.rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{encoded}.sig"


@given(id_token=id_tokens())
@example(id_token=DEEP_ID_TOKEN)
def test_id_token_claims_never_raise(id_token: Any) -> None:
    """Any id_token: its claims (an object) or None, never an exception."""
    count("id_token_claims")
    claims = id_token_claims({"id_token": id_token}, CLIENT_ID)
    assert claims is None or isinstance(claims, dict)


@given(id_token=id_tokens(), claim=json_values | nasty_text)
@example(id_token="h.e30.s", claim=None)
def test_nonce_check_passes_only_with_the_nonce(id_token: Any, claim: Any) -> None:
    """Any id_token, any nonce claim: only this login's nonce links the account.

    An id_token whose claims are read for this client must carry the nonce sent;
    one that is not read (no claims, another audience) is not used at all.
    """
    count("check_nonce")
    nonce = new_nonce()
    token = {"id_token": id_token}
    claims = id_token_claims(token, CLIENT_ID)
    check_nonce(token, CLIENT_ID, None)  # nothing sent: nothing to check
    if claims is not None:
        # The same claims with a nonce claim drawn at random.
        token = {"id_token": f"h.{_claims_with_nonce(claims, claim)}.s"}
        try:
            check_nonce(token, CLIENT_ID, nonce)
        except NonceMismatchError as err:
            assert nonce not in str(err)
        else:
            raise AssertionError("a drawn nonce claim was taken for the one sent")
        token = {"id_token": f"h.{_claims_with_nonce(claims, nonce)}.s"}
        check_nonce(token, CLIENT_ID, nonce)
    else:
        check_nonce(token, CLIENT_ID, nonce)


def _claims_with_nonce(claims: dict[str, Any], nonce: Any) -> str:
    body = json.dumps({**claims, "nonce": nonce}).encode()
    return base64.urlsafe_b64encode(body).decode().rstrip("=")


@given(id_token=id_tokens(), userinfo=json_values | deep_json)
@example(id_token="h.e30.s", userinfo=-(2**63) - 1)
@example(id_token=DEEP_ID_TOKEN, userinfo={"sub": "s"})
@example(id_token="h.e30.s", userinfo="[" * 100_000 + "]" * 100_000)
async def test_identify_never_raises_but_lookup_error(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    id_token: Any,
    userinfo: Any,
) -> None:
    """Any id_token and userinfo answer: an identity or IdentityLookupError."""
    count("identify")
    aioclient_mock.clear_requests()
    # Serialised here: Home Assistant's encoder refuses integers beyond 64 bits.
    text = userinfo if isinstance(userinfo, str) else json.dumps(userinfo)
    aioclient_mock.get(USERINFO_URL, text=text)
    token = {"access_token": "at", "id_token": id_token}
    try:
        identity = await async_identify(
            async_get_clientsession(hass), manual_profile(), CLIENT_ID, token
        )
    except IdentityLookupError:
        return
    assert isinstance(identity, AccountIdentity)
    assert identity.subject
