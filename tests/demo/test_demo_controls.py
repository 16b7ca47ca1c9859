"""The demo API's things to change (a lamp, messages) and its record of write requests."""

from __future__ import annotations

from datetime import UTC, datetime
import json
from typing import Any

import pytest

from .conftest import Provider, ProviderFactory
from .test_demo_provider import basic, bearer, token_request

JSON_TEXT = {"Content-Type": "text/plain"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


async def api_auth(
    provider: Provider, scope: str = "api:read api:write"
) -> dict[str, str]:
    """A bearer header for a client-credentials token with ``scope``."""
    status, body = await token_request(
        provider, {"grant_type": "client_credentials", "scope": scope}, basic()
    )
    assert status == 200, body
    return bearer(body["access_token"])


def at(provider: Provider) -> str:
    """The provider's current time as the API writes it."""
    return datetime.fromtimestamp(provider.clock.now, UTC).isoformat()


async def lamp(provider: Provider, auth: dict[str, str]) -> dict[str, Any]:
    """``GET /api/lamp``."""
    resp = await provider.client.get("/api/lamp", headers=auth)
    assert resp.status == 200
    return dict(await resp.json())


async def recorded(provider: Provider) -> list[dict[str, Any]]:
    """``GET /demo/requests``."""
    resp = await provider.client.get("/demo/requests")
    assert resp.status == 200
    return list((await resp.json())["requests"])


async def test_lamp_switch_dim_and_toggle(provider: Provider) -> None:
    """The lamp starts off at 100 %; PUT and toggle change it, ``changed_at`` follows."""
    auth = await api_auth(provider)
    client = provider.client
    started = at(provider)
    first = await client.get("/api/lamp", headers=auth)
    assert await first.json() == {"on": False, "brightness": 100, "changed_at": started}
    assert first.headers["X-RateLimit-Remaining"]
    same = await client.get(
        "/api/lamp", headers=auth | {"If-None-Match": first.headers["ETag"]}
    )
    assert same.status == 304

    provider.clock.advance(5)
    resp = await client.put("/api/lamp", json={"on": True}, headers=auth)
    assert resp.status == 200
    assert resp.headers["ETag"] != first.headers["ETag"]
    assert resp.headers["X-RateLimit-Remaining"]
    switched = at(provider)
    assert await resp.json() == {"on": True, "brightness": 100, "changed_at": switched}

    provider.clock.advance(5)
    resp = await client.put("/api/lamp", json={"on": True}, headers=auth)
    assert (await resp.json())["changed_at"] == switched  # nothing changed
    resp = await client.post(  # POST as PUT: a switch's default method
        "/api/lamp", json={"brightness": 40, "colour": "ignored"}, headers=auth
    )
    assert await resp.json() == {
        "on": True,
        "brightness": 40,
        "changed_at": at(provider),
    }

    provider.clock.advance(5)
    resp = await client.post("/api/lamp/toggle", headers=auth)
    assert resp.status == 200
    toggled = {"on": False, "brightness": 40, "changed_at": at(provider)}
    assert await resp.json() == toggled
    assert await lamp(provider, auth) == toggled
    resp = await client.post("/api/lamp/toggle", json={"any": "body"}, headers=auth)
    assert (await resp.json())["on"] is True


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({}, "Content-Type: application/json"),
        ({"data": {"on": "true"}}, "Content-Type: application/json"),
        ({"data": '{"on": true}', "headers": JSON_TEXT}, "Content-Type"),
        ({"data": "{on: true}", "headers": {"Content-Type": "application/json"}}, ""),
        ({"data": '{"on": NaN}', "headers": {"Content-Type": "application/json"}}, ""),
        ({"json": [True]}, "JSON object"),
        ({"json": {}}, '"on"'),
        ({"json": {"on": "yes"}}, '"on" must be true or false'),
        ({"json": {"on": 1}}, '"on" must be true or false'),
        ({"json": {"brightness": 101}}, "0 to 100"),
        ({"json": {"brightness": -1}}, "0 to 100"),
        ({"json": {"brightness": 50.5}}, "whole number"),
        ({"json": {"on": True, "brightness": True}}, "whole number"),
    ],
)
async def test_lamp_refuses_bad_bodies(
    provider: Provider, kwargs: dict[str, Any], says: str
) -> None:
    """400 invalid_request with a description; the lamp stays as it was."""
    auth = await api_auth(provider)
    before = await lamp(provider, auth)
    headers = auth | kwargs.pop("headers", {})
    resp = await provider.client.put("/api/lamp", headers=headers, **kwargs)
    assert resp.status == 400
    assert resp.content_type == "application/json"
    assert resp.headers["X-RateLimit-Limit"] == "600"
    error = await resp.json()
    assert error["error"] == "invalid_request"
    assert says in error["error_description"]
    assert await lamp(provider, auth) == before


