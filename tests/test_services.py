"""The oauth2_rest.request action."""

from __future__ import annotations

from typing import Any

import aiohttp
from homeassistant.auth.models import User
from homeassistant.config_entries import SOURCE_REAUTH
from homeassistant.core import Context, HomeAssistant
from homeassistant.exceptions import (
    HomeAssistantError,
    ServiceValidationError,
    Unauthorized,
)
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
import voluptuous as vol

from custom_components.oauth2_rest.const import DOMAIN

from .common import API_BASE, TOKEN_URL, call_action


async def test_get_with_params_returns_json(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A path is joined to the API base; the token is sent; JSON comes back."""
    aioclient_mock.get(
        f"{API_BASE}/me?fields=name",
        json={"name": "me"},
        headers={
            "ETag": '"e1"',
            "Set-Cookie": "session=secret",
            "Content-Type": "application/json",
        },
    )
    response = await call_action(
        hass, loaded_entry, url="/me", params={"fields": "name"}
    )
    assert response == {
        "status": 200,
        "url": f"{API_BASE}/me?fields=name",
        "headers": {"Content-Type": "application/json", "ETag": '"e1"'},
        "json": {"name": "me"},
        "text": None,
        "ok": True,
        "content": {"name": "me"},
    }
    _, _, _, headers = aioclient_mock.mock_calls[-1]
    assert headers["Authorization"] == "Bearer stored-access-token"


async def test_post_json_and_error_status_returned(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Bodies and headers are sent; an error status is returned, not raised."""
    aioclient_mock.post(f"{API_BASE}/things", status=422, text="bad thing")
    response = await call_action(
        hass,
        loaded_entry,
        method="post",
        url="things",
        json={"name": "lamp"},
        headers={"X-Version": 2},
    )
    assert response["status"] == 422
    assert response["ok"] is False
    assert response["text"] == "bad thing"
    assert response["json"] is None
    _, _, body, headers = aioclient_mock.mock_calls[-1]
    assert body == {"name": "lamp"}
    assert headers["X-Version"] == "2"


async def test_admin_only(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    hass_admin_user: User,
    hass_read_only_user: User,
) -> None:
    """Only admins (or calls without a user) may use the account's token."""
    aioclient_mock.get(f"{API_BASE}/me", json={"name": "me"})
    data = {"config_entry_id": loaded_entry.entry_id, "url": "/me"}
    with pytest.raises(Unauthorized):
        await hass.services.async_call(
            DOMAIN,
            "request",
            data,
            blocking=True,
            return_response=True,
            context=Context(user_id=hass_read_only_user.id),
        )
    assert aioclient_mock.call_count == 0
    response = await hass.services.async_call(
        DOMAIN,
        "request",
        data,
        blocking=True,
        return_response=True,
        context=Context(user_id=hass_admin_user.id),
    )
    assert response is not None
    assert response["json"] == {"name": "me"}
    assert aioclient_mock.call_count == 1


async def test_fire_and_forget(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Without return_response the action still sends the request."""
    aioclient_mock.delete(f"{API_BASE}/things/1", status=204)
    result = await hass.services.async_call(
        DOMAIN,
        "request",
        {
            "config_entry_id": loaded_entry.entry_id,
            "method": "DELETE",
            "url": "/things/1",
        },
        blocking=True,
    )
    assert result is None
    assert aioclient_mock.call_count == 1


async def test_other_origin_refused_before_connecting(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """The token is never sent to an origin that is not allowed."""
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, loaded_entry, url="https://evil.example.net/steal")
    assert raised.value.translation_key == "origin_not_allowed"
    assert aioclient_mock.call_count == 0


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1",
        "https://api.example.com:99999/x",
        "//h:99999/x",
        # Failed on the old code: refused as an origin "" (scheme-relative) and
        # an aiohttp ValueError out of the action (user info).
        "//api.example.com/v1/x",
        "https://user:pw@api.example.com/v1/x",
    ],
)
async def test_malformed_url_refused_before_connecting(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    url: str,
) -> None:
    """A malformed URL is a translated validation error, not a crash."""
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, loaded_entry, url=url)
    assert raised.value.translation_key == "invalid_url"
    assert raised.value.translation_placeholders["target"] == url
    assert aioclient_mock.call_count == 0


@pytest.mark.parametrize(
    "headers",
    [{"X-Test": "a\r\nX-Injected: 1"}, {"X-Test\n": "1"}, {"X-Test": "\x00"}],
)
async def test_header_with_control_characters_refused(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    headers: dict[str, str],
) -> None:
    """CR/LF (any control character) in a header is a translated validation error.

    Failed on the old code (an aiohttp ValueError out of the action for CR/LF,
    NUL sent to the API).
    """
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, loaded_entry, url="/me", headers=headers)
    assert raised.value.translation_key == "invalid_headers"
    assert aioclient_mock.call_count == 0


async def test_json_body_out_of_range_refused(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A number Home Assistant's JSON cannot send is a translated validation error.

    Found by the fuzzing; failed on the old code (TypeError "Integer exceeds 64-bit
    range" out of the action).
    """
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(
            hass, loaded_entry, method="POST", url="/me", json={"n": -(2**63) - 1}
        )
    assert raised.value.translation_key == "invalid_json_body"
    assert aioclient_mock.call_count == 0


async def test_head_of_a_large_resource(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """HEAD reports the headers of a resource larger than the cap: no body.

    Failed on the old code (action_response_too_large).
    """
    loaded_entry.runtime_data.account.auth.max_response_bytes = 1024
    aioclient_mock.head(f"{API_BASE}/big.iso", headers={"Content-Length": str(10**9)})
    response = await call_action(hass, loaded_entry, method="HEAD", url="/big.iso")
    assert response["status"] == 200
    assert response["headers"]["Content-Length"] == str(10**9)


async def test_allowed_origin_from_options(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An origin allowed in the options receives the token (after the reload)."""
    hass.config_entries.async_update_entry(
        loaded_entry, options={"allowed_origins": ["https://files.example.com"]}
    )
    await hass.async_block_till_done()
    aioclient_mock.get(f"{API_BASE}/weather", json={"temperature": 20})
    aioclient_mock.get("https://files.example.com/a.json", json=[1, 2])
    response = await call_action(
        hass, loaded_entry, url="https://files.example.com/a.json"
    )
    assert response["json"] == [1, 2]


async def test_unknown_and_unloaded_account(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Validation errors name the problem."""
    with pytest.raises(ServiceValidationError) as raised:
        await hass.services.async_call(
            DOMAIN, "request", {"config_entry_id": "nope", "url": "/x"}, blocking=True
        )
    assert raised.value.translation_key == "service_config_entry_not_found"
    await hass.config_entries.async_unload(loaded_entry.entry_id)
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, loaded_entry, url="/x")
    assert raised.value.translation_key == "service_config_entry_not_loaded"


async def test_401_after_refresh_starts_reauth(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """A 401 that survives a forced refresh raises and asks to re-link."""
    aioclient_mock.get(f"{API_BASE}/me", status=401)
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "fresh", "expires_in": 3600, "token_type": "Bearer"},
    )
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, loaded_entry, url="/me")
    assert raised.value.translation_key == "unauthorized"
    token_requests = [c for c in aioclient_mock.mock_calls if str(c[1]) == TOKEN_URL]
    assert len(token_requests) == 1
    assert loaded_entry.data["token"]["access_token"] == "fresh"
    # The refresh token was not rotated: the old one is kept.
    assert loaded_entry.data["token"]["refresh_token"] == "stored-refresh-token"
    await hass.async_block_till_done()
    assert len(list(loaded_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))) == 1


