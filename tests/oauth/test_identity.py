"""Who the linked account is: id_token, token response field, userinfo."""

from __future__ import annotations

import base64
import json
from typing import Any

from aiohttp import ClientConnectionError, web
from aiohttp.test_utils import TestServer
from homeassistant.core import HomeAssistant
from homeassistant.helpers.aiohttp_client import async_get_clientsession
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.oauth.identity import (
    AccountIdentity,
    IdentityLookupError,
    async_identify,
    id_token_claims,
)
from custom_components.oauth2_rest.oauth.provider import (
    ProviderProfile,
    TokenResponseQuirks,
)
from custom_components.oauth2_rest.oauth.token_response import MAX_TOKEN_RESPONSE_BYTES

from ..common import CLIENT_ID, USERINFO_URL, manual_profile, send_json_body


def jwt(payload: Any, raw: bytes | None = None) -> str:
    """An unsigned JWT with the given payload."""
    body = raw if raw is not None else json.dumps(payload).encode()
    encoded = base64.urlsafe_b64encode(body).decode().rstrip("=")
    return f"eyJhbGciOiJub25lIn0.{encoded}.sig"


@pytest.mark.parametrize(
    ("id_token", "expected"),
    [
        (jwt({"sub": "1", "aud": CLIENT_ID}), {"sub": "1", "aud": CLIENT_ID}),
        (jwt({"sub": "1", "aud": [CLIENT_ID, "x"]}), {"sub": "1", "aud": [CLIENT_ID, "x"]}),
        (jwt({"sub": "1"}), {"sub": "1"}),
        # Wrong audience: not meant for us.
        (jwt({"sub": "1", "aud": "someone-else"}), None),
        (jwt({"sub": "1", "aud": ["a", "b"]}), None),
        # Not a JWT.
        ("not-a-jwt", None),
        ("a.b", None),
        (42, None),
        (None, None),
        # Payload not base64 JSON, or not an object.
        ("h.!!!!.s", None),
        (jwt(None, raw=b"not json"), None),
        (jwt(None, raw=b"\xff\xfe"), None),
        (jwt(["a", "list"]), None),
    ],
)  # fmt: skip
def test_id_token_claims(id_token: Any, expected: dict[str, Any] | None) -> None:
    """Claims only from a well-formed id_token meant for this client."""
    assert id_token_claims({"id_token": id_token}, CLIENT_ID) == expected


async def test_identify_from_id_token(hass: HomeAssistant) -> None:
    """The id_token's sub and a label from its claims; no request made."""
    token = {
        "access_token": "at",
        "id_token": jwt({"sub": "abc", "aud": CLIENT_ID, "email": "me@example.com"}),
    }
    identity = await async_identify(
        async_get_clientsession(hass), manual_profile(), CLIENT_ID, token
    )
    assert identity == AccountIdentity("abc", "me@example.com")


@pytest.mark.parametrize(
    ("field", "token", "subject"),
    [
        ("athlete.id", {"athlete": {"id": 227615}}, "227615"),
        ("user_id", {"user_id": "GGNJL9"}, "GGNJL9"),
        ("userid", {"userid": 0}, "0"),
    ],
)
async def test_identify_from_token_field(
    hass: HomeAssistant, field: str, token: dict[str, Any], subject: str
) -> None:
    """Strava, Fitbit, Withings: the account id is in the token response."""
    profile = manual_profile(
        userinfo_url=None, quirks=TokenResponseQuirks(subject_field=field)
    )
    identity = await async_identify(
        async_get_clientsession(hass),
        profile,
        CLIENT_ID,
        {"access_token": "at", **token},
    )
    assert identity == AccountIdentity(subject)


