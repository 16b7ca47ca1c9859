"""Parity with core ``rest``, asserted on entities and on the wire.

XML, request templates, availability/icon/picture, force_update, the encoding.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import EVENT_STATE_CHANGED, STATE_UNAVAILABLE
from homeassistant.core import Event, HomeAssistant, callback
from homeassistant.exceptions import ServiceValidationError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.client.response import ApiResponse
from custom_components.oauth2_rest.endpoint import EndpointConfig

from .common import API_BASE, XML_WEATHER, call_action, respond, state, tick

Setup = Callable[[], Awaitable[None]]
WEATHER = f"{API_BASE}/weather"


def endpoint(data: dict[str, Any] | None = None, **value: Any) -> ConfigSubentryData:
    """An endpoint subentry ``Weather`` with one sensor value, with changes."""
    return ConfigSubentryData(
        data={
            "method": "GET",
            "url": "/weather",
            "scan_interval": 60,
            "timeout": 30,
            **(data or {}),
            "values": [
                {
                    "key": "value",
                    "name": "Weather",
                    "platform": "sensor",
                    "value_template": "{{ value_json.temperature }}",
                    **value,
                }
            ],
        },
        subentry_id="endpoint_weather",
        subentry_type="endpoint",
        title="Weather",
        unique_id=None,
    )


# -- XML ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint(
                value_template="{{ value_json.weather.temperature['#text'] }}",
                unit_of_measurement="°C",
                json_attributes=["@city", "station"],
                json_attributes_path="$.weather",
            )
        ]
    ],
)
@pytest.mark.parametrize(
    "content_type",
    ["application/xml", "text/xml; charset=utf-8", "application/rss+xml"],
)
async def test_xml_response_read_as_core_rest(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    content_type: str,
) -> None:
    """An XML content type is converted by xmltodict: value_json works as in core."""
    aioclient_mock.get(
        WEATHER, text=XML_WEATHER, headers={"Content-Type": content_type}
    )
    await setup_integration()
    current = hass.states.get("sensor.weather")
    assert current is not None
    assert current.state == "21.5"
    assert current.attributes["@city"] == "Oslo"
    assert current.attributes["station"] == "Blindern"


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint(
                value_template="{{ value_json is defined and value_json is not none }}|{{ value[:5] }}"
            )
        ]
    ],
)
async def test_xml_that_does_not_parse_stays_text(
    hass: HomeAssistant, setup_integration: Setup, aioclient_mock: AiohttpClientMocker
) -> None:
    """Broken XML: no value_json, the raw text is still ``value``."""
    aioclient_mock.get(
        WEATHER, text="<weather><oops", headers={"Content-Type": "application/xml"}
    )
    await setup_integration()
    assert state(hass) == "False|<weat"


def test_xml_value_is_the_converted_json() -> None:
    """As core's data_without_xml: ``value`` is the JSON text of the conversion."""
    from custom_components.oauth2_rest.values import response_values

    response = ApiResponse(
        status=200,
        headers={},
        body=b"<a><b>1</b></a>",
        url=WEATHER,
        content_type="text/xml",
    )
    assert response_values(response) == ({"a": {"b": "1"}}, '{"a":{"b":"1"}}')
    html = ApiResponse(
        status=200, headers={}, body=b"<a>1</a>", url=WEATHER, content_type="text/html"
    )
    assert response_values(html) == (None, "<a>1</a>")


# -- encoding ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("subentries", "expected"),
    [
        ([endpoint(value_template="{{ value }}")], "Z\ufffdrich"),
        (
            [endpoint({"encoding": "ISO-8859-1"}, value_template="{{ value }}")],
            "Zürich",
        ),
    ],
)
async def test_encoding_when_no_charset_is_declared(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    expected: str,
) -> None:
    """No charset in the response: the endpoint's encoding (UTF-8 by default)."""
    aioclient_mock.get(
        WEATHER,
        content="Zürich".encode("latin-1"),
        headers={"Content-Type": "text/plain"},
    )
    await setup_integration()
    assert state(hass) == expected


@pytest.mark.parametrize(
    "subentries", [[endpoint({"encoding": "UTF-8"}, value_template="{{ value }}")]]
)
async def test_declared_charset_wins(
    hass: HomeAssistant, setup_integration: Setup, aioclient_mock: AiohttpClientMocker
) -> None:
    """A charset in the Content-Type decodes the body, as in core."""
    aioclient_mock.get(
        WEATHER,
        content="Zürich".encode("latin-1"),
        headers={"Content-Type": "text/plain; charset=iso-8859-1"},
    )
    await setup_integration()
    assert state(hass) == "Zürich"