@pytest.mark.parametrize(
    ("mock", "key"),
    [
        ({"exc": aiohttp.ClientError()}, "cannot_connect"),
        ({"exc": TimeoutError()}, "timeout"),
        (
            {"text": "x" * 2048, "headers": {"Content-Length": "2048"}},
            "too_large",
        ),
    ],
)
async def test_request_failures(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    mock: dict[str, Any],
    key: str,
) -> None:
    """Failures are translated HomeAssistantErrors without secrets."""
    hass.config_entries.async_update_entry(
        loaded_entry, options={"max_response_bytes": 1024}
    )
    await hass.async_block_till_done()
    aioclient_mock.get(f"{API_BASE}/me", **mock)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, loaded_entry, url="/me")
    assert raised.value.translation_key == key
    assert "stored-access-token" not in str(raised.value)


async def test_transient_token_error(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An unreachable token endpoint fails the action, without reauth."""
    token = dict(loaded_entry.data["token"], expires_at=0)
    hass.config_entries.async_update_entry(
        loaded_entry, data={**loaded_entry.data, "token": token}
    )
    aioclient_mock.post(TOKEN_URL, status=503)
    with pytest.raises(HomeAssistantError) as raised:
        await call_action(hass, loaded_entry, url="/me")
    assert raised.value.translation_key == "token_refresh_failed"
    assert not list(loaded_entry.async_get_active_flows(hass, {SOURCE_REAUTH}))


async def test_schema_rejects_bad_input(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """Both bodies at once, nested header values and unknown methods are refused."""
    for data in (
        {"url": "/x", "json": {"a": 1}, "data": "b"},
        {"url": "/x", "headers": {"X": {"nested": 1}}},
        {"url": "/x", "params": "not a mapping"},
        {"url": "/x", "params": {"a": [1]}},
        {"url": "/x", "method": "TRACE"},
    ):
        with pytest.raises((vol.Invalid, ServiceValidationError)):
            await call_action(hass, loaded_entry, **data)