async def test_identify_falls_through_to_userinfo(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A wrong-audience id_token and an empty field: userinfo decides."""
    aioclient_mock.get(
        USERINFO_URL, json={"sub": "from-userinfo", "preferred_username": "me"}
    )
    profile = manual_profile(quirks=TokenResponseQuirks(subject_field="user_id"))
    token = {
        "access_token": "the-access-token",
        "id_token": jwt({"sub": "x", "aud": "other"}),
        "user_id": "",
    }
    identity = await async_identify(
        async_get_clientsession(hass), profile, CLIENT_ID, token
    )
    assert identity == AccountIdentity("from-userinfo", "me")
    _, _, _, headers = aioclient_mock.mock_calls[0]
    assert headers["Authorization"] == "Bearer the-access-token"
    assert headers["Accept"] == "application/json"


async def test_identify_userinfo_nested_subject(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """Fitbit: the subject is at user.encodedId."""
    aioclient_mock.get(
        USERINFO_URL, json={"user": {"encodedId": "GGNJL9", "displayName": "Me"}}
    )
    profile = manual_profile(userinfo_subject="user.encodedId")
    identity = await async_identify(
        async_get_clientsession(hass), profile, CLIENT_ID, {"access_token": "at"}
    )
    assert identity == AccountIdentity("GGNJL9", None)


@pytest.mark.parametrize(
    "mock_kwargs",
    [
        {"status": 401, "json": {"error": "invalid_token"}},
        {"status": 500, "text": "boom"},
        {"text": "<html>not json</html>"},
        {"json": ["a", "list"]},
        {"json": {"no_sub": True}},
        {"json": {"sub": ""}},
        {"json": {"sub": None}},
        {"exc": ClientConnectionError()},
        {"exc": TimeoutError()},
    ],
    ids=[
        "401",
        "500",
        "non-json",
        "not-object",
        "no-subject",
        "empty-subject",
        "null-subject",
        "connection",
        "timeout",
    ],
)
async def test_identify_userinfo_failures(
    hass: HomeAssistant,
    aioclient_mock: AiohttpClientMocker,
    mock_kwargs: dict[str, Any],
) -> None:
    """Userinfo should tell but does not: a lookup error, never a guess or None."""
    aioclient_mock.get(USERINFO_URL, **mock_kwargs)
    with pytest.raises(IdentityLookupError):
        await async_identify(
            async_get_clientsession(hass),
            manual_profile(),
            CLIENT_ID,
            {"access_token": "at"},
        )
    assert aioclient_mock.call_count == 1


async def test_identify_nothing_to_go_on(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """No id_token, no field, no userinfo endpoint: None without a request."""
    profile: ProviderProfile = manual_profile(userinfo_url=None)
    identity = await async_identify(
        async_get_clientsession(hass), profile, CLIENT_ID, {"access_token": "at"}
    )
    assert identity is None
    assert aioclient_mock.call_count == 0


# -- hostile sizes and depths ----------------------------------------------------------

DEEP = 100_000


@pytest.mark.parametrize(
    "payload",
    [
        b"[" * DEEP + b"]" * DEEP,
        b'{"a":' * DEEP + b"1" + b"}" * DEEP,
        # Deeper than any client/ JSON may be, beside a subject: not believed either.
        f'{{"sub": "x", "aud": "{CLIENT_ID}", "n": '.encode()
        + b"[" * 101
        + b"]" * 101
        + b"}",
    ],
    ids=["list", "object", "just-too-deep"],
)
async def test_deep_id_token_is_no_identity(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker, payload: bytes
) -> None:
    """An id_token nested too deep says nothing: userinfo decides, nothing raises.

    Failed on the old code (RecursionError out of account identification).
    """
    token = {"access_token": "at", "id_token": jwt(None, raw=payload)}
    assert id_token_claims(token, CLIENT_ID) is None
    aioclient_mock.get(USERINFO_URL, json={"sub": "from-userinfo"})
    identity = await async_identify(
        async_get_clientsession(hass), manual_profile(), CLIENT_ID, token
    )
    assert identity == AccountIdentity("from-userinfo", None)


async def test_deep_userinfo_is_a_lookup_error(
    hass: HomeAssistant, aioclient_mock: AiohttpClientMocker
) -> None:
    """A userinfo answer nested 100 000 deep: a lookup error, not a crash.

    Failed on the old code (RecursionError out of the lookup).
    """
    aioclient_mock.get(USERINFO_URL, text='{"a":' * DEEP + "1" + "}" * DEEP)
    with pytest.raises(IdentityLookupError, match="JsonTooDeepError"):
        await async_identify(
            async_get_clientsession(hass),
            manual_profile(),
            CLIENT_ID,
            {"access_token": "at"},
        )


@pytest.mark.usefixtures("socket_enabled")
@pytest.mark.parametrize("declared", [True, False], ids=["declared", "chunked"])
async def test_userinfo_is_read_within_the_token_cap(
    hass: HomeAssistant, declared: bool
) -> None:
    """A userinfo answer over 1 MiB is refused, not read into memory.

    A real server sends a valid answer padded past the cap, its length declared
    or streamed. Failed on the old code (read whole and accepted).
    """
    body = json.dumps(
        {"sub": "big", "pad": "x" * (MAX_TOKEN_RESPONSE_BYTES + 1)}
    ).encode()

    async def userinfo(request: web.Request) -> web.StreamResponse:
        return await send_json_body(request, body, declared=declared)

    app = web.Application()
    app.router.add_get("/userinfo", userinfo)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    try:
        profile = manual_profile(userinfo_url=str(server.make_url("/userinfo")))
        with pytest.raises(IdentityLookupError, match="ResponseTooLargeError"):
            await async_identify(
                async_get_clientsession(hass), profile, CLIENT_ID, {"access_token": "a"}
            )
    finally:
        await server.close()
