"""An API that echoes our request back must not make us show the token.

Debug endpoints, httpbin-style services and error pages quote the request, the
``Authorization`` header included. Whatever part of such an answer we show (an
entity's state or attributes, a log line, the action's response, the endpoint
preview) carries no secret of the account: keys that look secret are redacted by
their normalised name, the account's tokens and client secret by value.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from .common import ACCOUNT_SECRETS, leaked
from .echo import ECHO_ATTRIBUTES, EchoServers, echo_subentry

pytestmark = pytest.mark.usefixtures("socket_enabled")

# Secrets of the API's own answer, under names that are secret once normalised.
POSTED = {
    "accessToken": "posted-secret-1",
    "Refresh-Token": "posted-secret-2",
    "auth": {"token": "posted-secret-3", "kind": "nested"},
    "API_KEY": "posted-secret-4",
    "plain": "kept",
}


def value(name: str, template: str, **extra: Any) -> dict[str, Any]:
    """A sensor value of an echo endpoint."""
    return {
        "key": name.lower(),
        "name": name,
        "platform": "sensor",
        "value_template": template,
        **extra,
    }


@pytest.fixture
def echo_subentries() -> list[ConfigSubentryData]:
    """Endpoints whose values read the echoed token, in every way we show it."""
    return [
        echo_subentry(
            "Echo",
            [
                # The state would be "Bearer <token>".
                value(
                    "Echo",
                    "{{ value_json.headers.Authorization }}",
                    json_attributes=ECHO_ATTRIBUTES,
                ),
                # The template error quotes the token in the WARNING.
                value("Broken", "{{ value_json.headers.Authorization | float }}"),
                # The raw text holds it too; so do its picture and the error of
                # its availability template.
                value(
                    "Raw",
                    "{{ value[:300] }}",
                    picture="/p.png?auth={{ value_json.headers.Authorization }}",
                    availability="{{ value_json.headers.Authorization | int }}",
                ),
            ],
        ),
        echo_subentry(
            "Posted",
            [value("Posted", "{{ value_json.json.plain }}", json_attributes=["json"])],
            method="POST",
            body=json.dumps(POSTED),
        ),
    ]


def everything_shown(hass: HomeAssistant) -> str:
    """Every state and attribute, as text."""
    return json.dumps(
        [(s.entity_id, s.state, dict(s.attributes)) for s in hass.states.async_all()],
        default=str,
    )


async def test_entities_never_show_the_echoed_token(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    echo_servers: EchoServers,
    echo_entry: MockConfigEntry,
) -> None:
    """States, attributes and the template warning are scrubbed of the token.

    Failed on the old code: the Echo state was "Bearer stored-access-token", the
    dump attribute and the Raw state held it, and the WARNING "Template of
    sensor.echo_broken failed" quoted it.
    """
    # The account was set up (and polled) by the fixture.
    logged = "\n".join(
        r.getMessage() for r in [*caplog.get_records("setup"), *caplog.records]
    )
    echo = hass.states.get("sensor.echo")
    assert echo is not None
    assert echo.state == "Bearer **REDACTED**"
    assert echo.attributes["headers"]["Authorization"] == "**REDACTED**"
    assert echo.attributes["headers"]["Host"].startswith("127.0.0.1:")
    assert "Authorization: **REDACTED**\n" in echo.attributes["dump"]
    assert "Template of sensor.echo_broken failed" in logged
    assert "Availability template of sensor.echo_raw failed" in logged
    raw = hass.states.get("sensor.echo_raw")
    assert raw is not None
    assert raw.attributes["entity_picture"] == "/p.png?auth=Bearer **REDACTED**"
    assert "invalid input 'Bearer **REDACTED**'" in logged
    posted = hass.states.get("sensor.posted")
    assert posted is not None
    assert posted.state == "kept"
    assert posted.attributes["json"] == {
        "accessToken": "**REDACTED**",
        "Refresh-Token": "**REDACTED**",
        "auth": {"token": "**REDACTED**", "kind": "nested"},
        "API_KEY": "**REDACTED**",
        "plain": "kept",
    }
    shown = everything_shown(hass)
    assert not leaked(shown)
    assert "posted-secret" not in shown
    assert not leaked(logged)
    # The API did get the token: it is our answer that leaves it out.
    assert echo_servers.received_by("api")[0].headers["Authorization"] == (
        f"Bearer {ACCOUNT_SECRETS[0]}"
    )


@pytest.mark.parametrize("echo_subentries", [[]])
@pytest.mark.parametrize(
    ("request_data", "shows"),
    [
        ({"url": "/data"}, "json"),
        ({"url": "/text"}, "text"),
        ({"url": "/status/500"}, "json"),
        ({"url": "/data", "method": "POST", "json": POSTED}, "json"),
    ],
)
async def test_action_response_never_shows_the_echoed_token(
    hass: HomeAssistant,
    caplog: pytest.LogCaptureFixture,
    echo_subentries: list[ConfigSubentryData],
    echo_entry: MockConfigEntry,
    request_data: dict[str, Any],
    shows: str,
) -> None:
    """The action's response is redacted like everything else we show.

    Failed on the old code: the echoed Authorization header came back whole.
    """
    caplog.set_level(logging.DEBUG)
    response = await hass.services.async_call(
        DOMAIN,
        "request",
        {"config_entry_id": echo_entry.entry_id, **request_data},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response[shows]
    assert "**REDACTED**" in json.dumps(response)
    assert not leaked(response)
    assert "posted-secret" not in json.dumps(response)
    assert not leaked(caplog.text)


@pytest.mark.parametrize("echo_subentries", [[echo_subentry()]])
async def test_preview_never_shows_the_echoed_token(
    hass: HomeAssistant,
    echo_subentries: list[ConfigSubentryData],
    echo_entry: MockConfigEntry,
) -> None:
    """The preview's response and values list, failing templates included."""
    result = await echo_entry.start_subentry_reconfigure_flow(hass, "endpoint_echo")
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Echo",
            "method": "GET",
            "url": "/data",
            "scan_interval": 60,
            "timeout": 10,
        },
    )
    assert result["step_id"] == "preview"
    placeholders = result["description_placeholders"]
    assert "**REDACTED**" in placeholders["response"]
    assert not leaked(result)
    result = await hass.config_entries.subentries.async_configure(result["flow_id"], {})
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"], {"next_step_id": "add_sensor"}
    )
    result = await hass.config_entries.subentries.async_configure(
        result["flow_id"],
        {
            "name": "Token",
            "value_template": "{{ value_json.headers.Authorization | float }}",
        },
    )
    assert result["step_id"] == "values"
    assert "⚠" in result["description_placeholders"]["values"]
    assert not leaked(result)
    hass.config_entries.subentries.async_abort(result["flow_id"])
