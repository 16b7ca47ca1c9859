"""The endpoint flow's options for parity with core ``rest``, and their preview."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from ..common import (
    API_BASE,
    ENDPOINT_REQUEST,
    XML_WEATHER,
    configure_endpoint_flow,
    pick_endpoint_menu,
    start_endpoint_flow,
)

FORECAST = f"{API_BASE}/forecast"


async def test_templated_xml_endpoint_with_every_option(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """Templates are rendered for the preview, XML shown converted, all stored."""
    hass.states.async_set("sensor.city", "oslo")
    aioclient_mock.get(
        f"{FORECAST}/oslo",
        text=XML_WEATHER,
        headers={"Content-Type": "application/xml"},
    )
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(
        hass,
        result,
        {
            **ENDPOINT_REQUEST,
            "url": "/forecast/{{ states('sensor.city') }}",
            "params": "units={{ 'metric' }}",
            "headers": "X-City: {{ states('sensor.city') }}",
            "encoding": "ISO-8859-1",
        },
    )
    assert result["step_id"] == "preview"
    assert result["errors"] is None
    placeholders = result["description_placeholders"]
    assert placeholders["url"] == "/forecast/oslo"  # as rendered for the preview
    assert '"@city": "Oslo"' in placeholders["response"]
    assert '"#text": "21.5"' in placeholders["response"]
    _, url, _, headers = aioclient_mock.mock_calls[-1]
    assert url.path == "/v1/forecast/oslo"
    assert url.query["units"] == "metric"
    assert headers["X-City"] == "oslo"

    result = await configure_endpoint_flow(hass, result)
    result = await pick_endpoint_menu(hass, result, "add_sensor")
    attrs = next(
        v
        for k, v in result["data_schema"].schema.items()
        if str(k) == "json_attributes"
    )
    assert attrs.config["options"] == ["weather"]
    result = await configure_endpoint_flow(
        hass,
        result,
        {
            "name": "Temperature",
            "value_template": "{{ value_json.weather.temperature['#text'] }}",
            "availability": "{{ value_json.weather is defined }}",
            "icon": "mdi:thermometer",
            "picture": "/local/{{ value_json.weather['@city'] }}.png",
            "force_update": True,
        },
    )
    assert "21.5" in result["description_placeholders"]["values"]
    result = await pick_endpoint_menu(hass, result, "add_binary_sensor")
    result = await configure_endpoint_flow(
        hass,
        result,
        {
            "name": "Present",
            "value_template": "{{ true }}",
            "availability": "{{ false }}",
        },
    )
    assert "unavailable" in result["description_placeholders"]["values"]
    result = await pick_endpoint_menu(hass, result, "add_sensor")
    result = await configure_endpoint_flow(
        hass,
        result,
        {
            "name": "Broken availability",
            "value_template": "{{ 7 }}",
            "availability": "{{ 1 / 0 }}",
        },
    )
    # As core: a failing availability template leaves the value available.
    assert (
        "**Broken availability** (sensor): `7`"
        in result["description_placeholders"]["values"]
    )
    result = await pick_endpoint_menu(hass, result, "finish")
    assert result["type"] is FlowResultType.CREATE_ENTRY
    data = result["data"]
    assert data["url"] == "/forecast/{{ states('sensor.city') }}"
    assert data["params"] == {"units": "{{ 'metric' }}"}
    assert data["headers"] == {"X-City": "{{ states('sensor.city') }}"}
    assert data["encoding"] == "ISO-8859-1"
    assert data["verify_ssl"] is True
    assert data["ca_file"] is None
    temperature = data["values"][0]
    assert temperature["availability"] == "{{ value_json.weather is defined }}"
    assert temperature["icon"] == "mdi:thermometer"
    assert temperature["picture"] == "/local/{{ value_json.weather['@city'] }}.png"
    assert temperature["force_update"] is True
    await hass.async_block_till_done()

    state = hass.states.get("sensor.forecast_temperature")
    assert state is not None
    assert state.state == "21.5"
    assert state.attributes["icon"] == "mdi:thermometer"
    assert state.attributes["entity_picture"] == "/local/Oslo.png"
    assert hass.states.get("binary_sensor.forecast_present").state == "unavailable"


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"url": "/x/{{ 1 | nope }}"}, {"url": "invalid_template"}),
        ({"url": "https://elsewhere.example/{{ 1 }}"}, {"url": "origin_not_allowed"}),
        ({"params": "a={{ 1 | nope }}"}, {"params": "invalid_template"}),
        ({"headers": "X-A: {{ 1 | nope }}"}, {"headers": "invalid_template"}),
        ({"headers": "X-A: {{ 'a\\nb' }}"}, {"headers": "invalid_template"}),
        ({"encoding": "klingon-8"}, {"encoding": "invalid_encoding"}),
        ({"ca_file": "/nonexistent/ca.pem"}, {"ca_file": "invalid_ca_file"}),
    ],
)
async def test_request_option_errors(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    changes: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """Templates, encodings and CA files are checked on the request step."""
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(
        hass, result, {**ENDPOINT_REQUEST, **changes}
    )
    assert result["type"] is FlowResultType.FORM
    assert result["step_id"] == "request"
    assert result["errors"] == errors


async def test_not_a_ca_file(
    hass: HomeAssistant, loaded: MockConfigEntry, tmp_path: Path
) -> None:
    """A readable file without a certificate is refused too."""
    ca_file = tmp_path / "ca.pem"
    ca_file.write_text("not a certificate")
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(
        hass, result, {**ENDPOINT_REQUEST, "ca_file": str(ca_file)}
    )
    assert result["errors"] == {"ca_file": "invalid_ca_file"}


async def test_turning_verification_off_asks_first(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """Verification off: a warning, then the preview only when the user goes on."""
    aioclient_mock.get(FORECAST, json={"temperature": 3})
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(
        hass,
        result,
        {**ENDPOINT_REQUEST, "verify_ssl": False, "ca_file": "/ignored/when/off.pem"},
    )
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "insecure"
    assert result["menu_options"] == ["preview", "request"]
    calls = len(aioclient_mock.mock_calls)

    result = await pick_endpoint_menu(hass, result, "request")
    assert result["step_id"] == "request"
    assert len(aioclient_mock.mock_calls) == calls  # nothing sent
    result = await configure_endpoint_flow(
        hass, result, {**ENDPOINT_REQUEST, "verify_ssl": False}
    )
    result = await pick_endpoint_menu(hass, result, "preview")
    assert result["step_id"] == "preview"
    assert result["errors"] is None
    assert len(aioclient_mock.mock_calls) == calls + 1

    result = await configure_endpoint_flow(hass, result)
    result = await pick_endpoint_menu(hass, result, "add_sensor")
    result = await configure_endpoint_flow(
        hass, result, {"name": "T", "value_template": "{{ value_json.temperature }}"}
    )
    result = await pick_endpoint_menu(hass, result, "finish")
    assert result["data"]["verify_ssl"] is False
    assert result["data"]["ca_file"] is None


async def test_reconfigure_prefills_the_new_options(
    hass: HomeAssistant, loaded: MockConfigEntry
) -> None:
    """Stored encoding and TLS settings are suggested when editing."""
    subentry = next(iter(loaded.subentries.values()))
    hass.config_entries.async_update_subentry(
        loaded,
        subentry,
        data={**subentry.data, "encoding": "cp1252", "verify_ssl": False},
    )
    await hass.async_block_till_done()
    result = await loaded.start_subentry_reconfigure_flow(hass, subentry.subentry_id)
    suggested = {
        str(key): key.description["suggested_value"]
        for key in result["data_schema"].schema
        if key.description
    }
    assert suggested["encoding"] == "cp1252"
    assert suggested["verify_ssl"] is False
    assert suggested["ca_file"] == ""


async def test_preview_failures_at_send_time(
    hass: HomeAssistant,
    loaded: MockConfigEntry,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Templates that fail between the form and the preview.

    The request path's other failures are tested in test_request.py.
    """
    from homeassistant.exceptions import TemplateError

    from custom_components.oauth2_rest import request

    renders: list[int] = []

    def render(self: Any, variables: Any = None) -> Any:
        renders.append(1)
        raise TemplateError(ValueError("gone"))

    monkeypatch.setattr(request.RequestTemplates, "render", render)
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(hass, result, ENDPOINT_REQUEST)
    assert result["errors"] == {"base": "invalid_request_template"}
    assert renders


async def test_pick_values_from_an_xml_response(
    hass: HomeAssistant, loaded: MockConfigEntry, aioclient_mock: AiohttpClientMocker
) -> None:
    """An XML answer's values are offered as converted, and read back by templates."""
    aioclient_mock.get(FORECAST, text=XML_WEATHER, headers={"Content-Type": "text/xml"})
    result = await start_endpoint_flow(hass, loaded)
    result = await configure_endpoint_flow(hass, result, ENDPOINT_REQUEST)
    result = await configure_endpoint_flow(hass, result)
    result = await pick_endpoint_menu(hass, result, "pick_values")
    options = {
        option["label"]: option["value"]
        for option in result["data_schema"].schema["picked"].config["options"]
    }
    station = next(label for label in options if "station" in label)
    assert station == 'weather.station = "Blindern"'
    result = await configure_endpoint_flow(hass, result, {"picked": [options[station]]})
    assert "`Blindern`" in result["description_placeholders"]["values"]
