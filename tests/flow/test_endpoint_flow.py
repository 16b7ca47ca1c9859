"""The endpoint subentry flow: request, preview, values; add, reconfigure, remove."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from aiohttp import ClientConnectionError
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.helpers import device_registry as dr, entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest import endpoint_flow
from custom_components.oauth2_rest.client.auth import OriginPolicy
from custom_components.oauth2_rest.const import CONF_ALLOWED_ORIGINS, DOMAIN
from custom_components.oauth2_rest.flow.text import (
    code_block,
    code_span,
    format_lines,
    parse_lines,
)
from custom_components.oauth2_rest.suggest import MAX_LEAVES, pick_list

from ..common import (
    API_BASE,
    ENDPOINT_REQUEST as REQUEST,
    TOKEN_URL,
    configure_endpoint_flow as _configure,
    expire_token,
    pick_endpoint_menu as _menu,
    start_endpoint_flow as _start,
)

WEATHER = f"{API_BASE}/weather"


async def test_add_endpoint_with_two_values(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
) -> None:
    """Request -> preview -> sensor value -> binary sensor value -> saved -> entities."""
    aioclient_mock.get(
        f"{API_BASE}/forecast",
        json={
            "temp": 18.25,
            "raining": "yes",
            "city": "Oslo",
            "access_token": "leaked-secret",
            "nested": {"Password": "hunter2"},
        },
    )
    result = await _start(hass, loaded)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "request"
    assert result["description_placeholders"] == {"api_base_url": API_BASE}

    result = await _configure(
        hass,
        result,
        {
            **REQUEST,
            "params": "units=metric\n\nlang = en",
            "headers": "Accept: application/json",
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "preview"
    assert result["errors"] is None
    placeholders = result["description_placeholders"]
    assert placeholders["status"] == "200"
    assert '"temp": 18.25' in placeholders["response"]
    assert "leaked-secret" not in placeholders["response"]
    assert "hunter2" not in placeholders["response"]
    assert "**REDACTED**" in placeholders["response"]
    assert placeholders["values"] == "—"
    _, url, _, headers = aioclient_mock.mock_calls[-1]
    assert url.query == {"units": "metric", "lang": "en"}
    assert headers["Accept"] == "application/json"
    assert headers["Authorization"] == "Bearer stored-access-token"

    result = await _configure(hass, result)
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == [
        "pick_values",
        "add_sensor",
        "add_binary_sensor",
        "request",
        "preview",
    ]

    result = await _menu(hass, result, "add_sensor")
    assert result["step_id"] == "sensor_value"
    schema = result["data_schema"].schema
    keys = {str(key) for key in schema}
    assert {"unit_of_measurement", "state_class", "device_class"} <= keys
    # Attribute suggestions come from the response, never secret keys.
    attrs = next(v for k, v in schema.items() if str(k) == "json_attributes")
    assert attrs.config["options"] == ["city", "nested", "raining", "temp"]

    result = await _configure(
        hass,
        result,
        {
            "name": "Temperature",
            "value_template": "{{ value_json.temp }}",
            "json_attributes": ["city", "access_token"],
            "unit_of_measurement": "°C",
            "device_class": "temperature",
            "state_class": "measurement",
            "diagnostic": False,
            "enabled_by_default": True,
        },
    )
    assert result["type"] is FlowResultType.MENU
    assert result["description_placeholders"]["values"] == (
        "- **Temperature** (sensor): `18.25`"
    )
    assert "finish" in result["menu_options"]

    result = await _menu(hass, result, "add_binary_sensor")
    keys = {str(key) for key in result["data_schema"].schema}
    assert "unit_of_measurement" not in keys
    assert "state_class" not in keys
    result = await _configure(
        hass,
        result,
        {
            "name": "Raining",
            "value_template": "{{ value_json.raining }}",
            "device_class": "moisture",
            "diagnostic": True,
            "enabled_by_default": True,
        },
    )
    result = await _menu(hass, result, "finish")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Forecast"
    assert result["data"] == {
        "method": "GET",
        "url": "/forecast",
        "params": {"units": "metric", "lang": "en"},
        "headers": {"Accept": "application/json"},
        "body": None,
        "scan_interval": 120,
        "timeout": 10,
        "encoding": None,
        "verify_ssl": True,
        "ca_file": None,
        "values": [
            {
                "key": "temperature",
                "name": "Temperature",
                "platform": "sensor",
                "value_template": "{{ value_json.temp }}",
                "json_attributes": ["city", "access_token"],
                "json_attributes_path": None,
                "unit_of_measurement": "°C",
                "device_class": "temperature",
                "state_class": "measurement",
                "entity_category": None,
                "enabled_by_default": True,
                "force_update": False,
                "availability": None,
                "icon": None,
                "picture": None,
            },
            {
                "key": "raining",
                "name": "Raining",
                "platform": "binary_sensor",
                "value_template": "{{ value_json.raining }}",
                "json_attributes": [],
                "json_attributes_path": None,
                "unit_of_measurement": None,
                "device_class": "moisture",
                "state_class": None,
                "entity_category": "diagnostic",
                "enabled_by_default": True,
                "force_update": False,
                "availability": None,
                "icon": None,
                "picture": None,
            },
        ],
    }
    await hass.async_block_till_done()

    # The new endpoint starts on its own: its entities exist and read the API.
    subentry_id = next(
        sid for sid, sub in loaded.subentries.items() if sub.title == "Forecast"
    )
    temperature = hass.states.get("sensor.forecast_temperature")
    assert temperature is not None
    assert temperature.state == "18.25"
    assert temperature.attributes["city"] == "Oslo"
    assert "access_token" not in temperature.attributes
    raining = hass.states.get("binary_sensor.forecast_raining")
    assert raining is not None
    assert raining.state == "on"
    entry = entity_registry.async_get("binary_sensor.forecast_raining")
    assert entry is not None
    assert entry.unique_id == f"{subentry_id}_raining"
    assert entry.entity_category == "diagnostic"
    assert entry.config_subentry_id == subentry_id


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"name": "  "}, {"name": "name_required"}),
        ({"url": "https://evil.example.org/x"}, {"url": "origin_not_allowed"}),
        ({"url": "ftp://api.example.com/x"}, {"url": "invalid_url"}),
        ({"url": "a path"}, {"url": "invalid_url"}),
        ({"url": "http://[::1"}, {"url": "invalid_url"}),
        ({"url": "https://api.example.com:99999/x"}, {"url": "invalid_url"}),
        ({"url": "//api.example.com:99999/x"}, {"url": "invalid_url"}),
        ({"params": "no equals sign"}, {"params": "invalid_params"}),
        ({"headers": "Bad Name: x"}, {"headers": "invalid_headers"}),
        ({"headers": "no colon"}, {"headers": "invalid_headers"}),
        # Control characters never reach a request (failed on the old code: NUL,
        # ESC and DEL in a value were accepted; CR and LF end the line).
        ({"headers": "X-Test: a\x00b"}, {"headers": "invalid_headers"}),
        ({"headers": "X-Test: a\x1bb"}, {"headers": "invalid_headers"}),
        ({"headers": "X-Test: a\x7fb"}, {"headers": "invalid_headers"}),
        # User info would be sent as Basic credentials (failed on the old code).
        ({"url": "https://u:pw@api.example.com/v1/x"}, {"url": "invalid_url"}),
        ({"url": "//api.example.com/v1/x"}, {"url": "invalid_url"}),
        ({"headers": "authorization: Bearer x"}, {"headers": "owned_header"}),
        ({"body": "{{ 1 / 0 }}"}, {"body": "invalid_body"}),
    ],
)
async def test_request_errors(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Invalid request settings are form errors on the request step."""
    result = await _start(hass, loaded)
    result = await _configure(hass, result, {**REQUEST, **changes})
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "request"
    assert result["errors"] == errors


