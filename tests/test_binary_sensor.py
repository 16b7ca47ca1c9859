"""Binary sensors and JSON attributes of endpoint values."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_OFF, STATE_ON, STATE_UNAVAILABLE, STATE_UNKNOWN
from homeassistant.core import HomeAssistant
from homeassistant.helpers import entity_registry as er
import pytest
from pytest_homeassistant_custom_component.test_util.aiohttp import AiohttpClientMocker

from custom_components.oauth2_rest.binary_sensor import to_on_off
from custom_components.oauth2_rest.entity import extract_json_attributes

from .common import API_BASE

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
    ("rendered", "expected"),
    [
        ("true", True),
        ("On", True),
        ("open", True),
        ("YES", True),
        ("1", True),
        ("2", True),
        ("0", False),
        ("false", False),
        ("closed", False),
        ("", False),
        (None, None),
    ],
)
def test_on_off_like_core_rest(rendered: str | None, expected: bool | None) -> None:
    """Rendered text maps to on/off exactly as core's REST binary sensor does."""
    assert to_on_off(rendered) is expected


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


def test_extract_json_attributes() -> None:
    """Core ``rest``'s rules: path, first list element, dicts only."""
    data = {"a": [{"x": 1, "password": "p"}], "b": "text"}
    assert extract_json_attributes(data, ("x", "password"), "$.a[0]") == {"x": 1}
    assert extract_json_attributes(data, ("b",), None) == {"b": "text"}
    assert extract_json_attributes(data, ("x",), "$.b") == {}
    # As in core: a path matching a list yields its match, not the list items.
    assert extract_json_attributes(data, ("x",), "$.a") == {}
    assert extract_json_attributes(data, ("x",), "$.nothing") == {}
    assert extract_json_attributes(data, ("x",), "$[?(@.x ==") == {}
    assert extract_json_attributes(None, ("x",), None) == {}
    assert extract_json_attributes(data, (), None) == {}
