"""Properties of the endpoint subentry flow and the action over any input.

Against a real API on 127.0.0.1 that echoes every request (tests/echo.py), with a
foreign origin next to it. For every example: no unhandled exception, no request
with the token outside the allowed origin, no account secret in the log or what
the flow or the action gives back, and the account still loaded with its token.
"""

from __future__ import annotations

import logging
from typing import Any

from homeassistant.config_entries import ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType, InvalidData
from homeassistant.exceptions import HomeAssistantError
from hypothesis import given, strategies as st
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry
import voluptuous as vol

from custom_components.oauth2_rest.const import DOMAIN

from ..common import ACCESS_TOKEN, leaked, start_endpoint_flow
from ..echo import EchoServers
from .common import count, deep_json, json_values, nasty_text

TEMPLATES = [
    "{{ value_json.headers.Authorization }}",
    "{{ value_json.headers.Authorization | int }}",
    "{{ value_json.headers.Authorization / 0 }}",
    "{{ value_json.headers['Authorization'] + 1 }}",
    "{{ value_json.headers }}",
    "{{ value }}",
    "{{ value | from_json }}",
    "{{ value_json.nope.deeper }}",
    "{% for x in %}",
    "{{ states('sensor.x') }}",
    "{{ 1 / 0 }}",
]


def urls(servers: EchoServers) -> st.SearchStrategy[str]:
    """URLs and paths a user may enter, aimed at the echo API or elsewhere."""
    return (
        st.sampled_from(
            [
                "/data",
                "/status/500",
                "/status/400",
                "/status/401",
                "/status/403",
                "/status/429",
                "/text",
                f"/redirect?to={servers.other}/x",
                f"/redirect?to={servers.api}/v1/data",
                "/redirect?to=file:///etc/passwd",
                f"{servers.api}/v1/data",
                f"{servers.other}/steal",
                servers.api.replace("http://", "http://u:p@") + "/v1/data",
                servers.api.removeprefix("http:") + "/v1/data",
                "javascript:alert(1)",
                "",
            ]
        )
        | nasty_text
    )


def check_invariants(
    hass: HomeAssistant,
    entry: MockConfigEntry,
    servers: EchoServers,
    caplog: pytest.LogCaptureFixture,
    *outputs: Any,
) -> None:
    """What must hold after any example."""
    for received in servers.received_by("other"):
        assert "Authorization" not in received.headers, received
    assert entry.state is ConfigEntryState.LOADED
    assert entry.data["token"]["access_token"] == ACCESS_TOKEN
    assert not leaked(caplog.text)
    for output in outputs:
        assert not leaked(output), output


@given(data=st.data())
async def test_endpoint_flow_inputs(
    hass: HomeAssistant,
    echo_entry: MockConfigEntry,
    echo_servers: EchoServers,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    """Request step, preview and send: only translated form errors or a preview."""
    count("endpoint_flow")
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    echo_servers.seen.clear()
    user_input = {
        "name": data.draw(st.just("Probe") | nasty_text),
        "method": data.draw(st.sampled_from(["GET", "POST", "PUT", "DELETE", "TRACE"])),
        "url": data.draw(urls(echo_servers)),
        "params": data.draw(st.sampled_from(["", "a=1\nb = 2", "x"]) | nasty_text),
        "headers": data.draw(
            st.sampled_from(["", "Accept: application/json", "X-T: a\x00b"])
            | nasty_text
        ),
        "body": data.draw(
            st.sampled_from(["", '{"a": 1}', "{{ 1 / 0 }}", "{% if %}"])
            | nasty_text
            | deep_json
        ),
        "scan_interval": data.draw(st.sampled_from([60, 10, 5, 10**9])),
        "timeout": data.draw(st.sampled_from([10, 1, 0, 301])),
    }
    result = await start_endpoint_flow(hass, echo_entry)
    flow_id = result["flow_id"]
    outputs: list[Any] = []
    try:
        result = await hass.config_entries.subentries.async_configure(
            flow_id, user_input
        )
        outputs.append(result)
        if result["type"] is FlowResultType.FORM and result["step_id"] == "preview":
            if user_input["method"] != "GET":
                result = await hass.config_entries.subentries.async_configure(
                    flow_id, {"send": True}
                )
                outputs.append(result)
            assert result["step_id"] == "preview"
            # On to a value whose template reads the echoed request.
            result = await hass.config_entries.subentries.async_configure(flow_id, {})
            result = await hass.config_entries.subentries.async_configure(
                flow_id, {"next_step_id": "add_sensor"}
            )
            result = await hass.config_entries.subentries.async_configure(
                flow_id,
                {
                    "name": "Value",
                    "value_template": data.draw(
                        st.sampled_from(TEMPLATES) | nasty_text
                    ),
                    "json_attributes": data.draw(
                        st.lists(st.sampled_from(["headers", "dump", "json", "x"]))
                    ),
                },
            )
            outputs.append(result)
        else:
            assert result["step_id"] == "request"
            assert result["errors"]
    except InvalidData:
        pass  # the form's own schema refused it (out of range, no such method)
    finally:
        hass.config_entries.subentries.async_abort(flow_id)
    check_invariants(hass, echo_entry, echo_servers, caplog, *outputs)


def string_maps() -> st.SearchStrategy[Any]:
    """Params or headers: mostly string maps, sometimes anything."""
    return (
        st.dictionaries(nasty_text, nasty_text | st.integers(), max_size=3)
        | st.just({"X-Api-Key": "k", "Accept": "application/json"})
        | json_values
    )


@given(data=st.data())
async def test_action_inputs(
    hass: HomeAssistant,
    echo_entry: MockConfigEntry,
    echo_servers: EchoServers,
    caplog: pytest.LogCaptureFixture,
    data: st.DataObject,
) -> None:
    """The action answers or raises a translated/validation error; nothing leaks."""
    count("action")
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    echo_servers.seen.clear()
    call: dict[str, Any] = {
        "config_entry_id": data.draw(
            st.just(echo_entry.entry_id) | st.sampled_from(["", "nope"])
        ),
        "url": data.draw(urls(echo_servers)),
    }
    optional = {
        "method": st.sampled_from(["GET", "get", "HEAD", "POST", "PATCH", "TRACE"]),
        "params": string_maps(),
        "headers": string_maps(),
        "json": json_values,
        "data": nasty_text | deep_json,
        "timeout": st.sampled_from([1, 30, 0, 1000]) | json_values,
    }
    for key, strategy in optional.items():
        if data.draw(st.booleans()):
            call[key] = data.draw(strategy)
    outputs: list[Any] = []
    try:
        outputs.append(
            await hass.services.async_call(
                DOMAIN, "request", call, blocking=True, return_response=True
            )
        )
    except (HomeAssistantError, vol.Invalid) as err:
        outputs.append(str(err))
        outputs.append(getattr(err, "translation_placeholders", None))
    check_invariants(hass, echo_entry, echo_servers, caplog, *outputs)
