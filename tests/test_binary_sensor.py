"""Binary sensors and JSON attributes of endpoint values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from unittest.mock import patch

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import (
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
    STATE_UNKNOWN,
    Platform,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    snapshot_platform,
)
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker
from syrupy.assertion import SnapshotAssertion

from .common import API_BASE, SNAPSHOT_ENTRY_ID, newest_ha_only

STATUS = f"{API_BASE}/status"


def status_subentry(values: list[dict[str, Any]]) -> ConfigSubentryData:
    """A Status endpoint with the given values."""
    return ConfigSubentryData(
        data={"url": "/status", "scan_interval": 30, "values": values},
        subentry_id="endpoint_status",
        subentry_type="endpoint",
        title="Status",
        unique_id=None,
    )


@pytest.fixture
def entry_id() -> str:
    """A fixed entry id: it is part of unique ids in the snapshots."""
    return SNAPSHOT_ENTRY_ID


def value(key: str, template: str, **extra: Any) -> dict[str, Any]:
    """A binary_sensor value."""
    return {
        "key": key,
        "name": key.capitalize(),
        "platform": "binary_sensor",
        "value_template": template,
        **extra,
    }


@pytest.mark.parametrize(
    "subentries",
    [
        [
            status_subentry(
                [
                    value(
                        "online",
                        "{{ value_json.online }}",
                        device_class="connectivity",
                        json_attributes=["region", "token", "meta"],
                        json_attributes_path="$.details[0]",
                    ),
                    value("door", "{{ value_json.door }}", device_class="door"),
                    value("broken", "{{ value_json.missing.deeper }}"),
                    value(
                        "hidden",
                        "{{ value_json.online }}",
                        enabled_by_default=False,
                        entity_category="diagnostic",
                    ),
                    {
                        "key": "level",
                        "name": "Level",
                        "value_template": "{{ value_json.level }}",
                        "json_attributes": ["level", "online"],
                    },
                ]
            )
        ]
    ],
)
async def test_binary_sensors_and_attributes(
    hass: HomeAssistant,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
) -> None:
    """States, device classes, attributes without secrets, registry options."""
    aioclient_mock.get(
        STATUS,
        json={
            "online": True,
            "door": "closed",
            "level": 3,
            "details": [
                {
                    "region": "eu",
                    "token": "must-not-show",
                    "meta": {"access_token": "nope", "ok": 1},
                }
            ],
        },
    )
    await setup_integration()

    online = hass.states.get("binary_sensor.status_online")
    assert online is not None
    assert online.state == STATE_ON
    assert online.attributes["device_class"] == "connectivity"
    assert online.attributes["region"] == "eu"
    assert online.attributes["meta"] == {"access_token": "**REDACTED**", "ok": 1}
    assert "token" not in online.attributes
    door = hass.states.get("binary_sensor.status_door")
    assert door is not None
    assert door.state == STATE_OFF
    assert door.attributes["device_class"] == "door"
    assert "region" not in door.attributes
    broken = hass.states.get("binary_sensor.status_broken")
    assert broken is not None
    assert broken.state == STATE_UNKNOWN
    # A value stored without a platform is a sensor (data of earlier versions).
    level = hass.states.get("sensor.status_level")
    assert level is not None
    assert level.state == "3"
    assert level.attributes["online"] is True

    hidden = entity_registry.async_get("binary_sensor.status_hidden")
    assert hidden is not None
    assert hidden.disabled_by is er.RegistryEntryDisabler.INTEGRATION
    assert hidden.entity_category == "diagnostic"
    assert hidden.unique_id == "endpoint_status_hidden"


@pytest.mark.parametrize(
    "subentries",
    [[status_subentry([value("online", "{{ value_json.online }}")])]],
)
async def test_binary_sensor_unavailable_with_endpoint(
    hass: HomeAssistant,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Availability follows the endpoint's coordinator."""
    aioclient_mock.get(STATUS, status=500)
    await setup_integration()
    state = hass.states.get("binary_sensor.status_online")
    assert state is not None
    assert state.state == STATE_UNAVAILABLE


