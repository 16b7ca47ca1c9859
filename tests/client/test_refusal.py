"""What an API answer says of the token: RFC 6750 section 3 and providers' shapes.

The parser of ``WWW-Authenticate``, the rule that tells a dead token from a missing
scope, and the client applying it against a real HTTP server on 127.0.0.1.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from aiohttp import ClientSession, web
from aiohttp.test_utils import TestServer
from multidict import CIMultiDict, CIMultiDictProxy
import pytest

from custom_components.oauth2_rest.client.auth import AbstractAuth, OriginPolicy
from custom_components.oauth2_rest.client.errors import ApiAuthError, ApiForbiddenError
from custom_components.oauth2_rest.client.refusal import (
    MAX_CHALLENGE,
    MAX_ERROR_BODY,
    Challenge,
    DeadTokenAnswer,
    Refusal,
    Verdict,
    bearer_challenge,
    judge,
    parse_challenges,
)
from custom_components.oauth2_rest.client.response import ApiResponse

pytestmark = pytest.mark.usefixtures("socket_enabled")

NETATMO = DeadTokenAnswer(field="error.code", values=(2, 3), statuses=(403,))
WITHINGS = DeadTokenAnswer(field="status", values=(401,))


# -- the parser ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            (
                'Bearer realm="example", error="invalid_token", '
                'error_description="The access token expired"'
            ),
            [
                Challenge(
                    "bearer",
                    {
                        "realm": "example",
                        "error": "invalid_token",
                        "error_description": "The access token expired",
                    },
                )
            ],
        ),
        # Case-insensitive scheme and names; token values; BWS around "=".
        (
            "BEARER Error = insufficient_scope",
            [Challenge("bearer", {"error": "insufficient_scope"})],
        ),
        # Escapes in quoted strings; a comma inside one is no separator.
        (
            r'Bearer error_description="say \"hi\", then \\ go", scope="a b"',
            [
                Challenge(
                    "bearer",
                    {"error_description": 'say "hi", then \\ go', "scope": "a b"},
                )
            ],
        ),
        # Several challenges, a token68 one among them.
        (
            'Basic realm="x", Negotiate abc123==, Bearer error="invalid_token"',
            [
                Challenge("basic", {"realm": "x"}),
                Challenge("negotiate", {}),
                Challenge("bearer", {"error": "invalid_token"}),
            ],
        ),
        ("Bearer", [Challenge("bearer", {})]),
        ("", []),
        # Broken bits are skipped, the rest is read.
        ('Bearer error="unterminated', [Challenge("bearer", {})]),
        (
            'Bearer @@@, error="invalid_token", =x',
            [Challenge("bearer", {"error": "invalid_token"})],
        ),
        # A parameter given twice keeps its first value.
        (
            'Bearer error="insufficient_scope", error="invalid_token"',
            [Challenge("bearer", {"error": "insufficient_scope"})],
        ),
    ],
)
def test_parse_challenges(header: str, expected: list[Challenge]) -> None:
    """RFC 9110 challenges: schemes, parameters, quoted strings, several at once."""
    assert parse_challenges(header) == expected


def test_parse_challenges_is_bounded() -> None:
    """A huge header is read up to the bound; nothing past it counts."""
    filler = 'Basic realm="' + "x" * (MAX_CHALLENGE + 10) + '"'
    assert parse_challenges(f'{filler}, Bearer error="invalid_token"') == [
        Challenge("basic", {})
    ]
    # Millions of separators and quotes: still one pass, still an answer.
    assert parse_challenges(", " * 2_000_000) == []
    assert parse_challenges('Bearer a="' + "\\" * 3_000_000) == [
        Challenge("bearer", {})
    ]


def test_bearer_challenge_reads_every_header_line() -> None:
    """WWW-Authenticate may come in several header lines."""
    headers = CIMultiDictProxy(
        CIMultiDict(
            [
                ("WWW-Authenticate", 'Basic realm="x"'),
                ("www-authenticate", 'bearer error="invalid_token"'),
            ]
        )
    )
    challenge = bearer_challenge(headers)
    assert challenge == Challenge("bearer", {"error": "invalid_token"})
    assert bearer_challenge({"WWW-Authenticate": 'Basic realm="x"'}) is None
    assert bearer_challenge({}) is None


# -- the rule -----------------------------------------------------------------------


def answer(
    status: int, body: bytes = b"", headers: dict[str, str] | None = None
) -> ApiResponse:
    """An answer as the client reads it."""
    return ApiResponse(status=status, headers=headers or {}, body=body, url="x")


@pytest.mark.parametrize(
    ("response", "answers", "expected"),
    [
        (answer(200, b'{"ok": 1}'), (), None),
        (answer(500), (), None),
        (answer(401), (), Verdict(Refusal.DEAD_TOKEN)),
        (
            answer(403, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}),
            (),
            Verdict(Refusal.DEAD_TOKEN),
        ),
        (answer(403, b'{"error": "invalid_token"}'), (), Verdict(Refusal.DEAD_TOKEN)),
        (answer(403), (), Verdict(Refusal.MAYBE_DEAD)),
        (answer(403, b" \r\n"), (), Verdict(Refusal.MAYBE_DEAD)),
        (
            answer(403, headers={"WWW-Authenticate": 'Bearer realm="api"'}),
            (),
            Verdict(Refusal.MAYBE_DEAD),
        ),
        (answer(403, b"Forbidden"), (), Verdict(Refusal.FORBIDDEN)),
        (
            answer(
                403,
                headers={
                    "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                    'scope="read:weather https://api.example.com/auth/x"'
                },
            ),
            (),
            Verdict(Refusal.FORBIDDEN, "read:weather https://api.example.com/auth/x"),
        ),
        (
            answer(403, b'{"error": "insufficient_scope", "scope": "write"}'),
            (),
            Verdict(Refusal.FORBIDDEN, "write"),
        ),
        # A scope that is not RFC 6750 scope tokens (or too long) is not shown.
        (
            answer(
                403,
                headers={
                    "WWW-Authenticate": 'Bearer error="insufficient_scope", '
                    'scope="a `b`\\n"'
                },
            ),
            (),
            Verdict(Refusal.FORBIDDEN),
        ),
        (
            answer(
                403, b'{"error": "insufficient_scope", "scope": "' + b"s" * 300 + b'"}'
            ),
            (),
            Verdict(Refusal.FORBIDDEN),
        ),
        # The providers' own shapes, as data.
        (
            answer(403, b'{"error": {"code": 2, "message": "Invalid access token"}}'),
            (NETATMO,),
            Verdict(Refusal.DEAD_TOKEN),
        ),
        (
            answer(403, b'{"error": {"code": 3, "message": "Access token expired"}}'),
            (NETATMO,),
            Verdict(Refusal.DEAD_TOKEN),
        ),
        (
            answer(403, b'{"error": {"code": 13, "message": "scope rights"}}'),
            (NETATMO,),
            Verdict(Refusal.FORBIDDEN),
        ),
        (
            answer(403, b'{"error": {"code": 2}}'),
            (),
            Verdict(Refusal.FORBIDDEN),
        ),
        (
            answer(200, b'{"status": 401, "body": {}, "error": "invalid_token"}'),
            (WITHINGS,),
            Verdict(Refusal.DEAD_TOKEN),
        ),
        (answer(200, b'{"status": 0, "body": {}}'), (WITHINGS,), None),
        (answer(200, b'{"status": true}'), (WITHINGS,), None),
        (answer(200, b'{"status": 401}'), (), None),
        (answer(200, b"[401]"), (WITHINGS,), None),
        # A large body is data, not an error answer: not parsed for one.
        (
            answer(200, b'{"status": 401, "pad": "' + b"x" * MAX_ERROR_BODY + b'"}'),
            (WITHINGS,),
            None,
        ),
    ],
)
def test_judge(
    response: ApiResponse,
    answers: tuple[DeadTokenAnswer, ...],
    expected: Verdict | None,
) -> None:
    """A dead token, perhaps a dead token, or a missing scope (and which)."""
    assert judge(response, answers) == expected


def test_dead_token_answer_round_trips() -> None:
    """What a profile stores reads back the same."""
    for shape in (NETATMO, WITHINGS):
        assert DeadTokenAnswer.from_dict(shape.as_dict()) == shape
    assert WITHINGS.as_dict() == {"field": "status", "values": [401]}


# -- the client against a real server ----------------------------------------------


class Tokens(AbstractAuth):
    """Numbered tokens; a forced refresh moves on to the next one."""

    def __init__(self, session: ClientSession, base: str, **kwargs: Any) -> None:
        """Start at token-1."""
        super().__init__(session, OriginPolicy(base), **kwargs)
        self.number = 1
        self.refreshes = 0
        self.fresh: set[str] = set()

    async def async_get_access_token(self) -> str:
        """The current token."""
        return f"token-{self.number}"

    async def async_force_refresh(self, rejected_token: str) -> str:
        """The next token."""
        self.refreshes += 1
        self.number += 1
        return f"token-{self.number}"

    def just_refreshed(self, token: str) -> bool:
        """What the test says was refreshed moments ago."""
        return token in self.fresh


# path -> (answer to token-1, answer to any other token)
ANSWERS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "invalid-token-header": (
        {
            "status": 403,
            "headers": {
                "WWW-Authenticate": 'Bearer error="invalid_token", '
                'error_description="The access token was revoked"'
            },
        },
        {"json": {"value": 1}},
    ),
    "invalid-token-body": (
        {"status": 403, "json": {"error": "invalid_token"}},
        {"json": {"value": 1}},
    ),
    "always-invalid-token": (
        {
            "status": 403,
            "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        },
        {
            "status": 403,
            "headers": {"WWW-Authenticate": 'Bearer error="invalid_token"'},
        },
    ),
    "revoked-bare-403": ({"status": 403}, {"json": {"value": 1}}),
    "always-bare-403": ({"status": 403}, {"status": 403}),
    "bare-403-then-401": ({"status": 403}, {"status": 401}),
    "insufficient-scope": (
        {
            "status": 403,
            "headers": {
                "WWW-Authenticate": 'Bearer realm="api", error="insufficient_scope", '
                'scope="read:weather"'
            },
        },
        {"json": {"value": 1}},
    ),
    "netatmo-code-2": (
        {"status": 403, "json": {"error": {"code": 2, "message": "Invalid"}}},
        {"json": {"value": 1}},
    ),
    "netatmo-code-13": (
        {"status": 403, "json": {"error": {"code": 13, "message": "Scope"}}},
        {"json": {"value": 1}},
    ),
    "withings-401": (
        {"json": {"status": 401, "body": {}, "error": "invalid_token"}},
        {"json": {"status": 0, "body": {"value": 1}}},
    ),
    "withings-always-401": (
        {"json": {"status": 401, "body": {}}},
        {"json": {"status": 401, "body": {}}},
    ),
}


@pytest.fixture
async def api() -> AsyncIterator[tuple[str, list[tuple[str, str]]]]:
    """The API: each path answers token-1 one way, any other token another."""
    seen: list[tuple[str, str]] = []

    async def handle(request: web.Request) -> web.Response:
        name = request.match_info["name"]
        token = request.headers["Authorization"].removeprefix("Bearer ")
        seen.append((name, token))
        spec = ANSWERS[name][0 if token == "token-1" else 1]
        if "json" in spec:
            return web.json_response(
                spec["json"],
                status=spec.get("status", 200),
                headers=spec.get("headers"),
            )
        return web.Response(status=spec["status"], headers=spec.get("headers"))

    app = web.Application()
    app.router.add_get("/v1/{name}", handle)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("/v1")), seen
    await server.close()


@pytest.fixture
async def session() -> AsyncIterator[ClientSession]:
    """An aiohttp session."""
    async with ClientSession() as session:
        yield session


@pytest.mark.parametrize(
    ("path", "answers"),
    [
        ("invalid-token-header", ()),
        ("invalid-token-body", ()),
        ("revoked-bare-403", ()),
        ("netatmo-code-2", (NETATMO,)),
        ("withings-401", (WITHINGS,)),
    ],
)
async def test_refused_token_is_refreshed_once_and_retried(
    session: ClientSession,
    api: tuple[str, list[tuple[str, str]]],
    path: str,
    answers: tuple[DeadTokenAnswer, ...],
) -> None:
    """A token the API refuses (by any of its ways): one refresh, one retry."""
    base, seen = api
    auth = Tokens(session, base, dead_token_answers=answers)
    response = await auth.request("GET", path)
    assert response.status == 200
    assert auth.refreshes == 1
    assert seen == [(path, "token-1"), (path, "token-2")]


@pytest.mark.parametrize(
    ("path", "answers"),
    [
        ("always-invalid-token", ()),
        ("bare-403-then-401", ()),
        ("withings-always-401", (WITHINGS,)),
    ],
)
async def test_token_refused_after_refresh_is_auth_error(
    session: ClientSession,
    api: tuple[str, list[tuple[str, str]]],
    path: str,
    answers: tuple[DeadTokenAnswer, ...],
) -> None:
    """The fresh token refused too: the grant no longer works (reauth)."""
    base, seen = api
    auth = Tokens(session, base, dead_token_answers=answers)
    with pytest.raises(ApiAuthError):
        await auth.request("GET", path, raise_for_status=False)
    assert auth.refreshes == 1
    assert len(seen) == 2


async def test_bare_403_with_a_fresh_token_is_a_missing_scope(
    session: ClientSession, api: tuple[str, list[tuple[str, str]]]
) -> None:
    """A bare 403 to the fresh token too: a missing scope, and remembered as one.

    The next request with that token to that URL asks for no new token.
    """
    base, seen = api
    auth = Tokens(session, base)
    with pytest.raises(ApiForbiddenError) as raised:
        await auth.request("GET", "always-bare-403")
    assert raised.value.scope is None
    assert auth.refreshes == 1
    with pytest.raises(ApiForbiddenError):
        await auth.request("GET", "always-bare-403")
    assert auth.refreshes == 1
    assert seen == [("always-bare-403", t) for t in ("token-1", "token-2", "token-2")]


async def test_bare_403_to_a_just_refreshed_token_is_a_missing_scope(
    session: ClientSession, api: tuple[str, list[tuple[str, str]]]
) -> None:
    """A token that a refresh gave moments ago is not refreshed again for a 403."""
    base, seen = api
    auth = Tokens(session, base)
    auth.fresh.add("token-1")
    with pytest.raises(ApiForbiddenError):
        await auth.request("GET", "revoked-bare-403")
    assert auth.refreshes == 0
    assert seen == [("revoked-bare-403", "token-1")]


@pytest.mark.parametrize(
    ("path", "answers", "scope"),
    [
        ("insufficient-scope", (), "read:weather"),
        ("netatmo-code-13", (NETATMO,), None),
        # Without the preset's data, Netatmo's code 2 is a 403 like any other.
        ("netatmo-code-2", (), None),
    ],
)
async def test_missing_scope_is_not_refreshed(
    session: ClientSession,
    api: tuple[str, list[tuple[str, str]]],
    path: str,
    answers: tuple[DeadTokenAnswer, ...],
    scope: str | None,
) -> None:
    """A 403 that says the scope is missing: no refresh; the scope named if given."""
    base, seen = api
    auth = Tokens(session, base, dead_token_answers=answers)
    with pytest.raises(ApiForbiddenError) as raised:
        await auth.request("GET", path)
    assert raised.value.scope == scope
    assert auth.refreshes == 0
    assert seen == [(path, "token-1")]


async def test_wrapper_status_is_data_without_the_profile_saying_so(
    session: ClientSession, api: tuple[str, list[tuple[str, str]]]
) -> None:
    """Status 401 in an HTTP 200 is only a dead token where the profile declares it."""
    base, seen = api
    auth = Tokens(session, base)
    response = await auth.request("GET", "withings-401")
    assert seen == [("withings-401", "token-1")]
    assert response.json()["status"] == 401
    assert auth.refreshes == 0