def test_wrong_charset_falls_back_to_the_encoding() -> None:
    """A declared charset that cannot decode the body: the configured encoding."""
    response = ApiResponse(
        status=200,
        headers={},
        body="Zürich".encode("latin-1"),
        url=WEATHER,
        content_type="text/plain",
        charset="utf-8",
    )
    assert response.decode("latin-1") == "Zürich"
    assert (
        ApiResponse(
            status=200, headers={}, body=b"x", url=WEATHER, charset="no-such-charset"
        ).decode()
        == "x"
    )


# -- templated URL, params, headers ---------------------------------------------------


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint(
                {
                    "url": "/weather/{{ states('sensor.city') }}",
                    "params": {
                        "units": "{{ states('sensor.units') }}",
                        "fresh": "{{ true }}",
                        "static": "{x",
                    },
                    "headers": {
                        "X-City": "{{ states('sensor.city') | upper }}",
                        "Accept": "application/json",
                    },
                }
            )
        ]
    ],
)
async def test_templated_request_changes_between_polls(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """URL, params and headers are rendered at every poll, as core's templates."""
    hass.states.async_set("sensor.city", "oslo")
    hass.states.async_set("sensor.units", "metric")
    aioclient_mock.get(
        f"{WEATHER}/oslo", json={"temperature": 5}, headers={"ETag": '"oslo"'}
    )
    aioclient_mock.get(f"{WEATHER}/bergen", json={"temperature": 9})
    await setup_integration()
    assert state(hass) == "5"

    hass.states.async_set("sensor.city", "bergen")
    hass.states.async_set("sensor.units", "imperial")
    await tick(hass, freezer, 61)
    assert state(hass) == "9"

    (_, first, _, first_headers), (_, second, _, second_headers) = (
        aioclient_mock.mock_calls
    )
    assert first.path == "/v1/weather/oslo"
    assert dict(first.query) == {"units": "metric", "fresh": "true", "static": "{x"}
    assert first_headers["X-City"] == "OSLO"
    assert second.path == "/v1/weather/bergen"
    assert dict(second.query) == {
        "units": "imperial",
        "fresh": "true",
        "static": "{x",
    }
    assert second_headers["X-City"] == "BERGEN"
    assert second_headers["Accept"] == "application/json"
    # The ETag of Oslo is not a validator for Bergen.
    assert "If-None-Match" not in second_headers


@pytest.mark.parametrize(
    "subentries",
    [[endpoint({"headers": {"X-Bad": "{{ 'a\\r\\nInjected: 1' }}"}})]],
)
async def test_header_template_with_line_break_fails_the_update(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A header template rendering a line break is refused before sending."""
    aioclient_mock.get(WEATHER, json={"temperature": 5})
    await setup_integration()
    assert state(hass) == STATE_UNAVAILABLE
    assert not aioclient_mock.mock_calls


@pytest.mark.parametrize(
    "subentries", [[endpoint({"url": "/weather/{{ states('sensor.city') | nope }}"})]]
)
async def test_failing_url_template_fails_the_update(
    hass: HomeAssistant, setup_integration: Setup, aioclient_mock: AiohttpClientMocker
) -> None:
    """A URL template that fails: the update fails, nothing is sent."""
    await setup_integration()
    assert state(hass) == STATE_UNAVAILABLE
    assert not aioclient_mock.mock_calls


# -- availability, icon, picture, force_update -------------------------------------------


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint(
                availability="{{ value_json.ok }}",
                icon="{{ 'mdi:sun' if value_json.temperature > 10 else 'mdi:snowflake' }}",
                picture="/local/{{ value_json.temperature }}.png",
            )
        ]
    ],
)
async def test_availability_icon_and_picture_templates(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """The availability template hides a value; icon and picture follow the response."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"ok": True, "temperature": 20}},
        {"json": {"ok": False, "temperature": 3}},
        {"json": {"ok": "yes", "temperature": 3}},
    )
    await setup_integration()
    current = hass.states.get("sensor.weather")
    assert current is not None
    assert current.state == "20"
    assert current.attributes["icon"] == "mdi:sun"
    assert current.attributes["entity_picture"] == "/local/20.png"

    await tick(hass, freezer, 61)
    assert state(hass) == STATE_UNAVAILABLE

    await tick(hass, freezer, 61)
    current = hass.states.get("sensor.weather")
    assert current is not None
    assert current.state == "3"
    assert current.attributes["icon"] == "mdi:snowflake"


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint(
                availability="{{ value_json.missing.deeper }}",
                icon="{{ value_json.missing.deeper }}",
            )
        ]
    ],
)
async def test_failing_availability_template_keeps_the_value_available(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """As core's template entities: an availability template error means available."""
    aioclient_mock.get(WEATHER, json={"temperature": 20})
    await setup_integration()
    current = hass.states.get("sensor.weather")
    assert current is not None
    assert current.state == "20"
    assert "icon" not in current.attributes
    assert "Availability template of sensor.weather failed" in caplog.text
    assert "Icon template of sensor.weather failed" in caplog.text


@pytest.mark.parametrize(
    ("subentries", "changes"),
    [([endpoint(force_update=True)], 3), ([endpoint()], 0)],
)
async def test_force_update_writes_every_poll(
    hass: HomeAssistant,
    setup_integration: Setup,
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    changes: int,
) -> None:
    """force_update: a state_changed at every poll, even when the value is the same."""
    respond(
        aioclient_mock,
        WEATHER,
        {"json": {"temperature": 20}, "headers": {"ETag": '"v1"'}},
        {"status": HTTPStatus.NOT_MODIFIED},
        {"json": {"temperature": 20}},
    )
    await setup_integration()
    events: list[Event] = []

    @callback
    def listen(event: Event) -> None:
        if event.data["entity_id"] == "sensor.weather":
            events.append(event)

    hass.bus.async_listen(EVENT_STATE_CHANGED, listen)
    for _ in range(3):
        await tick(hass, freezer, 61)
    assert len(aioclient_mock.mock_calls) == 4
    assert len(events) == changes
    assert state(hass) == "20"


# -- stored data ---------------------------------------------------------------------


def test_old_stored_data_loads_with_defaults() -> None:
    """Data stored before these options loads: verified TLS, no templates."""
    config = EndpointConfig.from_data(
        "Weather",
        {
            "url": "/weather",
            "values": [{"key": "t", "name": "T", "value_template": "{{ value }}"}],
        },
    )
    assert config.verify_ssl is True
    assert config.ca_file is None
    assert config.encoding is None
    value = config.values[0]
    assert not value.force_update
    assert value.availability_template is None
    assert value.icon_template is None
    assert value.picture_template is None
    assert EndpointConfig.from_data("Weather", config.to_data()) == config


# -- the action, like rest_command ---------------------------------------------------


async def test_action_templates_content_type_and_content(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """URL, headers and data are templates with the call's variables, as rest_command."""
    aioclient_mock.post(
        f"{API_BASE}/rooms/kitchen/say",
        text="said",
        headers={"Content-Type": "text/plain"},
    )
    response = await call_action(
        hass,
        loaded_entry,
        method="POST",
        url="/rooms/{{ room }}/say",
        headers={"X-Room": "{{ room | upper }}", "content-type": "text/html"},
        data="Hello {{ room }}",
        content_type="text/plain; charset=utf-8",
        variables={"room": "kitchen"},
    )
    _, url, data, headers = aioclient_mock.mock_calls[-1]
    assert url.path == "/v1/rooms/kitchen/say"
    assert data == "Hello kitchen"
    assert headers["X-Room"] == "KITCHEN"
    assert headers["Content-Type"] == "text/plain; charset=utf-8"
    assert headers.getall("Content-Type") == ["text/plain; charset=utf-8"]
    assert response["content"] == "said"
    assert response["text"] == "said"


@pytest.mark.parametrize(
    ("content_type", "body", "content"),
    [
        ("application/json", '{"a": 1}', {"a": 1}),
        ("application/json", "not json", "not json"),
        ("application/problem+json", '{"a": 1}', '{"a": 1}'),
        ("application/xml", "<a>1</a>", "<a>1</a>"),
    ],
)
async def test_action_content_as_rest_command(
    hass: HomeAssistant,
    loaded_entry: MockConfigEntry,
    aioclient_mock: AiohttpClientMocker,
    content_type: str,
    body: str,
    content: Any,
) -> None:
    """``content`` is parsed JSON for application/json, else the text."""
    aioclient_mock.get(
        f"{API_BASE}/thing", text=body, headers={"Content-Type": content_type}
    )
    response = await call_action(hass, loaded_entry, url="/thing")
    assert response["content"] == content


async def test_action_template_error(
    hass: HomeAssistant, loaded_entry: MockConfigEntry
) -> None:
    """A template that fails is the caller's mistake, named."""
    with pytest.raises(ServiceValidationError) as raised:
        await call_action(hass, loaded_entry, url="/x/{{ 1 / 0 }}")
    assert raised.value.translation_key == "invalid_action_template"
    assert raised.value.translation_placeholders["field"] == "url"
