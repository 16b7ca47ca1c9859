"""Properties of discovery over whatever metadata a server serves."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
import json
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from aiohttp.test_utils import TestServer
from hypothesis import given, strategies as st
import pytest
from yarl import URL

from custom_components.oauth2_rest.oauth.discovery import (
    DiscoveryError,
    _profile_from_metadata,
    async_discover,
)
from custom_components.oauth2_rest.oauth.provider import PkceMode, ProviderProfile

from .common import count, deep_json, json_values, nasty_text

STRINGS = json.loads(
    (
        Path(__file__).parents[2] / "custom_components/oauth2_rest/strings.json"
    ).read_text(encoding="utf-8")
)
CONFIG_ERRORS = set(STRINGS["config"]["error"])

ISSUERS = ["https://as.example.com", "https://as.example.com/realms/home"]
SECRET_ENDPOINTS = ("token_url", "userinfo_url", "revocation_url")


def endpoint_urls(issuer: str) -> st.SearchStrategy[Any]:
    """URLs a document may list: good, plain http, loopback, foreign, not URLs."""
    return (
        st.sampled_from(
            [
                f"{issuer}/token",
                issuer.replace("https://", "http://") + "/token",
                "http://127.0.0.1:8080/token",
                "http://localhost/token",
                "http://[::1]/t",
                "http://localhost.evil.example/t",
                "https://other.example.net/token",
                "/token",
                "javascript:alert(1)",
                "file:///etc/passwd",
                "https://[::1",
                "",
            ]
        )
        | nasty_text
        | json_values
    )


@st.composite
def documents(draw: st.DrawFn, issuer: str) -> dict[str, Any]:
    """A metadata document: mostly plausible, sometimes anything."""
    urls = endpoint_urls(issuer)
    return draw(
        st.fixed_dictionaries(
            {},
            optional={
                "issuer": st.sampled_from(
                    [
                        issuer,
                        f"{issuer}/",
                        issuer.upper(),
                        f"{issuer}:443",
                        f"{issuer}#",
                    ]
                )
                | json_values,
                "authorization_endpoint": urls,
                "token_endpoint": urls,
                "userinfo_endpoint": urls,
                "revocation_endpoint": urls,
                "device_authorization_endpoint": urls,
                "service_documentation": urls,
                "token_endpoint_auth_methods_supported": st.lists(
                    st.sampled_from(
                        ["client_secret_basic", "client_secret_post", "none", "x"]
                    )
                )
                | json_values,
                "code_challenge_methods_supported": st.lists(
                    st.sampled_from(["S256", "plain", "x"])
                )
                | json_values,
                "scopes_supported": st.lists(st.text(max_size=10)) | json_values,
            },
        )
    )


def _is_loopback(url: URL) -> bool:
    host = url.host or ""
    return host in ("127.0.0.1", "localhost", "::1") or host.endswith(".localhost")


def check_profile(profile: ProviderProfile, issuer: str, document: Any) -> None:
    """What any profile built from an untrusted document must satisfy."""
    assert profile.issuer is not None
    assert profile.issuer.removesuffix("/") == issuer.removesuffix("/")
    for name in (
        "authorize_url",
        "token_url",
        "userinfo_url",
        "revocation_url",
        "device_authorization_url",
        "documentation_url",
    ):
        value = getattr(profile, name)
        if value is None or (name == "authorize_url" and value == ""):
            continue  # "": no authorization endpoint (RFC 8414 2: no grant uses it)
        url = URL(value)
        assert url.scheme in ("http", "https"), (name, value)
        assert url.host, (name, value)
    if issuer.startswith("https://"):
        for name in (*SECRET_ENDPOINTS, "device_authorization_url"):
            value = getattr(profile, name)
            if value is not None and URL(value).scheme == "http":
                assert _is_loopback(URL(value)), (name, value)
    methods = document.get("code_challenge_methods_supported")
    if profile.pkce is PkceMode.NO:
        # Off only when the server said so: no list, or a list without S256.
        assert methods is None or (
            isinstance(methods, list) and "S256" not in methods
        ), methods
    # Stored in the config entry and read back.
    assert ProviderProfile.from_dict(json.loads(json.dumps(profile.as_dict()))) == (
        profile
    )


@given(data=st.data(), issuer=st.sampled_from(ISSUERS))
def test_metadata_document(data: st.DataObject, issuer: str) -> None:
    """A valid profile or a DiscoveryError with a translated key; nothing else."""
    count("discovery_document")
    document = data.draw(documents(issuer))
    try:
        profile = _profile_from_metadata(document, issuer)
    except DiscoveryError as err:
        assert err.translation_key in CONFIG_ERRORS
        return
    check_profile(profile, issuer, document)


@dataclass
class Answer:
    """What the metadata server answers next (any path)."""

    status: int = 200
    content_type: str = "application/json"
    body: bytes = b""
    redirect: str | None = None
    requests: list[str] = field(default_factory=list)
    # What the foreign origin serves: a valid document naming our issuer.
    foreign_document: dict[str, Any] = field(default_factory=dict)
    foreign: str = ""


@pytest.fixture
async def metadata_server(socket_enabled: None) -> AsyncIterator[tuple[str, Answer]]:
    """A server answering every path with the current Answer, and a foreign one."""
    answer = Answer()

    async def foreign(request: web.Request) -> web.StreamResponse:
        return web.json_response(answer.foreign_document)

    async def handler(request: web.Request) -> web.StreamResponse:
        answer.requests.append(request.path)
        if answer.redirect is not None:
            raise web.HTTPFound(answer.redirect)
        return web.Response(
            status=answer.status, body=answer.body, content_type=answer.content_type
        )

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    foreign_app = web.Application()
    foreign_app.router.add_get("/{tail:.*}", foreign)
    server = TestServer(app, host="127.0.0.1")
    foreign_server = TestServer(foreign_app, host="127.0.0.1")
    await server.start_server()
    await foreign_server.start_server()
    answer.foreign = str(foreign_server.make_url("")).rstrip("/")
    yield str(server.make_url("")).rstrip("/"), answer
    await server.close()
    await foreign_server.close()


@given(data=st.data())
async def test_discovery_against_a_server(
    metadata_server: tuple[str, Answer], data: st.DataObject
) -> None:
    """Whatever the server answers: a checked profile or a translated error."""
    count("discovery_server")
    origin, answer = metadata_server
    issuer = origin + data.draw(st.sampled_from(["", "/realms/home"]))
    shape = data.draw(st.sampled_from(["document", "bytes", "deep", "redirect"]))
    document: Any = {}
    answer.redirect = None
    answer.requests.clear()
    answer.status = data.draw(st.sampled_from([200, 200, 200, 204, 301, 404, 500]))
    answer.content_type = data.draw(
        st.sampled_from(["application/json", "text/html", "application/octet-stream"])
    )
    if shape == "document":
        document = data.draw(documents(issuer))
        answer.body = json.dumps(document).encode()
    elif shape == "bytes":
        answer.body = data.draw(st.binary(max_size=100))
    elif shape == "deep":
        answer.body = data.draw(deep_json).encode()
    else:
        answer.foreign_document = {
            "issuer": issuer,
            "authorization_endpoint": f"{issuer}/authorize",
            "token_endpoint": f"{issuer}/token",
        }
        answer.redirect = data.draw(
            st.sampled_from(
                [
                    f"{answer.foreign}/.well-known/openid-configuration",
                    "http://127.0.0.1:1/.well-known/openid-configuration",
                    "/.well-known/openid-configuration",
                    "file:///etc/passwd",
                    "javascript:alert(1)",
                ]
            )
        )
    async with aiohttp.ClientSession() as session:
        try:
            profile = await async_discover(session, issuer)
        except DiscoveryError as err:
            assert err.translation_key in CONFIG_ERRORS
            return
    assert shape == "document"
    check_profile(profile, issuer, document)