async def test_writes_need_api_write(provider: Provider) -> None:
    """Without ``api:write``: 403 insufficient_scope, nothing changes; reading works."""
    auth = await api_auth(provider, "api:read")
    client = provider.client
    for method, path, body in (
        ("PUT", "/api/lamp", {"on": True}),
        ("POST", "/api/lamp/toggle", None),
        ("POST", "/api/messages", {"message": "hi"}),
    ):
        resp = await client.request(method, path, json=body, headers=auth)
        assert resp.status == 403, path
        assert (await resp.json())["error"] == "insufficient_scope"
        resp = await client.request(method, path, json=body)
        assert resp.status == 401, path
    assert (await lamp(provider, auth))["on"] is False
    resp = await client.get("/api/messages", headers=auth)
    assert await resp.json() == {"messages": []}
    resp = await client.get("/api/lamp", headers=await api_auth(provider, "openid"))
    assert resp.status == 403


async def test_messages_as_json_form_or_query(provider: Provider) -> None:
    """A message comes as JSON, form fields or query parameters; listed newest first."""
    auth = await api_auth(provider)
    client = provider.client
    resp = await client.post(
        "/api/messages",
        json={"message": "Door open", "title": "Alarm", "data": {"priority": 1}},
        headers=auth,
    )
    assert resp.status == 201
    assert resp.headers["ETag"]
    assert resp.headers["X-RateLimit-Remaining"]
    first = {
        "id": 1,
        "message": "Door open",
        "title": "Alarm",
        "extra": {"data": {"priority": 1}},
        "source": "json",
        "received_at": at(provider),
    }
    assert await resp.json() == first

    provider.clock.advance(1)
    resp = await client.post(
        "/api/messages", data={"message": "Hello", "target": "kitchen"}, headers=auth
    )
    assert resp.status == 201
    second = await resp.json()
    assert second == {
        "id": 2,
        "message": "Hello",
        "title": None,
        "extra": {"target": "kitchen"},
        "source": "form",
        "received_at": at(provider),
    }

    resp = await client.post(
        "/api/messages",
        params={"message": "From the query", "title": "Q", "x": "1"},
        headers=auth,
    )
    assert resp.status == 201
    third = await resp.json()
    assert (third["message"], third["title"], third["extra"], third["source"]) == (
        "From the query",
        "Q",
        {"x": "1"},
        "query",
    )
    # The body wins over the query when there is one.
    resp = await client.post(
        "/api/messages",
        params={"message": "ignored"},
        json={"message": "body"},
        headers=auth,
    )
    assert (await resp.json())["message"] == "body"

    listed = await (await client.get("/api/messages", headers=auth)).json()
    assert [m["id"] for m in listed["messages"]] == [4, 3, 2, 1]
    assert listed["messages"][2:] == [second, first]


@pytest.mark.parametrize(
    ("kwargs", "says"),
    [
        ({}, '"message" is required'),
        ({"json": {"title": "no message"}}, '"message" is required'),
        ({"json": {"message": ""}}, '"message" is required'),
        ({"json": {"message": 5}}, '"message" is required'),
        ({"json": {"message": "x", "title": 5}}, '"title" must be text'),
        ({"json": ["x"]}, "JSON object"),
        ({"data": {"title": "only"}}, '"message" is required'),
        ({"data": "message=hi", "headers": JSON_TEXT}, "form fields"),
        ({"data": "{", "headers": {"Content-Type": "application/json"}}, "JSON"),
    ],
)
async def test_messages_refuse_bad_bodies(
    provider: Provider, kwargs: dict[str, Any], says: str
) -> None:
    """400 invalid_request with a description; nothing is stored."""
    auth = await api_auth(provider)
    headers = auth | kwargs.pop("headers", {})
    resp = await provider.client.post("/api/messages", headers=headers, **kwargs)
    assert resp.status == 400
    error = await resp.json()
    assert error["error"] == "invalid_request"
    assert says in error["error_description"]
    listed = await (await provider.client.get("/api/messages", headers=auth)).json()
    assert listed == {"messages": []}


async def test_messages_keep_the_last_fifty(provider: Provider) -> None:
    """Only the newest 50 messages stay; ids keep counting."""
    auth = await api_auth(provider)
    for number in range(1, 56):
        resp = await provider.client.post(
            "/api/messages", json={"message": f"m{number}"}, headers=auth
        )
        assert resp.status == 201
    listed = (await (await provider.client.get("/api/messages", headers=auth)).json())[
        "messages"
    ]
    assert len(listed) == 50
    assert [m["message"] for m in listed[:2]] == ["m55", "m54"]
    assert listed[-1] == listed[-1] | {"id": 6, "message": "m6"}


