"""Sensors: endpoint values and account health."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Generator
from datetime import UTC, datetime, timedelta
import gc
from http import HTTPStatus
import logging
from typing import Any
from unittest.mock import patch

from freezegun.api import FrozenDateTimeFactory
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE, STATE_UNKNOWN, Platform
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    async_fire_time_changed,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from syrupy.assertion import SnapshotAssertion

from custom_components.oauth2_rest.values import _RENDERERS

from .common import (
    API_BASE,
    SNAPSHOT_ENTRY_ID,
    api_requests,
    endpoint_subentry,
    newest_ha_only,
)

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)
WEATHER_URL = f"{API_BASE}/weather"


@pytest.fixture
def entry_id() -> str:
    """A fixed entry id: it is part of unique ids in the snapshots."""
    return SNAPSHOT_ENTRY_ID


@pytest.fixture(autouse=True)
def sensor_only() -> Generator[None]:
    """Load only the sensor platform."""
    with patch("custom_components.oauth2_rest.PLATFORMS", [Platform.SENSOR]):
        yield


@pytest.mark.freeze_time(NOW)
@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize("expires_at", [(NOW + timedelta(hours=1)).timestamp()])
@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint_subentry(),
            endpoint_subentry(
                title="Status",
                url="/status",
                value_template="{{ value_json.status }}",
                unit=None,
                subentry_id="endpoint_status",
            ),
        ]
    ],
)
@newest_ha_only
async def test_sensor_snapshot(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    ha_snapshot: SnapshotAssertion,
) -> None:
    """The endpoint sensors and the account's health sensors."""
    aioclient_mock.get(WEATHER_URL, json={"temperature": 21.5})
    aioclient_mock.get(f"{API_BASE}/status", json={"status": "ok"})
    await setup_integration()
    await snapshot_platform(hass, entity_registry, ha_snapshot, config_entry.entry_id)


@pytest.mark.parametrize(
    ("subentries", "unit", "body", "expected"),
    [
        ([endpoint_subentry(value_template=template, unit=unit)], unit, body, expected)
        for template, unit, body, expected in [
            ("{{ value_json.temperature }}", "°C", {"temperature": 21.5}, "21.5"),
            ("{{ value_json.temperature }}", "°C", {"temperature": 21}, "21"),
            (
                "{{ value_json.temperature }}",
                "°C",
                {"temperature": "n/a"},
                STATE_UNKNOWN,
            ),
            (
                "{{ value_json.temperature }}",
                "°C",
                {"temperature": None},
                STATE_UNKNOWN,
            ),
            ("{{ value_json.temperature }}", None, {"temperature": "mild"}, "mild"),
            # Template errors: unknown, not a crash.
            (
                "{{ value_json.temperature / 0 }}",
                "°C",
                {"temperature": 1},
                STATE_UNKNOWN,
            ),
            ("{{ value_json.a.b.c }}", None, {"temperature": 1}, STATE_UNKNOWN),
        ]
    ],
)
async def test_sensor_value(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    unit: str | None,
    body: dict[str, object],
    expected: str,
) -> None:
    """Rendered values: numeric with a unit, text without; failures unknown."""
    aioclient_mock.get(WEATHER_URL, json=body)
    await setup_integration()
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == expected
    assert state.attributes.get("unit_of_measurement") == unit


