"""Switches, buttons and notify entities against a real API on loopback.

Every command goes through the one request path: its fields rendered, the token
added (refreshed once, retried once after a 401), the origin policy applied before
anything is sent; a failure leaves the entity as it was and raises a translated
error that names no secret.
"""

from __future__ import annotations

import asyncio
from typing import Any

from homeassistant.components.button import DOMAIN as BUTTON_DOMAIN, SERVICE_PRESS
from homeassistant.components.notify import (
    ATTR_MESSAGE,
    ATTR_TITLE,
    DOMAIN as NOTIFY_DOMAIN,
    SERVICE_SEND_MESSAGE,
)
from homeassistant.components.switch import DOMAIN as SWITCH_DOMAIN
from homeassistant.config_entries import ConfigSubentry, ConfigSubentryData
from homeassistant.const import (
    ATTR_ASSUMED_STATE,
    ATTR_ENTITY_ID,
    SERVICE_TURN_OFF,
    SERVICE_TURN_ON,
    STATE_OFF,
    STATE_ON,
    STATE_UNAVAILABLE,
)
from homeassistant.core import (
    Event,
    EventStateChangedData,
    HomeAssistant,
    State,
    callback,
)
from homeassistant.exceptions import HomeAssistantError, ServiceValidationError
from homeassistant.helpers import device_registry as dr, entity_registry as er
from homeassistant.helpers.event import async_track_state_change_event
import pytest
from pytest_homeassistant_custom_component.common import (
    MockConfigEntry,
    mock_restore_cache,
)

from custom_components.oauth2_rest.const import DOMAIN

from .common import ACCESS_TOKEN, CLIENT_SECRET, REFRESH_TOKEN, expire_token, leaked
from .lamp import (
    LampApi,
    async_load_lamp_entry,
    control,
    lamp_endpoint,
    lamp_switch,
    request,
)

pytestmark = pytest.mark.usefixtures("setup_credentials")

SWITCH = "switch.lamp"


async def _load(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    *subentries: ConfigSubentryData,
) -> MockConfigEntry:
    return await async_load_lamp_entry(hass, lamp, token_data, list(subentries))


async def _switch(hass: HomeAssistant, service: str, entity_id: str = SWITCH) -> None:
    await hass.services.async_call(
        SWITCH_DOMAIN, service, {ATTR_ENTITY_ID: entity_id}, blocking=True
    )
    await hass.async_block_till_done()


def _record(hass: HomeAssistant, entity_id: str) -> list[str]:
    """The states ``entity_id`` goes through from now on."""
    states: list[str] = []

    @callback  # in the loop, in order (a plain function would run in the executor)
    def changed(event: Event[EventStateChangedData]) -> None:
        if (new := event.data["new_state"]) is not None:
            states.append(new.state)

    async_track_state_change_event(hass, entity_id, changed)
    return states