async def test_absolute_url_in_allowed_origins(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """An absolute URL on an allowed origin is accepted (options reload the entry)."""
    aioclient_mock.get(WEATHER, json={"temperature": 1})
    aioclient_mock.get("https://files.example.net/list", json=[{"name": "a"}])
    await setup_integration()
    hass.config_entries.async_update_entry(
        config_entry, options={CONF_ALLOWED_ORIGINS: ["https://files.example.net"]}
    )
    await hass.async_block_till_done()
    result = await _start(hass, config_entry)
    result = await _configure(
        hass, result, {**REQUEST, "url": "https://files.example.net/list"}
    )
    assert result["step_id"] == "preview"
    assert result["errors"] is None
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    attrs = next(
        v
        for k, v in result["data_schema"].schema.items()
        if str(k) == "json_attributes"
    )
    assert attrs.config["options"] == ["name"]


def _error_preview_cases() -> list[Any]:
    return [
        pytest.param(
            {"status": HTTPStatus.FORBIDDEN, "text": "Forbidden"}, "forbidden", id="403"
        ),
        pytest.param({"status": HTTPStatus.NOT_FOUND}, "not_found", id="404"),
        pytest.param(
            {"status": HTTPStatus.INTERNAL_SERVER_ERROR}, "http_error", id="500"
        ),
        pytest.param(
            {"status": HTTPStatus.TOO_MANY_REQUESTS}, "rate_limited", id="429"
        ),
        pytest.param({"exc": TimeoutError()}, "timeout", id="timeout"),
        pytest.param(
            {"exc": ClientConnectionError("down")}, "cannot_connect", id="connection"
        ),
        pytest.param({"text": "<html>hello</html>"}, "not_json", id="non-json"),
        pytest.param({"content": b"x" * 2048}, "too_large", id="too-large"),
    ]


@pytest.mark.parametrize(("response", "error"), _error_preview_cases())
async def test_preview_errors(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    response: dict[str, Any],
    error: str,
) -> None:
    """Each failure of the preview request is a translated form error."""
    loaded.runtime_data.account.auth.max_response_bytes = 1024
    aioclient_mock.get(f"{API_BASE}/forecast", **response)
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "preview"
    assert result["errors"] == {"base": error}
    placeholders = result["description_placeholders"]
    if error == "http_error":
        assert placeholders["status"] == "500"
    if error == "too_large":
        assert placeholders["limit"] == "1024"
    if error == "not_json":
        assert "<html>hello</html>" in placeholders["response"]
    # Errors don't trap the user: on to the values, or back to the request.
    result = await _configure(hass, result)
    result = await _menu(hass, result, "request")
    assert result["step_id"] == "request"


async def test_preview_unauthorized_after_refresh(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """401, one refresh, 401 again: the preview says so."""
    aioclient_mock.get(f"{API_BASE}/forecast", status=HTTPStatus.UNAUTHORIZED)
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "new-token", "token_type": "Bearer", "expires_in": 60},
    )
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert result["errors"] == {"base": "unauthorized"}
    calls = [c for c in aioclient_mock.mock_calls if str(c[1]) == TOKEN_URL]
    assert len(calls) == 1


