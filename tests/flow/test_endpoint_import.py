"""The endpoint flow's "Import from core RESTful YAML", against a real API on loopback.

Pasted YAML → a summary (created, refused, dropped, without equivalent, adjusted,
not valid, references) → one endpoint reviewed through the preview, or
everything created at once (endpoints and, for switches, notifiers and
rest_commands, controls) while the account keeps running.
"""

from __future__ import annotations

from typing import Any

from homeassistant.components.notify import (
    ATTR_MESSAGE,
    ATTR_TITLE,
    DOMAIN as NOTIFY_DOMAIN,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.config_entries import SOURCE_USER
from homeassistant.const import ATTR_ENTITY_ID
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..lamp import LampApi, async_load_lamp_entry

pytestmark = pytest.mark.usefixtures("setup_credentials")


async def _import_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "endpoint"), context={"source": SOURCE_USER}
    )
    return await _next(hass, result, {"next_step_id": "import_yaml"})


async def _next(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


def _yaml(origin: str) -> str:
    return f"""
rest:
  - resource: {origin}/v1/lamp
    scan_interval: 45
    headers:
      Authorization: !secret lamp_token
      Accept: application/json
    ssl_cipher_list: intermediate
    binary_sensor:
      - name: Lamp on
        value_template: "{{{{ value_json.on }}}}"
    sensor:
      - name: Brightness
        value_template: "{{{{ value_json.brightness }}}}"
        unit_of_measurement: "%"
switch:
  - platform: rest
    name: Lamp
    resource: {origin}/v1/lamp
    method: put
    body_on: '{{"on": true}}'
    body_off: '{{"on": false}}'
    is_on_template: "{{{{ value_json.on }}}}"
notify:
  - platform: rest
    name: Lamp messages
    resource: {origin}/v1/messages
    method: POST_JSON
    title_param_name: subject
    target_param_name: to
    data:
      priority: 3
    data_template:
      shout: "{{{{ message | upper }}}}"
rest_command:
  toggle_lamp:
    url: {origin}/v1/lamp/toggle
    method: post
  elsewhere:
    url: https://other.example/hook
    method: post
"""


async def test_import_everything_at_once(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """A rest resource, a switch, a notifier and commands: a summary, all created."""
    entry = await async_load_lamp_entry(hass, lamp, token_data, [])
    result = await _import_form(hass, entry)
    assert result["step_id"] == "import_yaml"
    result = await _next(hass, result, {"yaml": _yaml(lamp.origin)})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "import_summary"
    assert result["menu_options"] == ["import_create", "import_yaml"]
    shown = result["description_placeholders"]
    assert "**Lamp**" in shown["created"]
    assert "**Lamp messages** (notify)" in shown["created"]
    assert "notify[0].target_param_name" in shown["unsupported"]
    assert "toggle_lamp" in shown["created"] or "toggle" in shown["created"]
    assert "elsewhere" in shown["refused"]
    assert "`origin_not_allowed`" in shown["refused"]
    assert "ssl_cipher_list" in shown["unsupported"]
    assert "Authorization" in shown["dropped"]
    assert "`!secret lamp_token`" in shown["secrets"]
    assert lamp.seen == []  # nothing sent, nothing created yet
    assert not entry.subentries

    result = await _next(hass, result, {"next_step_id": "import_create"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "imported"
    assert result["description_placeholders"] == {"endpoints": "1", "controls": "3"}
    await hass.async_block_till_done()
    kinds = sorted(
        (sub.subentry_type, sub.data.get("kind", ""))
        for sub in entry.subentries.values()
    )
    assert kinds == [
        ("control", "button"),
        ("control", "notify"),
        ("control", "switch"),
        ("endpoint", ""),
    ]
    (lamp_on,) = [
        state
        for state in hass.states.async_all("binary_sensor")
        if state.name.endswith("Lamp on")
    ]
    assert lamp_on.state == "off"  # polled from the lamp
    assert hass.states.get("switch.lamp").state == "off"
    endpoint = next(
        sub for sub in entry.subentries.values() if sub.subentry_type == "endpoint"
    )
    assert endpoint.data["scan_interval"] == 45
    assert "Authorization" not in endpoint.data["headers"]
    assert endpoint.data["headers"]["Accept"] == "application/json"
    # The notifier sends as core's POST_JSON did: a JSON body, fields typed.
    (notifier,) = hass.states.async_all(NOTIFY_DOMAIN)
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {
            ATTR_ENTITY_ID: notifier.entity_id,
            ATTR_MESSAGE: "Door open",
            ATTR_TITLE: "Alarm",
        },
        blocking=True,
    )
    (sent,) = lamp.requests("POST", "/v1/messages")
    assert sent.headers["Content-Type"].startswith("application/json")
    assert lamp.messages == [
        {
            "message": "Door open",
            "subject": "Alarm",
            "priority": 3,
            "shout": "DOOR OPEN",
        }
    ]


async def test_import_one_endpoint_through_the_preview(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """One sensor: reviewed with real values before it is saved."""
    entry = await async_load_lamp_entry(hass, lamp, token_data, [])
    result = await _import_form(hass, entry)
    result = await _next(
        hass,
        result,
        {
            "yaml": f"""
sensor:
  - platform: rest
    name: Brightness
    resource: {lamp.origin}/v1/lamp
    value_template: "{{{{ value_json.brightness }}}}"
    unique_id: brightness_1
"""
        },
    )
    assert result["menu_options"] == ["import_review", "import_create", "import_yaml"]
    assert "unique_id" in result["description_placeholders"]["dropped"]
    result = await _next(hass, result, {"next_step_id": "import_review"})
    assert result["step_id"] == "preview"
    assert result["description_placeholders"]["status"] == "200"
    result = await _next(hass, result, {})
    result = await _next(hass, result, {"next_step_id": "finish"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Brightness"
    assert [v["key"] for v in result["data"]["values"]] == ["brightness"]


@pytest.mark.parametrize(
    ("text", "error", "placeholder"),
    [
        ("rest:\n  - resource: [\n  - x: y\n", "yaml_invalid", ("line", "3")),
        ("just: text", "yaml_nothing_to_import", None),
        ("x" * 100_001, "yaml_too_large", ("max_chars", "100000")),
    ],
)
async def test_import_errors(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    text: str,
    error: str,
    placeholder: tuple[str, str] | None,
) -> None:
    """Invalid, empty of anything to import, too large: a form error; nothing made."""
    entry = await async_load_lamp_entry(hass, lamp, token_data, [])
    result = await _import_form(hass, entry)
    result = await _next(hass, result, {"yaml": text})
    assert result["step_id"] == "import_yaml"
    assert result["errors"] == {"base": error}
    if placeholder:
        key, value = placeholder
        assert result["description_placeholders"][key] == value
    assert not entry.subentries


async def test_import_where_everything_is_refused(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Every URL on another origin: only pasting again is offered."""
    entry = await async_load_lamp_entry(hass, lamp, token_data, [])
    result = await _import_form(hass, entry)
    result = await _next(
        hass,
        result,
        {"yaml": "rest_command:\n  hook:\n    url: https://other.example/x\n"},
    )
    assert result["menu_options"] == ["import_yaml"]
    result = await _next(hass, result, {"next_step_id": "import_yaml"})
    assert result["step_id"] == "import_yaml"