def _typed_subentry() -> ConfigSubentryData:
    values = [
        ("seen", "{{ value_json.seen }}", {"device_class": "timestamp"}),
        ("naive", "{{ value_json.naive }}", {"device_class": "timestamp"}),
        ("day", "{{ value_json.day }}", {"device_class": "date"}),
        ("count", "{{ value_json.count }}", {"state_class": "measurement"}),
        ("ratio", "{{ value_json.ratio }}", {"unit_of_measurement": "%"}),
        ("bad", "{{ value_json.text }}", {"device_class": "power"}),
        ("text", "{{ value_json.text }}", {}),
        ("empty", "{{ value_json.nothing }}", {"unit_of_measurement": "W"}),
    ]
    return ConfigSubentryData(
        data={
            "url": "/typed",
            "values": [
                {"key": k, "name": k, "value_template": t, **extra}
                for k, t, extra in values
            ],
        },
        subentry_id="endpoint_typed",
        subentry_type="endpoint",
        title="Typed",
        unique_id=None,
    )


@pytest.mark.parametrize("subentries", [[_typed_subentry()]])
async def test_sensor_value_types(
    hass: HomeAssistant,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Timestamps, dates and numbers are typed as their classes require."""
    await hass.config.async_set_time_zone("UTC")
    aioclient_mock.get(
        f"{API_BASE}/typed",
        json={
            "seen": "2026-11-01T10:00:00+01:00",
            "naive": "2026-11-01 10:00:00",
            "day": "2026-11-01",
            "count": "7",
            "ratio": " 0.5 ",
            "text": "n/a",
        },
    )
    await setup_integration()
    expected = {
        "sensor.typed_seen": "2026-11-01T09:00:00+00:00",
        "sensor.typed_naive": "2026-11-01T10:00:00+00:00",
        "sensor.typed_day": "2026-11-01",
        "sensor.typed_count": "7",
        "sensor.typed_ratio": "0.5",
        "sensor.typed_bad": STATE_UNKNOWN,
        "sensor.typed_text": "n/a",
        "sensor.typed_empty": STATE_UNKNOWN,
    }
    assert {
        entity_id: hass.states.get(entity_id).state  # type: ignore[union-attr]
        for entity_id in expected
    } == expected


@pytest.mark.parametrize(
    "subentries",
    [[status_subentry([value("online", "{{ value_json.online }}")])]],
)
async def test_no_data_renders_nothing(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
) -> None:
    """Before any response, a value renders to nothing and has no attributes."""
    from custom_components.oauth2_rest.binary_sensor import EndpointValueBinarySensor

    aioclient_mock.get(STATUS, status=500)
    await setup_integration()
    coordinator = config_entry.runtime_data.endpoints["endpoint_status"]
    entity = EndpointValueBinarySensor(coordinator, coordinator.endpoint.values[0])
    assert entity.render() is None
    assert entity.is_on is None
    assert entity.extra_state_attributes is None


@pytest.mark.usefixtures("entity_registry_enabled_by_default")
@pytest.mark.parametrize(
    "subentries",
    [
        [
            status_subentry(
                [
                    value(
                        "online", "{{ value_json.online }}", device_class="connectivity"
                    ),
                    value(
                        "door",
                        "{{ value_json.door }}",
                        device_class="door",
                        entity_category="diagnostic",
                        enabled_by_default=False,
                        json_attributes=["since"],
                    ),
                ]
            )
        ]
    ],
)
@newest_ha_only
async def test_binary_sensor_snapshot(
    hass: HomeAssistant,
    config_entry: MockConfigEntry,
    setup_integration: Callable[[], Awaitable[None]],
    aioclient_mock: AiohttpClientMocker,
    entity_registry: er.EntityRegistry,
    ha_snapshot: SnapshotAssertion,
) -> None:
    """The binary sensors of an endpoint: registry entries and states."""
    aioclient_mock.get(
        STATUS, json={"online": True, "door": "open", "since": "2026-01-01"}
    )
    with patch("custom_components.oauth2_rest.PLATFORMS", [Platform.BINARY_SENSOR]):
        await setup_integration()
    await snapshot_platform(hass, entity_registry, ha_snapshot, config_entry.entry_id)