async def test_preview_token_error(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A token that cannot be refreshed is its own preview error."""
    expire_token(hass, loaded)
    aioclient_mock.post(TOKEN_URL, status=HTTPStatus.INTERNAL_SERVER_ERROR)
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert result["errors"] == {"base": "token_refresh_failed"}


async def test_preview_origin_refused_by_runtime(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """The runtime's allow-list is the last word: nothing is sent."""
    hass.config_entries.async_update_entry(
        loaded, options={CONF_ALLOWED_ORIGINS: ["https://other.example.net"]}
    )
    await hass.async_block_till_done()
    # Should the running client refuse the origin anyway, nothing is sent.
    loaded.runtime_data.account.auth.policy = OriginPolicy(API_BASE)
    calls = aioclient_mock.call_count
    result = await _start(hass, loaded)
    result = await _configure(
        hass, result, {**REQUEST, "url": "https://other.example.net/x"}
    )
    assert result["errors"] == {"base": "origin_not_allowed"}
    assert result["description_placeholders"]["origin"] == "https://other.example.net"
    assert aioclient_mock.call_count == calls


async def test_preview_redacts_and_truncates_text(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A long non-JSON body is redacted and cut."""
    body = "access_token=abc123&x=1 stored-access-token " + "y" * 5000
    aioclient_mock.get(f"{API_BASE}/forecast", text=body)
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    response = result["description_placeholders"]["response"]
    assert "abc123" not in response
    assert "stored-access-token" not in response
    assert response.endswith("…\n```")
    assert len(response) < 2700


async def test_preview_redacts_token_in_json(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """The account's token is scrubbed even under an innocent key."""
    aioclient_mock.get(
        f"{API_BASE}/forecast", json={"echo": "Bearer stored-access-token"}
    )
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert "stored-access-token" not in result["description_placeholders"]["response"]


async def test_preview_scrubs_the_token_it_was_made_with(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """After a refresh the echoed old token stays redacted, the new one too."""
    aioclient_mock.get(
        f"{API_BASE}/forecast",
        text="token stored-access-token; next new-access-token",
    )
    aioclient_mock.post(
        TOKEN_URL,
        json={"access_token": "new-access-token", "expires_in": 3600},
    )
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert "stored-access-token" not in result["description_placeholders"]["response"]
    # The token expires while the flow is open: sending again refreshes it.
    hass.config_entries.async_update_entry(
        loaded, data={**loaded.data, "token": {**loaded.data["token"], "expires_at": 0}}
    )
    result = await _configure(hass, result)
    result = await _menu(hass, result, "preview")
    assert loaded.data["token"]["access_token"] == "new-access-token"
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    response = result["description_placeholders"]["response"]
    assert "stored-access-token" not in response
    assert "new-access-token" not in response
    assert response.count("**REDACTED**") == 2
    result = await _configure(
        hass, result, {"name": "Echo", "value_template": "{{ value }}"}
    )
    assert result["type"] is FlowResultType.MENU
    values = result["description_placeholders"]["values"]
    assert "stored-access-token" not in values
    assert "new-access-token" not in values


async def test_preview_backticks_stay_inside_the_code_block(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A response with ``` cannot break out of the preview's code block."""
    aioclient_mock.get(f"{API_BASE}/forecast", text="a\n```\n# Injected `x`")
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert result["description_placeholders"]["response"] == (
        "````\na\n```\n# Injected `x`\n````"
    )
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    result = await _configure(
        hass, result, {"name": "Raw", "value_template": "{{ value }}"}
    )
    assert result["description_placeholders"]["values"] == (
        "- **Raw** (sensor): ```` a ``` # Injected `x` ````"
    )


async def test_non_get_sent_only_on_demand(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A POST is previewed only when asked; its JSON body template is rendered."""
    aioclient_mock.post(f"{API_BASE}/search", json={"hits": 3})
    result = await _start(hass, loaded)
    result = await _configure(
        hass,
        result,
        {
            **REQUEST,
            "method": "POST",
            "url": "/search",
            "body": '{"q": "{{ 1 + 1 }}"}',
        },
    )
    assert result["step_id"] == "preview"
    assert result["description_placeholders"]["status"] == "—"
    assert not [c for c in aioclient_mock.mock_calls if c[0] == "POST"]

    result = await _configure(hass, result, {"send": True})
    assert result["step_id"] == "preview"
    assert result["description_placeholders"]["status"] == "200"
    method, _, data, _ = aioclient_mock.mock_calls[-1]
    assert method == "POST"
    assert data == {"q": "2"}

    result = await _configure(hass, result, {"send": False})
    assert result["type"] is FlowResultType.MENU
    result = await _menu(hass, result, "add_sensor")
    result = await _configure(
        hass,
        result,
        {
            "name": "Forecast",
            "value_template": "{{ value_json.hits }}",
            "diagnostic": False,
            "enabled_by_default": False,
        },
    )
    result = await _menu(hass, result, "finish")
    assert result["data"]["body"] == '{"q": "{{ 1 + 1 }}"}'
    assert result["data"]["values"][0]["key"] == "forecast"
    assert result["data"]["values"][0]["enabled_by_default"] is False


async def test_value_errors_and_keys(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """Value form errors; keys are unique; the preview can be sent again."""
    aioclient_mock.get(f"{API_BASE}/forecast", json=[{"a": 1}])
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    value = {"name": "A", "value_template": "{{ value_json[0].a }}"}
    result = await _configure(hass, result, {**value, "json_attributes_path": "a.b"})
    assert result["errors"] == {"json_attributes_path": "invalid_json_path"}
    result = await _configure(hass, result, {**value, "name": " "})
    assert result["errors"] == {"name": "name_required"}
    result = await _configure(hass, result, value)
    result = await _menu(hass, result, "add_sensor")
    result = await _configure(hass, result, {**value, "name": "a"})
    assert result["errors"] == {"name": "duplicate_name"}
    result = await _configure(hass, result, {**value, "name": "A!"})
    result = await _menu(hass, result, "add_sensor")
    result = await _configure(
        hass, result, {**value, "name": "Broken", "value_template": "{{ 1 / 0 }}"}
    )
    summary = result["description_placeholders"]["values"]
    assert "- **A** (sensor): `1`" in summary
    assert "**Broken** (sensor): `⚠" in summary

    result = await _menu(hass, result, "preview")
    assert result["step_id"] == "preview"
    assert "`1`" in result["description_placeholders"]["values"]
    result = await _configure(hass, result)
    result = await _menu(hass, result, "finish")
    assert [v["key"] for v in result["data"]["values"]] == ["a", "a_2", "broken"]


async def test_preview_aborts_when_entry_not_loaded(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """Without a loaded account there is no token to preview with."""
    await hass.config_entries.async_unload(loaded.entry_id)
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_reconfigure_edit_remove_add(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
) -> None:
    """Reconfigure keeps value keys (and entities) when values are edited."""
    aioclient_mock.get(f"{API_BASE}/weather2", json={"temperature": 5, "wind": 7})
    old_unique_id = "endpoint_weather_value"
    assert entity_registry.async_get_entity_id("sensor", DOMAIN, old_unique_id)

    result = await loaded.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    assert result["step_id"] == "reconfigure"
    suggested = {
        str(k): k.description["suggested_value"]
        for k in result["data_schema"].schema
        if k.description
    }
    assert suggested["url"] == "/weather"
    assert suggested["method"] == "GET"
    assert suggested["timeout"] == 30

    result = await _configure(
        hass,
        result,
        {
            **REQUEST,
            "name": "Weather",
            "url": "/weather2",
            "headers": "X-Api-Version: 2",
        },
    )
    assert result["step_id"] == "preview"
    assert result["description_placeholders"]["values"] == "- **Weather** (sensor): `5`"
    result = await _configure(hass, result)
    assert result["menu_options"] == [
        "pick_values",
        "add_sensor",
        "add_binary_sensor",
        "edit_value",
        "remove_value",
        "reconfigure",
        "preview",
        "finish",
    ]
    # Edit the existing value: its form is pre-filled and its key is kept.
    result = await _menu(hass, result, "edit_value")
    result = await _configure(hass, result, {"value": "value"})
    assert result["step_id"] == "sensor_value"
    suggested = {
        str(k): k.description["suggested_value"]
        for k in result["data_schema"].schema
        if k.description
    }
    assert suggested["value_template"] == "{{ value_json.temperature }}"
    assert suggested["unit_of_measurement"] == "°C"
    assert suggested["diagnostic"] is False
    result = await _configure(
        hass,
        result,
        {
            "name": "Weather",
            "value_template": "{{ value_json.temperature * 2 }}",
            "unit_of_measurement": "°C",
        },
    )
    result = await _menu(hass, result, "add_sensor")
    result = await _configure(
        hass, result, {"name": "Wind", "value_template": "{{ value_json.wind }}"}
    )
    result = await _menu(hass, result, "remove_value")
    result = await _configure(hass, result, {"remove": []})
    # Back to the request form, then on without changes.
    result = await _menu(hass, result, "reconfigure")
    assert result["step_id"] == "reconfigure"
    result = await _configure(
        hass, result, {**REQUEST, "name": "Weather", "url": "/weather2"}
    )
    result = await _configure(hass, result)
    result = await _menu(hass, result, "finish")
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()

    subentry = loaded.subentries["endpoint_weather"]
    assert subentry.data["url"] == "/weather2"
    assert subentry.data["headers"] == {}
    assert [v["key"] for v in subentry.data["values"]] == ["value", "wind"]
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == "10"
    wind = hass.states.get("sensor.weather_wind")
    assert wind is not None
    assert wind.state == "7"


async def test_reconfigure_remove_value_and_subentry_removal(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    device_registry: dr.DeviceRegistry,
) -> None:
    """Removing a value removes its entity; removing the endpoint its device too."""
    aioclient_mock.get(f"{API_BASE}/forecast", json={"temperature": 5, "wind": 7})
    # Add a second value through reconfigure.
    result = await loaded.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    result = await _configure(hass, result, {**REQUEST, "name": "Weather"})
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_binary_sensor")
    result = await _configure(
        hass, result, {"name": "Windy", "value_template": "{{ value_json.wind > 5 }}"}
    )
    result = await _menu(hass, result, "finish")
    await hass.async_block_till_done()

    def snapshot() -> tuple[list[tuple[str, str]], list[set[tuple[str, str]]]]:
        entities = sorted(
            (e.entity_id, e.unique_id)
            for e in er.async_entries_for_config_entry(entity_registry, loaded.entry_id)
            if e.config_subentry_id
        )
        devices = sorted(
            (
                d.identifiers
                for d in dr.async_entries_for_config_entry(
                    device_registry, loaded.entry_id
                )
            ),
            key=str,
        )
        return entities, devices

    assert snapshot() == (
        [
            ("binary_sensor.weather_windy", "endpoint_weather_windy"),
            ("sensor.weather", "endpoint_weather_value"),
        ],
        [{(DOMAIN, loaded.entry_id)}, {(DOMAIN, "endpoint_weather")}],
    )
    windy = hass.states.get("binary_sensor.weather_windy")
    assert windy is not None
    assert windy.state == "on"

    # Remove the sensor value: only its entity goes.
    result = await loaded.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    result = await _configure(hass, result, {**REQUEST, "name": "Weather"})
    result = await _configure(hass, result)
    result = await _menu(hass, result, "remove_value")
    result = await _configure(hass, result, {"remove": ["value"]})
    result = await _menu(hass, result, "finish")
    await hass.async_block_till_done()
    assert snapshot() == (
        [("binary_sensor.weather_windy", "endpoint_weather_windy")],
        [{(DOMAIN, loaded.entry_id)}, {(DOMAIN, "endpoint_weather")}],
    )
    assert hass.states.get("sensor.weather") is None

    # Remove the whole endpoint: its entities and device go.
    assert hass.config_entries.async_remove_subentry(loaded, "endpoint_weather")
    await hass.async_block_till_done()
    assert snapshot() == ([], [{(DOMAIN, loaded.entry_id)}])
    assert hass.states.get("binary_sensor.weather_windy") is None


def test_line_helpers() -> None:
    """Header / parameter lines round-trip."""
    assert parse_lines("a=1\n b = 2 \n", "=") == {"a": "1", "b": "2"}
    assert parse_lines("=1", "=") is None
    assert parse_lines(None, "=") == {}
    assert format_lines({"a": "1", "b": "2"}, "=") == "a=1\nb=2"


def test_code_fences_outlast_backticks() -> None:
    """No backtick run in the text can close the fence or the code span."""
    assert code_block("plain") == "```\nplain\n```"
    assert code_block("a\n```\n# heading\n````x") == (
        "`````\na\n```\n# heading\n````x\n`````"
    )
    assert code_span("—") == "`—`"
    assert code_span("a `b` c") == "``a `b` c``"
    assert code_span("`x``") == "``` `x`` ```"
    assert code_span("a\n```\nb") == "````a ``` b````"


async def test_preview_redirect_loop_and_text_values(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A redirect loop is its own error; values show no rendering without data."""
    aioclient_mock.get(
        f"{API_BASE}/loop", status=HTTPStatus.FOUND, headers={"Location": "/v1/loop"}
    )
    result = await loaded.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    result = await _configure(
        hass, result, {**REQUEST, "name": "Weather", "url": "/loop"}
    )
    assert result["errors"] == {"base": "too_many_redirects"}
    assert result["description_placeholders"]["values"] == "- **Weather** (sensor): `—`"
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    attrs = next(
        v
        for k, v in result["data_schema"].schema.items()
        if str(k) == "json_attributes"
    )
    assert attrs.config["options"] == []
    assert result["description_placeholders"]["response"] == "—"


async def test_pick_values_from_the_preview(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """Tick values of the response: entities with templates, units and classes."""
    aioclient_mock.get(
        f"{API_BASE}/forecast",
        json={
            "current": {"temperature": 18.5, "wind": "4 m/s", "raining": False},
            "updated": "2026-11-25T10:00:00+00:00",
            "stations": [{"id": "n1", "ok": "open"}, {"id": "s2", "ok": "closed"}],
            "access_token": "not offered",
        },
    )
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    result = await _configure(hass, result)
    result = await _menu(hass, result, "pick_values")
    assert result["step_id"] == "pick_values"
    options = {
        option["label"]: option["value"]
        for option in result["data_schema"].schema["picked"].config["options"]
    }
    assert "current.temperature = 18.5" in options
    assert not any("access_token" in label for label in options)
    picked = [
        options[label]
        for label in (
            "current.temperature = 18.5",
            'current.wind = "4 m/s"',
            "current.raining = false",
            'updated = "2026-11-25T10:00:00+00:00"',
            'stations[id=s2].ok = "closed"',
        )
    ]
    result = await _configure(hass, result, {"picked": picked})
    assert result["type"] is FlowResultType.MENU
    summary = result["description_placeholders"]["values"]
    assert "**Current temperature** (sensor): `18.5`" in summary
    assert "**Current wind** (sensor): `4`" in summary
    assert "**Current raining** (binary_sensor): `False`" in summary

    # Picking the same value again gives it a name of its own.
    result = await _menu(hass, result, "pick_values")
    result = await _configure(hass, result, {"picked": [picked[0]]})
    assert (
        "**Current temperature 2** (sensor)"
        in result["description_placeholders"]["values"]
    )
    result = await _menu(hass, result, "remove_value")
    result = await _configure(hass, result, {"remove": ["current_temperature_2"]})
    result = await _menu(hass, result, "finish")
    await hass.async_block_till_done()

    temperature = hass.states.get("sensor.forecast_current_temperature")
    assert temperature.state == "18.5"
    assert temperature.attributes["unit_of_measurement"] == "°C"
    assert temperature.attributes["device_class"] == "temperature"
    assert temperature.attributes["state_class"] == "measurement"
    wind = hass.states.get("sensor.forecast_current_wind")
    assert (wind.state, wind.attributes["unit_of_measurement"]) == ("4", "m/s")
    assert hass.states.get("binary_sensor.forecast_current_raining").state == "off"
    assert hass.states.get("binary_sensor.forecast_stations_ok").state == "off"
    updated = hass.states.get("sensor.forecast_updated")
    assert updated.state == "2026-11-25T10:00:00+00:00"


async def test_pick_values_of_a_post_response(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """A POST endpoint's response, once sent, offers its values too."""
    aioclient_mock.post(f"{API_BASE}/search", json={"hits": 3})
    result = await _start(hass, loaded)
    result = await _configure(
        hass, result, {**REQUEST, "method": "POST", "url": "/search"}
    )
    result = await _configure(hass, result, {"send": False})
    assert "pick_values" not in result["menu_options"]  # nothing sent yet
    result = await _menu(hass, result, "preview")
    result = await _configure(hass, result, {"send": True})
    result = await _configure(hass, result, {"send": False})
    result = await _menu(hass, result, "pick_values")
    result = await _configure(hass, result, {"picked": ["0"]})
    assert "**Hits** (sensor): `3`" in result["description_placeholders"]["values"]


async def test_pick_list_says_when_it_was_cut(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long answer lists a bounded part of its values and says so in the form."""
    built: list[Any] = []
    monkeypatch.setattr(
        endpoint_flow,
        "pick_list",
        lambda *args: built.append(args) or pick_list(*args),
    )
    wide = {f"station_{i}": {"temperature": i} for i in range(MAX_LEAVES + 5)}
    aioclient_mock.get(f"{API_BASE}/forecast", json=wide)
    result = await _start(hass, loaded)
    result = await _configure(hass, result, REQUEST)
    result = await _configure(hass, result)
    assert "pick_values" in result["menu_options"]
    assert not built  # offered without building the list
    result = await _menu(hass, result, "pick_values")
    assert result["errors"] == {"base": "pick_list_cut"}
    options = result["data_schema"].schema["picked"].config["options"]
    assert len(options) == MAX_LEAVES
    assert options[-1]["label"] == f"station_{MAX_LEAVES - 1}.temperature = 299"
    result = await _configure(hass, result, {"picked": [options[-1]["value"]]})
    assert "`299`" in result["description_placeholders"]["values"]


async def test_preview_of_json_nested_thousands_deep(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """JSON nested 5000 deep: a translated error and the text, never a crash.

    Failed on the old code (RecursionError out of the flow).
    """
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    aioclient_mock.get(
        f"{API_BASE}/deep", text=deep, headers={"Content-Type": "application/json"}
    )
    result = await loaded.start_subentry_reconfigure_flow(hass, "endpoint_weather")
    result = await _configure(
        hass, result, {**REQUEST, "name": "Weather", "url": "/deep"}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "preview"
    assert result["errors"] == {"base": "json_too_deep"}
    placeholders = result["description_placeholders"]
    assert placeholders["limit"] == "100"
    assert placeholders["response"].startswith('```\n{"a":{"a":')
    assert placeholders["response"].endswith("…\n```")
    assert placeholders["values"].startswith("- **Weather** (sensor): ")
    result = await _configure(hass, result)
    result = await _menu(hass, result, "add_sensor")
    assert result["step_id"] == "sensor_value"
