"""The control subentry flow: switches, buttons and notify entities, against a real API.

Every step and error path: the kind menu, each kind's form, each request form
(checked as an endpoint's request is), a switch's three state sources, the test
step (sent only on demand, answer redacted), save, reconfigure.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_RECONFIGURE, SOURCE_USER
from homeassistant.const import STATE_ON
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from ..common import ACCESS_TOKEN, expire_token, leaked
from ..lamp import LampApi, async_load_lamp_entry, lamp_endpoint, lamp_switch

pytestmark = pytest.mark.usefixtures("setup_credentials")

LAMP_ON = {"method": "PUT", "url": "/lamp", "body": '{"on": true}'}
LAMP_OFF = {"method": "PUT", "url": "/lamp", "body": '{"on": false}'}
IS_ON = "{{ value_json.on }}"


async def _entry(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any], *subentries: Any
) -> MockConfigEntry:
    return await async_load_lamp_entry(hass, lamp, token_data, list(subentries))


async def _start(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    return await hass.config_entries.subentries.async_init(
        (entry.entry_id, "control"), context={"source": SOURCE_USER}
    )


async def _next(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


async def _menu(hass: HomeAssistant, result: Any, option: str) -> Any:
    assert result["type"] is FlowResultType.MENU, result
    assert option in result["menu_options"]
    return await _next(hass, result, {"next_step_id": option})


async def _switch_up_to_state(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await _menu(hass, await _start(hass, entry), "switch")
    assert result["step_id"] == "switch"
    result = await _next(hass, result, {"name": "Lamp", "timeout": 10})
    assert result["step_id"] == "turn_on"
    result = await _next(hass, result, LAMP_ON)
    assert result["step_id"] == "turn_off"
    result = await _next(hass, result, LAMP_OFF)
    assert result["step_id"] == "state"
    return result


async def test_add_a_switch_reading_an_endpoint(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Kind → name → on → off → state from the endpoint → test (sent) → saved."""
    entry = await _entry(hass, lamp, token_data, lamp_endpoint())
    result = await _switch_up_to_state(hass, entry)
    assert result["menu_options"] == ["state_endpoint", "state_request", "state_none"]
    result = await _menu(hass, result, "state_endpoint")
    result = await _next(
        hass, result, {"state_endpoint": "lamp_endpoint", "is_on_template": IS_ON}
    )
    assert result["step_id"] == "test"
    assert result["description_placeholders"]["state"] == "`off`"
    assert lamp.requests("PUT", "/v1/lamp") == []  # nothing sent until asked

    result = await _next(hass, result, {"test": "turn_on"})
    assert result["step_id"] == "test"
    assert result["errors"] is None
    assert lamp.requests("PUT", "/v1/lamp")[0].json == {"on": True}
    placeholders = result["description_placeholders"]
    assert placeholders["status"] == "200"
    assert placeholders["sent"] == "turn_on"
    assert placeholders["state"] == "`on`"  # its endpoint polled again at once
    assert '"on": true' in placeholders["response"]

    result = await _next(hass, result, {"test": "nothing"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Lamp"
    data = result["data"]
    assert data["kind"] == "switch"
    assert data["state_source"] == "endpoint"
    assert data["state_endpoint"] == "lamp_endpoint"
    assert set(data["requests"]) == {"turn_on", "turn_off"}
    assert data["requests"]["turn_on"]["body"] == '{"on": true}'
    assert data["timeout"] == 10
    await hass.async_block_till_done()
    assert hass.states.get("switch.lamp").state == STATE_ON  # the lamp the test lit


async def test_add_a_switch_with_its_own_state_request(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """No endpoint yet: the menu offers its own request or none."""
    entry = await _entry(hass, lamp, token_data)
    result = await _switch_up_to_state(hass, entry)
    assert result["menu_options"] == ["state_request", "state_none"]
    result = await _menu(hass, result, "state_request")
    with pytest.raises(InvalidData):  # the template selector checks the syntax
        await _next(
            hass,
            result,
            {"url": "/lamp", "is_on_template": "{{ oops", "scan_interval": 30},
        )
    bad = await _next(
        hass, result, {"url": "ftp://x", "is_on_template": IS_ON, "scan_interval": 30}
    )
    assert bad["errors"] == {"url": "invalid_url"}
    result = await _next(
        hass, bad, {"url": "/lamp", "is_on_template": IS_ON, "scan_interval": 30}
    )
    assert result["step_id"] == "test"
    assert result["description_placeholders"]["state"] == "`off`"  # a GET, sent
    result = await _next(hass, result, {"test": "nothing"})
    data = result["data"]
    assert data["state_source"] == "request"
    assert data["requests"]["state"]["method"] == "GET"
    assert data["scan_interval"] == 30


async def test_add_an_assumed_switch(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """No state source: saved as such."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _switch_up_to_state(hass, entry), "state_none")
    assert result["step_id"] == "test"
    assert result["description_placeholders"]["state"] == "—"
    result = await _next(hass, result, {"test": "nothing"})
    assert result["data"]["state_source"] == "none"
    assert result["data"]["is_on_template"] is None


async def test_add_a_button_and_test_it(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Kind → name → press → test → saved; the answer shown is redacted."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(hass, result, {"name": "Echo", "timeout": 30})
    assert result["step_id"] == "press"
    result = await _next(hass, result, {"method": "POST", "url": "/status/400"})
    result = await _next(hass, result, {"test": "press"})
    placeholders = result["description_placeholders"]
    assert placeholders["status"] == "400"  # error statuses are shown, not raised
    assert "Authorization" in placeholders["response"]  # the API echoed it…
    assert not leaked(placeholders)  # …redacted
    assert ACCESS_TOKEN not in str(result)
    result = await _next(hass, result, {"test": "nothing"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["requests"] == {
        "press": {
            "method": "POST",
            "url": "/status/400",
            "params": {},
            "headers": {},
            "body": None,
        }
    }


async def test_add_a_notify_entity_and_send_a_test_message(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Where the message goes, the request, a test message sent."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "notify")
    assert result["step_id"] == "notify"
    bad = await _next(
        hass,
        result,
        {
            "name": "Chat",
            "send_as": "form",
            "message_param": "text",
            "data": "no equals sign",
            "timeout": 30,
        },
    )
    assert bad["errors"] == {"data": "invalid_params"}
    bad = await _next(
        hass,
        bad,
        {
            "name": "Chat",
            "send_as": "form",
            "message_param": "text",
            "data": "x={{ oops",
            "timeout": 30,
        },
    )
    assert bad["errors"] == {"data": "invalid_template"}
    result = await _next(
        hass,
        bad,
        {
            "name": "Chat",
            "send_as": "form",
            "message_param": "text",
            "title_param": "subject",
            "data": "priority={{ 1 + 1 }}",
            "timeout": 30,
        },
    )
    assert result["step_id"] == "send"
    result = await _next(hass, result, {"method": "POST", "url": "/messages"})
    assert result["step_id"] == "test"
    result = await _next(
        hass, result, {"test": "send", "message": "Hello", "title": "Test"}
    )
    assert result["description_placeholders"]["status"] == "201"
    assert lamp.messages == [{"text": "Hello", "subject": "Test", "priority": "2"}]
    result = await _next(hass, result, {"test": "nothing"})
    data = result["data"]
    assert (data["send_as"], data["message_param"], data["title_param"]) == (
        "form",
        "text",
        "subject",
    )
    assert data["data"] == {"priority": "{{ 1 + 1 }}"}


@pytest.mark.parametrize(
    ("user_input", "errors"),
    [
        ({"url": "https://other.example/x"}, {"url": "origin_not_allowed"}),
        ({"url": "ftp://x"}, {"url": "invalid_url"}),
        ({"url": "/{{ oops"}, {"url": "invalid_template"}),
        (
            {"url": "/x", "headers": "Authorization: Bearer x"},
            {"headers": "owned_header"},
        ),
        ({"url": "/x", "headers": "no colon"}, {"headers": "invalid_headers"}),
        ({"url": "/x", "params": "no equals"}, {"params": "invalid_params"}),
        ({"url": "/x", "body": "{{ 1 / 0 }}"}, {"body": "invalid_body"}),
    ],
)
async def test_request_form_errors(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    user_input: dict[str, Any],
    errors: dict[str, str],
) -> None:
    """A command's request is checked as an endpoint's: same rule, same errors."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(hass, result, {"name": "B", "timeout": 30})
    result = await _next(hass, result, {"method": "POST", **user_input})
    assert result["step_id"] == "press"
    assert result["errors"] == errors


async def test_name_and_ca_file_errors(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """An empty name, an unusable CA file."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(
        hass, result, {"name": " ", "timeout": 30, "ca_file": "/nonexistent.pem"}
    )
    assert result["errors"] == {"name": "name_required", "ca_file": "invalid_ca_file"}


async def test_tls_off_asks_first(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Verification off: a confirmation, from which one may go back or on."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(
        hass, result, {"name": "B", "timeout": 30, "verify_ssl": False}
    )
    assert result["step_id"] == "insecure"
    assert result["menu_options"] == ["requests", "button"]
    back = await _menu(hass, result, "button")
    assert back["step_id"] == "button"
    result = await _next(hass, back, {"name": "B", "timeout": 30, "verify_ssl": False})
    result = await _menu(hass, result, "requests")
    assert result["step_id"] == "press"


async def test_test_step_shows_a_failure_as_an_error(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """A request that cannot be sent (its template fails) is a form error."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(hass, result, {"name": "B", "timeout": 30})
    result = await _next(
        hass, result, {"method": "POST", "url": "/x/{{ states('sensor.gone') + 1 }}"}
    )
    if result["step_id"] == "press":  # rendering failed at once: a form error
        assert result["errors"] == {"url": "invalid_template"}
        return
    result = await _next(hass, result, {"test": "press"})
    assert result["errors"] == {"base": "invalid_request_template"}


async def test_state_endpoint_gone_meanwhile(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The endpoint picked was deleted while the form was open."""
    entry = await _entry(hass, lamp, token_data, lamp_endpoint())
    result = await _menu(hass, await _switch_up_to_state(hass, entry), "state_endpoint")
    hass.config_entries.async_remove_subentry(entry, "lamp_endpoint")
    await hass.async_block_till_done()
    result = await _next(
        hass, result, {"state_endpoint": "lamp_endpoint", "is_on_template": IS_ON}
    )
    assert result["errors"] == {"state_endpoint": "endpoint_gone"}


async def test_reconfigure_a_switch(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Pre-filled forms; the state source changed; the switch follows."""
    entry = await _entry(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "control"),
        context={"source": SOURCE_RECONFIGURE, "subentry_id": "lamp_switch"},
    )
    assert result["step_id"] == "switch"
    result = await _next(hass, result, {"name": "Lamp", "timeout": 30})
    assert result["step_id"] == "turn_on"
    result = await _next(hass, result, LAMP_ON)
    result = await _next(hass, result, LAMP_OFF)
    result = await _menu(hass, result, "state_none")
    result = await _next(hass, result, {"test": "nothing"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "reconfigure_successful"
    await hass.async_block_till_done()
    subentry = entry.subentries["lamp_switch"]
    assert subentry.data["state_source"] == "none"
    assert subentry.data["state_endpoint"] is None
    assert hass.states.get("switch.lamp").attributes["assumed_state"] is True


async def test_entry_not_loaded(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The account is not running: nothing can be tested, the flow ends."""
    entry = await _entry(hass, lamp, token_data)
    result = await _menu(hass, await _start(hass, entry), "button")
    result = await _next(hass, result, {"name": "B", "timeout": 30})
    await hass.config_entries.async_unload(entry.entry_id)
    result = await _next(hass, result, {"method": "POST", "url": "/x"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_test_step_with_a_dead_grant_and_states_not_known(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The test request fails (dead grant): a form error; the state cannot be read."""
    entry = await _entry(hass, lamp, token_data)
    result = await _switch_up_to_state(hass, entry)
    result = await _menu(hass, result, "state_request")
    expire_token(hass, entry)
    lamp.refuse_refresh = True
    result = await _next(
        hass, result, {"url": "/lamp", "is_on_template": IS_ON, "scan_interval": 30}
    )
    assert result["description_placeholders"]["state"] == "`⚠ reauth_required`"
    result = await _next(hass, result, {"test": "turn_on"})
    assert result["errors"] == {"base": "reauth_required"}
    assert lamp.requests("PUT", "/v1/lamp") == []


async def test_test_step_state_of_an_endpoint_without_an_answer_and_a_bad_template(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """No answer yet: a dash; a template that fails: its error, not a crash."""
    endpoint = lamp_endpoint()
    endpoint["data"]["url"] = "/status/500"
    entry = await _entry(hass, lamp, token_data, endpoint, lamp_endpoint_ok())
    result = await _menu(hass, await _switch_up_to_state(hass, entry), "state_endpoint")
    result = await _next(
        hass, result, {"state_endpoint": "lamp_endpoint", "is_on_template": IS_ON}
    )
    assert result["description_placeholders"]["state"] == "—"
    hass.config_entries.subentries.async_abort(result["flow_id"])

    result = await _menu(hass, await _switch_up_to_state(hass, entry), "state_endpoint")
    result = await _next(
        hass, result, {"state_endpoint": "lamp_ok", "is_on_template": "{{ 1 / 0 }}"}
    )
    assert result["description_placeholders"]["state"].startswith("`⚠")


def lamp_endpoint_ok() -> Any:
    """A second endpoint reading the lamp, which answers."""
    subentry = lamp_endpoint()
    return {**subentry, "subentry_id": "lamp_ok", "title": "Lamp ok"}