async def test_switch_state_from_an_endpoint(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The state is the endpoint's; a command is sent, shown, and confirmed at once."""
    await _load(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    assert hass.states.get(SWITCH).state == STATE_OFF
    polls = len(lamp.requests("GET", "/v1/lamp"))
    assert polls == 1  # the endpoint's; the switch adds no polling

    await _switch(hass, SERVICE_TURN_ON)

    (put,) = lamp.requests("PUT", "/v1/lamp")
    assert put.json == {"on": True}
    assert put.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"
    assert put.headers["Content-Type"] == "application/json"
    # The endpoint carrying the state was polled again at once, not in 60 s.
    assert len(lamp.requests("GET", "/v1/lamp")) == polls + 1
    assert hass.states.get(SWITCH).state == STATE_ON
    assert hass.states.get("binary_sensor.lamp_state_on").state == STATE_ON
    assert ATTR_ASSUMED_STATE not in hass.states.get(SWITCH).attributes

    await _switch(hass, SERVICE_TURN_OFF)
    assert lamp.requests("PUT", "/v1/lamp")[-1].json == {"on": False}
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_polled_state_wins_over_the_one_sent(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The API accepts the command but the lamp stays off: on, then off as polled."""
    await _load(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    states = _record(hass, SWITCH)
    lamp.stuck = True

    await _switch(hass, SERVICE_TURN_ON)

    assert states == [STATE_ON, STATE_OFF]
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_switch_with_its_own_state_request(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Its state request is polled as an endpoint is, and again after a command."""
    await _load(hass, lamp, token_data, lamp_switch("request"))
    assert len(lamp.requests("GET", "/v1/lamp")) == 1
    assert hass.states.get(SWITCH).state == STATE_OFF
    lamp.on = True  # changed elsewhere: the next poll shows it
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await entry.runtime_data.controls["lamp_switch"].async_poll_state()
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_ON

    await _switch(hass, SERVICE_TURN_OFF)
    assert lamp.requests("PUT", "/v1/lamp")[-1].json == {"on": False}
    assert len(lamp.requests("GET", "/v1/lamp")) == 3
    assert hass.states.get(SWITCH).state == STATE_OFF


async def test_own_state_request_failing_makes_the_switch_unavailable(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """As core rest's switch: no state, no switch."""
    subentry = lamp_switch("request")
    subentry["data"]["requests"]["state"]["url"] = "/status/500"
    await _load(hass, lamp, token_data, subentry)
    assert hass.states.get(SWITCH).state == STATE_UNAVAILABLE


async def test_assumed_switch_keeps_what_it_sent_across_restarts(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """No state source: assumed state, restored, changed only by a command that worked."""
    mock_restore_cache(hass, [State(SWITCH, STATE_ON)])
    await _load(hass, lamp, token_data, lamp_switch("none"))
    state = hass.states.get(SWITCH)
    assert state.state == STATE_ON
    assert state.attributes[ATTR_ASSUMED_STATE] is True

    await _switch(hass, SERVICE_TURN_OFF)
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert lamp.requests("GET", "/v1/lamp") == []  # nothing polls

    lamp.token = "another"  # every request refused now: a refresh, then accepted
    await _switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(SWITCH).state == STATE_ON
    assert lamp.issued == 1


@pytest.mark.parametrize("state_source", ["endpoint", "request", "none"])
async def test_failed_command_leaves_the_state_and_says_why(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    state_source: str,
) -> None:
    """A 500 answer: a translated error naming the switch, the state unchanged."""
    subentry = lamp_switch(state_source)
    subentry["data"]["requests"]["turn_on"]["url"] = "/status/500"
    await _load(hass, lamp, token_data, lamp_endpoint(), subentry)
    before = hass.states.get(SWITCH).state
    states = _record(hass, SWITCH)

    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_ON)

    assert err.value.translation_key == "http_error"
    assert err.value.translation_placeholders == {"target": "Lamp", "status": "500"}
    assert str(err.value).startswith("Lamp: the API answered HTTP 500")
    assert not leaked([str(err.value), repr(err.value.__cause__)])
    assert states == []
    assert hass.states.get(SWITCH).state == before


async def test_command_to_an_origin_not_allowed_is_never_sent(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """An absolute URL elsewhere (stored before the options changed): refused first."""
    button = control(
        "Elsewhere",
        "elsewhere",
        "button",
        requests={"press": request("https://other.example/press")},
    )
    await _load(hass, lamp, token_data, button)
    sent = len(lamp.seen)

    with pytest.raises(ServiceValidationError) as err:
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: "button.elsewhere"},
            blocking=True,
        )

    assert err.value.translation_key == "origin_not_allowed"
    assert len(lamp.seen) == sent  # no token asked for, nothing sent


async def test_button_sends_every_request_field_rendered(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Method, path, params, headers and body: templates rendered at each press."""
    hass.states.async_set("input_text.room", "kitchen")
    button = control(
        "Toggle",
        "toggle",
        "button",
        requests={
            "press": request(
                "/lamp/{{ 'toggle' }}",
                body='{"room": "{{ states(\'input_text.room\') }}"}',
                params={"source": "{{ 'ha' }}", "static": "1"},
                headers={"X-Room": "{{ states('input_text.room') }}"},
            )
        },
        timeout=5,
    )
    await _load(hass, lamp, token_data, button)
    assert hass.states.get("button.toggle") is not None

    await hass.services.async_call(
        BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: "button.toggle"}, blocking=True
    )

    (press,) = lamp.requests("POST", "/v1/lamp/toggle")
    assert press.path_qs == "/v1/lamp/toggle?source=ha&static=1"
    assert press.headers["X-Room"] == "kitchen"
    assert press.json == {"room": "kitchen"}
    assert lamp.on is True


async def test_button_template_that_fails_sends_nothing(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """A body template that fails: translated error, nothing sent."""
    button = control(
        "Broken",
        "broken",
        "button",
        requests={"press": request("/lamp/toggle", body="{{ 1 / 0 }}")},
    )
    await _load(hass, lamp, token_data, button)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: "button.broken"},
            blocking=True,
        )
    assert err.value.translation_key == "invalid_body"
    assert lamp.seen == []


@pytest.mark.parametrize(
    ("send_as", "expected_content_type", "in_query"),
    [
        ("json", "application/json", False),
        ("form", "application/x-www-form-urlencoded", False),
        ("query", None, True),
    ],
)
async def test_notify_puts_message_and_title_where_told(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    send_as: str,
    expected_content_type: str | None,
    in_query: bool,
) -> None:
    """As core rest notify: parameter names, extra data fields (templates)."""
    notify = control(
        "Chat",
        "chat",
        "notify",
        requests={"send": request("/messages", params={"channel": "{{ 'home' }}"})},
        send_as=send_as,
        message_param="text",
        title_param="subject",
        data={"priority": "{{ 2 + 1 }}", "summary": "{{ title }}: {{ message }}"},
    )
    await _load(hass, lamp, token_data, notify)
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: "notify.chat", ATTR_MESSAGE: "Door open", ATTR_TITLE: "Alarm"},
        blocking=True,
    )

    (sent,) = lamp.requests("POST", "/v1/messages")
    if expected_content_type is None:
        assert sent.body == ""
    else:
        assert sent.headers["Content-Type"] == expected_content_type
    (message,) = lamp.messages
    priority = 3 if send_as == "json" else "3"
    assert message == {
        "channel": "home",
        "text": "Door open",
        "subject": "Alarm",
        "priority": priority,
        "summary": "Alarm: Door open",
    }
    assert ("text=Door" in sent.path_qs) is in_query


async def test_notify_without_title_parameter(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """No title parameter: the entity offers no title, the message goes alone."""
    notify = control("Chat", "chat", "notify", requests={"send": request("/messages")})
    await _load(hass, lamp, token_data, notify)
    assert hass.states.get("notify.chat").attributes["supported_features"] == 0
    await hass.services.async_call(
        NOTIFY_DOMAIN,
        SERVICE_SEND_MESSAGE,
        {ATTR_ENTITY_ID: "notify.chat", ATTR_MESSAGE: "Hi", ATTR_TITLE: "ignored"},
        blocking=True,
    )
    assert lamp.messages == [{"message": "Hi"}]


async def test_command_during_a_token_refresh_waits_for_it(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """An expired token, a poll and a command at once: one refresh, both succeed."""
    entry = await _load(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    expire_token(hass, entry)
    endpoint = entry.runtime_data.endpoints["lamp_endpoint"]

    await asyncio.gather(endpoint.async_refresh(), _switch(hass, SERVICE_TURN_ON))

    assert lamp.issued == 1
    assert lamp.requests("PUT", "/v1/lamp")[-1].headers["Authorization"] == (
        "Bearer token-1"
    )
    assert endpoint.last_update_success
    assert hass.states.get(SWITCH).state == STATE_ON


async def test_command_refused_token_is_refreshed_once_and_retried(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """A 401 to a token that looked valid: one refresh, the command sent again."""
    await _load(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    lamp.token = "rotated-elsewhere"

    await _switch(hass, SERVICE_TURN_ON)

    puts = lamp.requests("PUT", "/v1/lamp")
    assert [p.headers["Authorization"] for p in puts] == [
        f"Bearer {ACCESS_TOKEN}",
        "Bearer token-1",
    ]
    assert lamp.issued == 1
    assert hass.states.get(SWITCH).state == STATE_ON


async def test_command_with_a_dead_grant_asks_to_relink(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The refresh is refused as a dead grant: reauth, the state unchanged."""
    entry = await _load(hass, lamp, token_data, lamp_switch("none"))
    expire_token(hass, entry)
    lamp.refuse_refresh = True

    with pytest.raises(HomeAssistantError) as err:
        await _switch(hass, SERVICE_TURN_ON)

    assert err.value.translation_key == "reauth_required"
    assert lamp.requests("PUT", "/v1/lamp") == []
    assert hass.states.get(SWITCH).state != STATE_ON
    flows = hass.config_entries.flow.async_progress_by_handler(DOMAIN)
    assert [flow["context"]["source"] for flow in flows] == ["reauth"]


async def test_error_answer_echoing_secrets_is_not_shown(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """The API echoes the Authorization header in a 400: the error holds none of it."""
    button = control(
        "Echo", "echo", "button", requests={"press": request("/status/400")}
    )
    await _load(hass, lamp, token_data, button)
    with pytest.raises(HomeAssistantError) as err:
        await hass.services.async_call(
            BUTTON_DOMAIN, SERVICE_PRESS, {ATTR_ENTITY_ID: "button.echo"}, blocking=True
        )
    shown = [str(err.value), repr(err.value.translation_placeholders)]
    assert not leaked(shown, (ACCESS_TOKEN, REFRESH_TOKEN, CLIENT_SECRET))


async def test_each_control_is_a_device_with_one_entity(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    device_registry: dr.DeviceRegistry,
    entity_registry: er.EntityRegistry,
) -> None:
    """Named after the control; its entity is the device's main entity."""
    entry = await _load(
        hass,
        lamp,
        token_data,
        lamp_switch("none"),
        control("Chat", "chat", "notify", requests={"send": request("/messages")}),
    )
    for subentry_id, entity_id in (("lamp_switch", SWITCH), ("chat", "notify.chat")):
        entity = entity_registry.async_get(entity_id)
        device = device_registry.async_get(entity.device_id)
        assert device is not None
        assert device.identifiers == {(DOMAIN, subentry_id)}
        assert device.name == hass.states.get(entity_id).name
        assert entity.config_subentry_id == subentry_id
        assert entity.unique_id == subentry_id
        assert entity.config_entry_id == entry.entry_id


async def test_controls_added_edited_and_removed_while_running(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    entity_registry: er.EntityRegistry,
) -> None:
    """A control comes and goes alone; a switch follows its endpoint's edits."""
    entry = await _load(hass, lamp, token_data, lamp_endpoint())
    account = entry.runtime_data.account
    subentry = lamp_switch()
    hass.config_entries.async_add_subentry(
        entry,
        ConfigSubentry(
            data=subentry["data"],
            subentry_id=subentry["subentry_id"],
            subentry_type="control",
            title="Lamp",
            unique_id=None,
        ),
    )
    await hass.async_block_till_done()
    assert hass.states.get(SWITCH).state == STATE_OFF
    assert entry.runtime_data.account is account  # nothing was reloaded

    # The endpoint is edited: the switch now reads the new coordinator.
    endpoint_subentry = entry.subentries["lamp_endpoint"]
    hass.config_entries.async_update_subentry(
        entry, endpoint_subentry, data={**endpoint_subentry.data, "scan_interval": 30}
    )
    await hass.async_block_till_done()
    control_now = entry.runtime_data.controls["lamp_switch"]
    assert control_now.state is entry.runtime_data.endpoints["lamp_endpoint"]
    await _switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(SWITCH).state == STATE_ON

    # The switch becomes a button: the switch entity goes, a button comes.
    switch_subentry = entry.subentries["lamp_switch"]
    hass.config_entries.async_update_subentry(
        entry,
        switch_subentry,
        data={"kind": "button", "requests": {"press": request("/lamp/toggle")}},
    )
    await hass.async_block_till_done()
    assert entity_registry.async_get(SWITCH) is None
    assert hass.states.get("button.lamp") is not None

    hass.config_entries.async_remove_subentry(entry, "lamp_switch")
    await hass.async_block_till_done()
    assert hass.states.get("button.lamp") is None
    assert entity_registry.async_get("button.lamp") is None
    assert entry.runtime_data.controls == {}


async def test_switch_whose_endpoint_was_deleted_assumes_its_state(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Its endpoint deleted: it goes on as an assumed switch, and says so."""
    entry = await _load(hass, lamp, token_data, lamp_endpoint(), lamp_switch())
    hass.config_entries.async_remove_subentry(entry, "lamp_endpoint")
    await hass.async_block_till_done()
    state = hass.states.get(SWITCH)
    assert state.attributes[ATTR_ASSUMED_STATE] is True
    await _switch(hass, SERVICE_TURN_ON)
    assert hass.states.get(SWITCH).state == STATE_ON


async def test_failing_state_template_is_logged_once_redacted(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An is_on template that fails: unknown state, one warning, no secret in it."""
    subentry = lamp_switch()
    subentry["data"]["is_on_template"] = (
        "{{ value_json.on / 0 if 'stored-access-token' else 1 }}"
    )
    await _load(hass, lamp, token_data, lamp_endpoint(), subentry)
    assert hass.states.get(SWITCH).state == "unknown"
    entry = hass.config_entries.async_entries(DOMAIN)[0]
    await entry.runtime_data.controls["lamp_switch"].async_poll_state()
    await hass.async_block_till_done()
    warnings = [r for r in caplog.records if "State template of" in r.getMessage()]
    assert len(warnings) == 1
    assert not leaked([r.getMessage() for r in caplog.records])


async def test_unverified_tls_is_logged_once(
    hass: HomeAssistant,
    lamp: LampApi,
    token_data: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """TLS verification off, as configured: said once, at the first command."""
    button = control(
        "Toggle",
        "toggle",
        "button",
        requests={"press": request("/lamp/toggle")},
        verify_ssl=False,
    )
    await _load(hass, lamp, token_data, button)
    for _ in range(2):
        await hass.services.async_call(
            BUTTON_DOMAIN,
            SERVICE_PRESS,
            {ATTR_ENTITY_ID: "button.toggle"},
            blocking=True,
        )
    warnings = [r for r in caplog.records if "verification is off" in r.getMessage()]
    assert len(warnings) == 1


async def test_removing_a_switch_stops_its_state_polls(
    hass: HomeAssistant, lamp: LampApi, token_data: dict[str, Any]
) -> None:
    """Its own state request stops with it: no tick left for it."""
    entry = await _load(hass, lamp, token_data, lamp_switch("request"))
    polls = entry.runtime_data.account.polls
    assert sum(len(members) for members in polls.ticks.values()) == 1
    hass.config_entries.async_remove_subentry(entry, "lamp_switch")
    await hass.async_block_till_done()
    assert polls.ticks == {}
    assert hass.states.get(SWITCH) is None