async def test_request_record_and_events(provider: Provider) -> None:
    """Every write request is recorded with its parsed body, refused ones too; no headers."""
    auth = await api_auth(provider)
    read_only = await api_auth(provider, "api:read")
    client = provider.client
    start = (await (await client.get("/demo/events")).json())["seq"]
    await client.get("/api/lamp", headers=auth)  # reads are not recorded
    await client.put("/api/lamp", json={"on": True}, headers=auth)
    await client.post(
        "/api/messages", data={"message": "a b", "title": "T"}, headers=auth
    )
    await client.post("/api/messages", params={"message": "q"}, headers=auth)
    await client.post(
        "/api/messages",
        data="plain words",
        headers=auth | {"Content-Type": "text/plain; charset=no-such-charset"},
    )
    await client.put("/api/lamp", json={"on": False}, headers=read_only)
    await client.post("/api/counter", headers=auth)
    await client.post("/api/counter", json={"amount": 2}, headers=auth)
    assert (await (await client.get("/api/counter", headers=auth)).json()) == {
        "value": 3
    }

    requests = await recorded(provider)
    assert [(r["method"], r["path"], r["status"]) for r in requests] == [
        ("PUT", "/api/lamp", 200),
        ("POST", "/api/messages", 201),
        ("POST", "/api/messages", 201),
        ("POST", "/api/messages", 400),
        ("PUT", "/api/lamp", 403),
        ("POST", "/api/counter", 200),
        ("POST", "/api/counter", 200),
    ]
    assert requests[0] == {
        "method": "PUT",
        "path": "/api/lamp",
        "query": {},
        "content_type": "application/json",
        "body": {"on": True},
        "body_size": len(b'{"on": true}'),
        "truncated": False,
        "status": 200,
        "received_at": at(provider),
    }
    assert (requests[1]["content_type"], requests[1]["body"]) == (
        "application/x-www-form-urlencoded",
        {"message": "a b", "title": "T"},
    )
    assert (requests[2]["query"], requests[2]["body"]) == ({"message": "q"}, None)
    assert (requests[3]["content_type"], requests[3]["body"]) == (
        "text/plain",
        "plain words",
    )
    assert requests[4]["body"] == {"on": False}
    token = auth["Authorization"].removeprefix("Bearer ")
    assert token not in json.dumps(requests)

    events = (await (await client.get("/demo/events", params={"after": start})).json())[
        "events"
    ]
    writes = [
        (e["method"], e["path"], e["body"])
        for e in events
        if e["kind"] == "api" and "method" in e
    ]
    assert writes[:3] == [
        ("PUT", "/api/lamp", {"on": True}),
        ("POST", "/api/messages", {"message": "a b", "title": "T"}),
        ("POST", "/api/messages", None),
    ]
    assert ("PUT", "/api/lamp", {"on": False}) not in writes  # refused before it

    resp = await client.post("/demo/requests/clear")
    assert await resp.json() == {"cleared": 7}
    assert await recorded(provider) == []
    resp = await client.post(
        "/demo/requests/clear", headers={"Accept": "text/html"}, allow_redirects=False
    )
    assert resp.status == 303


async def test_request_record_is_bounded(make_provider: ProviderFactory) -> None:
    """The last 100 requests; a large body is kept as the start of its text."""
    provider = await make_provider(rate_limit=0)
    auth = await api_auth(provider)
    for number in range(105):
        await provider.client.post("/api/lamp/toggle", json={"n": number}, headers=auth)
    big = {"message": "x" * 10_000}
    await provider.client.post("/api/messages", json=big, headers=auth)
    requests = await recorded(provider)
    assert len(requests) == 100
    assert requests[0]["body"] == {"n": 6}
    last = requests[-1]
    assert last["truncated"] is True
    assert last["body_size"] == len(json.dumps(big))
    assert last["body"] == json.dumps(big)[:4096]


async def test_faults_and_rate_limit_apply_to_writes(
    make_provider: ProviderFactory,
) -> None:
    """A queued API fault answers a write instead (recorded with its status); 429 too."""
    provider = await make_provider(rate_limit=3)
    auth = await api_auth(provider)
    client = provider.client
    await client.post(
        "/demo/faults", json={"api": [{"status": 503, "body": '{"error": "down"}'}]}
    )
    resp = await client.put("/api/lamp", json={"on": True}, headers=auth)
    assert resp.status == 503
    for _ in range(3):
        resp = await client.post("/api/lamp/toggle", headers=auth)
    assert resp.status == 200
    resp = await client.post("/api/lamp/toggle", headers=auth)
    assert resp.status == 429
    assert resp.headers["Retry-After"]
    statuses = [r["status"] for r in await recorded(provider)]
    assert statuses == [503, 200, 200, 200, 429]
    resp = await client.get("/api/lamp", headers=await api_auth(provider))
    assert (await resp.json())["on"] is True  # three toggles from off; the fault none


async def test_home_page_shows_lamp_and_escaped_messages(provider: Provider) -> None:
    """The home page lists the lamp and the newest messages, all user text escaped."""
    auth = await api_auth(provider)
    client = provider.client
    page = await (await client.get("/")).text()
    assert "The lamp is <b>off</b>, brightness 100 %" in page
    assert "No messages yet." in page
    await client.put("/api/lamp", json={"on": True, "brightness": 30}, headers=auth)
    await client.post(
        "/api/messages",
        json={
            "message": "<script>alert(1)</script>",
            "title": '"><img src=x>',
            "tag": "<i>",
        },
        headers=auth,
    )
    page = await (await client.get("/")).text()
    assert "The lamp is <b>on</b>, brightness 30 %" in page
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<img" not in page
    assert "&quot;&gt;&lt;img src=x&gt;" in page
    assert "&lt;i&gt;" in page
    assert 'href="/demo/requests"' in page