@pytest.mark.parametrize(
    "subentries",
    [[endpoint_subentry(value_template="{{ value_json.t / value_json.d }}")]],
)
async def test_template_error_logged_once(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A failing template warns once, then again only after it worked."""
    aioclient_mock.get(WEATHER_URL, json={"t": 1, "d": 0})
    await setup_integration()
    assert hass.states.get("sensor.weather").state == STATE_UNKNOWN

    for _ in range(2):
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert caplog.text.count("Template of sensor.weather failed") == 1

    aioclient_mock.clear_requests()
    aioclient_mock.get(WEATHER_URL, json={"t": 6, "d": 3})
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.weather").state == "2.0"


@pytest.mark.parametrize(
    "subentries", [[endpoint_subentry(value_template="{{ value }}", unit=None)]]
)
async def test_long_text_state_truncated(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Text longer than a state may be is cut to 255 characters, logged once."""
    caplog.set_level(logging.DEBUG, logger="custom_components.oauth2_rest.sensor")
    aioclient_mock.get(WEATHER_URL, text="x" * 300)
    await setup_integration()
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == "x" * 255
    for _ in range(2):
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
    assert caplog.text.count("state cut to 255") == 1
    assert "ERROR" not in caplog.text


async def test_not_modified_keeps_value(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """304: the ETag goes out as If-None-Match and the value stays."""
    aioclient_mock.get(
        WEATHER_URL,
        json={"temperature": 21.5},
        headers={
            "ETag": '"v1"',
            "Last-Modified": "Sat, 14 Mar 2026 11:00:00 GMT",
            "Content-Type": "application/json",
        },
    )
    await setup_integration()
    assert hass.states.get("sensor.weather").state == "21.5"
    first = api_requests(aioclient_mock, "/weather")[0][3]
    assert "If-None-Match" not in first

    aioclient_mock.clear_requests()
    aioclient_mock.get(WEATHER_URL, status=HTTPStatus.NOT_MODIFIED)
    for _ in range(2):
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()

    calls = api_requests(aioclient_mock, "/weather")
    assert len(calls) == 2
    for _, _, _, headers in calls:
        assert headers["If-None-Match"] == '"v1"'
        assert headers["If-Modified-Since"] == "Sat, 14 Mar 2026 11:00:00 GMT"
    state = hass.states.get("sensor.weather")
    assert state.state == "21.5"


async def test_endpoint_error_makes_sensor_unavailable(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An API error: unavailable, then back on the next good poll."""
    aioclient_mock.get(WEATHER_URL, status=HTTPStatus.INTERNAL_SERVER_ERROR)
    await setup_integration()
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE

    aioclient_mock.clear_requests()
    aioclient_mock.get(WEATHER_URL, json={"temperature": 3})
    freezer.tick(timedelta(seconds=61))
    async_fire_time_changed(hass)
    await hass.async_block_till_done()
    assert hass.states.get("sensor.weather").state == "3"


async def test_state_written_only_when_it_changes(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    freezer: FrozenDateTimeFactory,
) -> None:
    """An unchanged answer, or a changed one with the same value, writes no state."""
    aioclient_mock.get(WEATHER_URL, json={"temperature": 21.5, "wind": 1})
    await setup_integration()
    first = hass.states.get("sensor.weather")
    assert first.state == "21.5"
    # Home Assistant updates a State's last_reported in place: keep the value.
    reported = first.last_reported

    async def poll(body: dict[str, Any] | None, status: int = HTTPStatus.OK) -> None:
        aioclient_mock.clear_requests()
        aioclient_mock.get(WEATHER_URL, json=body, status=status)
        freezer.tick(timedelta(seconds=61))
        async_fire_time_changed(hass)
        await hass.async_block_till_done()
        assert len(api_requests(aioclient_mock, "/weather")) == 1

    # The same body: the coordinator keeps its data (not even parsed again) and
    # notifies nobody.
    coordinator = config_entry.runtime_data.endpoints["endpoint_weather"]
    data = coordinator.data
    await poll({"temperature": 21.5, "wind": 1})
    assert coordinator.data is data
    assert hass.states.get("sensor.weather").last_reported == reported
    # Another body, the same value: the entity writes nothing.
    await poll({"temperature": 21.5, "wind": 2})
    assert hass.states.get("sensor.weather").last_reported == reported
    # A new value is written; so is becoming unavailable, and coming back.
    await poll({"temperature": 22, "wind": 2})
    changed = hass.states.get("sensor.weather")
    assert changed.state == "22"
    assert changed.last_reported > reported
    await poll(None, HTTPStatus.INTERNAL_SERVER_ERROR)
    assert hass.states.get("sensor.weather").state == STATE_UNAVAILABLE
    await poll({"temperature": 22, "wind": 2})
    assert hass.states.get("sensor.weather").state == "22"


def typed_subentry(value: str, **value_options: str | None) -> ConfigSubentryData:
    """The weather endpoint with one value of the given classes."""
    subentry = endpoint_subentry(value_template=value, unit=None)
    subentry["data"]["values"][0].update(value_options)  # type: ignore[index]
    return subentry


@pytest.mark.freeze_time(NOW)
@pytest.mark.parametrize(
    ("subentries", "expected"),
    [
        (
            [typed_subentry("2026-03-14T10:00:00+01:00", device_class="timestamp")],
            "2026-03-14T09:00:00+00:00",
        ),
        # A naive timestamp is in Home Assistant's time zone (US/Pacific in tests).
        (
            [typed_subentry("2026-03-14 10:00:00", device_class="timestamp")],
            "2026-03-14T17:00:00+00:00",
        ),
        ([typed_subentry("soon", device_class="timestamp")], STATE_UNKNOWN),
        ([typed_subentry("2026-03-14", device_class="date")], "2026-03-14"),
        ([typed_subentry("42", state_class="measurement")], "42"),
        ([typed_subentry("many", state_class="measurement")], STATE_UNKNOWN),
        ([typed_subentry("3.5", device_class="temperature")], "3.5"),
        ([typed_subentry("  ", device_class="temperature")], STATE_UNKNOWN),
    ],
)
async def test_sensor_device_classes(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    expected: str,
) -> None:
    """Timestamps, dates and numbers typed by the value's classes."""
    aioclient_mock.get(WEATHER_URL, json={})
    await setup_integration()
    assert hass.states.get("sensor.weather").state == expected


def _deep_subentry() -> ConfigSubentryData:
    subentry = endpoint_subentry(value_template="{{ value_json.a is defined }}")
    subentry["data"]["values"][0]["json_attributes"] = ["a"]
    return subentry


@pytest.mark.parametrize("subentries", [[_deep_subentry()]])
async def test_json_nested_thousands_deep(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The entity is added; the value reads no JSON and the log says why.

    Failed on the old code ("Error adding entity": RecursionError in the
    attributes, the entity never added).
    """
    deep = '{"a":' * 5000 + "1" + "}" * 5000
    aioclient_mock.get(
        WEATHER_URL, text=deep, headers={"Content-Type": "application/json"}
    )
    await setup_integration()
    state = hass.states.get("sensor.weather")
    assert state is not None
    assert state.state == STATE_UNKNOWN
    assert "a" not in state.attributes
    assert "Error adding entity" not in caplog.text
    assert (
        "The response of endpoint Weather is not used as JSON: "
        "JSON nested deeper than 100 levels" in caplog.text
    )


@pytest.mark.parametrize(
    "subentries",
    [
        [
            endpoint_subentry(),
            endpoint_subentry(
                title="Weather 2", url="/weather", subentry_id="endpoint_weather_2"
            ),
            endpoint_subentry(
                title="Status",
                url="/weather",
                value_template="{{ value_json.status }}",
                unit=None,
                subentry_id="endpoint_status",
            ),
        ]
    ],
)
async def test_same_templates_share_one_renderer(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Values with the same templates render through one renderer, while in use."""
    aioclient_mock.get(WEATHER_URL, json={"temperature": 20, "status": "ok"})
    await setup_integration()
    assert hass.states.get("sensor.weather").state == "20"
    assert hass.states.get("sensor.weather_2").state == "20"
    assert hass.states.get("sensor.status").state == "ok"
    endpoints = config_entry.runtime_data.endpoints
    weather, weather_2, status = (
        next(iter(endpoints[subentry_id].entities))._renderer  # type: ignore[attr-defined]
        for subentry_id in ("endpoint_weather", "endpoint_weather_2", "endpoint_status")
    )
    assert weather is weather_2
    assert status is not weather
    renderers = hass.data[_RENDERERS]
    assert len(renderers) == 2
    del weather, weather_2, status
    await hass.config_entries.async_unload(config_entry.entry_id)
    gc.collect()
    assert not renderers  # nothing keeps them once no entity uses them
