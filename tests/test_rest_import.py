"""Import from core ``rest``/``rest_command`` YAML: the README's table row by row.

Every row of the README's "Coming from core ``rest`` / ``rest_command``" table is
a case of :func:`test_readme_row` (a row without a case, or a case without its
row, fails :func:`test_every_row_has_a_case`); then the documented examples of
home-assistant.io, several resources at once, references never resolved (no
file opened, no variable read), and the typed errors.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
import json
from pathlib import Path
import sys
import textwrap
import threading
from typing import Any

from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers.template import Template
from homeassistant.util.yaml import parse_yaml
import pytest

from custom_components.oauth2_rest.control import (
    KIND_BUTTON,
    KIND_NOTIFY,
    KIND_SWITCH,
    PRESS,
    SEND,
    SEND_AS_FORM,
    SEND_AS_JSON,
    SEND_AS_QUERY,
    STATE,
    STATE_FROM_REQUEST,
    STATE_UNKNOWN,
    TURN_OFF,
    TURN_ON,
    ControlConfig,
    RequestConfig,
)
from custom_components.oauth2_rest.controls import Commands
from custom_components.oauth2_rest.endpoint import (
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    EndpointConfig,
)
from custom_components.oauth2_rest.request import render_body
from custom_components.oauth2_rest.rest_import import (
    COMMAND_FIELDS,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_ENTRIES,
    MAX_VALUES,
    MAX_YAML_CHARS,
    NOTIFY_FIELDS,
    ROOT,
    SWITCH_FIELDS,
    ImportedEndpoint,
    ImportResult,
    RestImportError,
    command_control,
    notify_control,
    parse_rest_yaml,
    switch_control,
)

README = Path(__file__).parents[1] / "README.md"
TABLE_HEADING = "## Coming from core `rest` / `rest_command`"


def parse(text: str) -> ImportResult:
    """Import ``text`` (dedented)."""
    return parse_rest_yaml(textwrap.dedent(text))


def only_endpoint(result: ImportResult) -> ImportedEndpoint:
    """The one endpoint of ``result``."""
    assert len(result.endpoints) == 1, result.endpoints
    return result.endpoints[0]


def notes(result: ImportResult) -> set[tuple[str, str, str]]:
    """Each note as (kind, path, reason)."""
    return {(note.kind.value, note.path, note.reason) for note in result.notes}


def assert_stored_shape(result: ImportResult) -> None:
    """Endpoints hold exactly the stored shape, in plain JSON types."""

    def plain(value: Any) -> None:
        assert type(value) in (str, int, float, bool, type(None), list, dict), value
        if isinstance(value, dict):
            for key, item in value.items():
                assert type(key) is str
                plain(item)
        elif isinstance(value, list):
            for item in value:
                plain(item)

    for endpoint in result.endpoints:
        plain(endpoint.data)
        assert json.loads(json.dumps(endpoint.data)) == endpoint.data
        config = EndpointConfig.from_data(endpoint.name, endpoint.data)
        assert config.to_data() == endpoint.data
        assert len({value.key for value in config.values}) == len(config.values)
    for candidate in result.switches:
        assert tuple(candidate) == SWITCH_FIELDS
        plain(candidate)
    for candidate in result.notifications:
        assert tuple(candidate) == NOTIFY_FIELDS
        plain(candidate)
    for candidate in result.commands:
        assert tuple(candidate) == COMMAND_FIELDS
        plain(candidate)
    # Each candidate is a control in the stored shape.
    for control in controls(result):
        assert ControlConfig.from_data(control.name, control.to_data()) == control
        assert json.loads(json.dumps(control.to_data())) == control.to_data()


def controls(result: ImportResult) -> list[ControlConfig]:
    """The controls the candidates of ``result`` make, switches first."""
    return [
        *(switch_control(c) for c in result.switches),
        *(notify_control(c) for c in result.notifications),
        *(command_control(c) for c in result.commands),
    ]


# -- the README's table, row by row ---------------------------------------------------


def readme_rows() -> list[tuple[str, str]]:
    """The table's rows as (section, first cell); rows of ours only (—) left out."""
    section = README.read_text(encoding="utf-8").split(TABLE_HEADING, 1)[1]
    section = section.split("\n## ", 1)[0]
    rows: list[tuple[str, str]] = []
    current = ""
    for line in section.splitlines():
        if not line.startswith("| ") or line.startswith(("| ---", "| core option")):
            continue
        cell = line[2:].split(" | ", 1)[0].strip()
        if cell.startswith("**"):
            current = cell.strip("*`")
        elif cell != "—":
            rows.append((current, cell))
    return rows


type Check = Callable[[HomeAssistant, ImportResult], None]


def _rest(options: str, sensor: str = "- name: Status") -> str:
    """A core ``rest:`` resource with ``options`` and one sensor."""
    return (
        "rest:\n  - resource: https://api.example.com/v1/status\n"
        + textwrap.indent(textwrap.dedent(options).strip("\n"), "    ")
        + "\n    sensor:\n"
        + textwrap.indent(textwrap.dedent(sensor).strip("\n"), "      ")
        + "\n"
    )


def _command(options: str) -> str:
    return "rest_command:\n  set_led:\n" + textwrap.indent(
        textwrap.dedent(options).strip("\n"), "    "
    )


def _data(result: ImportResult) -> dict[str, Any]:
    return only_endpoint(result).data


def _value(result: ImportResult) -> dict[str, Any]:
    values = _data(result)["values"]
    assert len(values) == 1
    value: dict[str, Any] = values[0]
    return value


def _check_resource(hass: HomeAssistant, result: ImportResult) -> None:
    endpoint = only_endpoint(result)
    assert endpoint.data["url"] == "https://api.example.com/v1/status"
    assert endpoint.name == "Status"  # one value: the device's main entity
    assert endpoint.source == "rest[0]"
    assert not result.notes


def _check_resource_template(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["url"] == (
        "https://api.example.com/day/{{ now().strftime('%Y-%m-%d') }}"
    )
    assert not result.notes


def _check_method(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["method"] == "POST"


def _check_payload(hass: HomeAssistant, result: ImportResult) -> None:
    body = _data(result)["body"]
    # Core never renders ``payload``: its template characters stay text here too.
    assert body == '{% raw %}{"note": "{{ not rendered }}"}{% endraw %}'
    assert render_body(hass, body) == ({"note": "{{ not rendered }}"}, None)
    assert notes(result) == {("adjusted", "rest[0].payload", "static_payload")}


def _check_payload_template(hass: HomeAssistant, result: ImportResult) -> None:
    body = _data(result)["body"]
    assert body == '{"day": {{ 1 + 1 }}}'
    assert render_body(hass, body) == ({"day": 2}, None)


def _check_params(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["params"] == {
        "start_date": "{{ (now() - timedelta(days = 1)).strftime('%Y-%m-%d') }}",
        "limit": "10",
        "flag": "True",
    }


def _check_headers(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["headers"] == {
        "User-Agent": "Home Assistant",
        "X-Custom-Header": '{{ states("input_text.the_custom_header") }}',
    }
    assert notes(result) == {
        ("dropped", "rest[0].headers.Authorization", "account_auth"),
        ("dropped", "rest[0].headers.Host", "owned_header"),
    }


def _check_auth(hass: HomeAssistant, result: ImportResult) -> None:
    assert notes(result) == {
        ("dropped", "rest[0].authentication", "account_auth"),
        ("dropped", "rest[0].username", "account_auth"),
        ("dropped", "rest[0].password", "account_auth"),
    }
    assert "hunter2" not in repr(result)
    assert "ha1" not in repr(result)


def _check_verify_ssl(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["verify_ssl"] is False


def _check_ssl_cipher_list(hass: HomeAssistant, result: ImportResult) -> None:
    assert notes(result) == {
        ("unsupported", "rest[0].ssl_cipher_list", "no_equivalent")
    }


def _check_timeout(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["timeout"] == 25


def _check_encoding(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["encoding"] == "ISO-8859-1"


def _check_scan_interval(hass: HomeAssistant, result: ImportResult) -> None:
    assert _data(result)["scan_interval"] == MIN_SCAN_INTERVAL
    (note,) = result.adjusted
    assert (note.path, note.reason) == ("rest[0].scan_interval", "clamped")
    assert note.placeholders == {"value": "5", "used": str(MIN_SCAN_INTERVAL)}


def _check_xml(hass: HomeAssistant, result: ImportResult) -> None:
    # Nothing to say: XML is converted as core converts it.
    endpoint = only_endpoint(result)
    assert endpoint.data["url"] == "http://192.168.1.12/status.xml"
    assert _value(result)["json_attributes_path"] == "$.response.system"
    assert not result.notes


def _check_lists(hass: HomeAssistant, result: ImportResult) -> None:
    values = _data(result)["values"]
    assert [(v["name"], v["platform"]) for v in values] == [
        ("Temperature", "sensor"),
        ("Humidity", "sensor"),
        ("Window", "binary_sensor"),
    ]
    assert [v["key"] for v in values] == ["temperature", "humidity", "window"]
    assert only_endpoint(result).name == "api.example.com/v1/status"


def _switch(options: str = "") -> str:
    """A core ``switch: - platform: rest`` entry with ``options``."""
    return (
        "switch:\n  - platform: rest\n    resource: http://192.168.1.5/led\n"
        + textwrap.indent(textwrap.dedent(options).strip("\n"), "    ")
        + "\n"
    )


def _switch_control(result: ImportResult) -> ControlConfig:
    """The one switch of ``result``, as a control."""
    assert not (result.endpoints or result.notifications or result.commands)
    (candidate,) = result.switches
    control = switch_control(candidate)
    assert control.kind == KIND_SWITCH
    return control


def _check_switch_resource_method(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    for which in (TURN_ON, TURN_OFF):
        request = control.requests[which]
        assert (request.method, request.url) == ("PUT", "http://192.168.1.5/led")
    assert not result.notes


def _check_switch_bodies(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    assert (
        control.requests[TURN_ON].body
        == '{"on": {{ is_state("sun.sun", "above_horizon") }}}'
    )
    assert control.requests[TURN_OFF].body == '{"on": false}'
    # Core compares the state with a templated body_on it rendered: not known here.
    assert control.state_source == STATE_UNKNOWN
    assert STATE not in control.requests
    assert control.is_on_template is None


def _check_switch_state_resource(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    assert control.state_source == STATE_FROM_REQUEST
    assert control.requests[STATE] == RequestConfig(
        method="GET", url="http://192.168.1.5/led/state"
    )
    assert control.requests[TURN_ON].url == "http://192.168.1.5/led"
    assert control.scan_interval.total_seconds() == 15


def _check_switch_is_on(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    assert control.is_on_template == "{{ value_json.is_active }}"
    assert control.state_source == STATE_FROM_REQUEST
    assert control.requests[STATE].url == "http://192.168.1.5/led"


def _check_switch_headers_params(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    headers = {
        "Content-Type": "application/json",
        "X-Room": '{{ states("input_text.room") }}',
    }
    params = {"device": "led", "at": "{{ now().hour }}"}
    for which in (TURN_ON, TURN_OFF, STATE):
        assert control.requests[which].headers == headers
        assert control.requests[which].params == params
    assert notes(result) == {
        ("dropped", "switch[0].headers.Authorization", "account_auth")
    }


def _check_switch_timeout_tls(hass: HomeAssistant, result: ImportResult) -> None:
    control = _switch_control(result)
    assert (control.timeout, control.verify_ssl) == (20.0, False)


def _check_switch_entity_options(hass: HomeAssistant, result: ImportResult) -> None:
    assert _switch_control(result).name == "Led"
    assert notes(result) == {
        ("dropped", "switch[0].unique_id", "automatic"),
        ("unsupported", "switch[0].icon", "no_equivalent"),
        ("unsupported", "switch[0].availability", "no_equivalent"),
        ("unsupported", "switch[0].device_class", "no_equivalent"),
    }


def _check_switch_auth(hass: HomeAssistant, result: ImportResult) -> None:
    _switch_control(result)
    assert notes(result) == {
        ("dropped", "switch[0].authentication", "account_auth"),
        ("dropped", "switch[0].username", "account_auth"),
        ("dropped", "switch[0].password", "account_auth"),
    }
    assert "hunter2" not in repr(result)


def _notify(options: str = "") -> str:
    """A core ``notify: - platform: rest`` entry with ``options``."""
    return (
        "notify:\n  - platform: rest\n    name: ntfy\n"
        "    resource: https://ntfy.example/alerts\n"
        + textwrap.indent(textwrap.dedent(options).strip("\n"), "    ")
        + "\n"
    )


def _notify_controls(result: ImportResult) -> list[ControlConfig]:
    """The notifiers of ``result``, as controls."""
    assert not (result.endpoints or result.switches or result.commands)
    made = [notify_control(candidate) for candidate in result.notifications]
    assert {control.kind for control in made} == {KIND_NOTIFY}
    return made


def _sent(
    hass: HomeAssistant, control: ControlConfig, message: str, title: str | None
) -> Any:
    """What the control's send request carries: rendered as it is sent."""
    return Commands(hass, control).source(SEND, message=message, title=title).render()


def _check_notify_methods(hass: HomeAssistant, result: ImportResult) -> None:
    get, post, post_json = _notify_controls(result)
    assert [
        (c.name, c.requests[SEND].method, c.send_as) for c in (get, post, post_json)
    ] == [
        ("by_query", "GET", SEND_AS_QUERY),
        ("by_form", "POST", SEND_AS_FORM),
        ("by_json", "POST", SEND_AS_JSON),
    ]
    assert {c.requests[SEND].url for c in (get, post, post_json)} == {
        "https://ntfy.example/alerts"
    }
    assert _sent(hass, get, "Hi", None).target.params == {"message": "Hi"}
    assert _sent(hass, post, "Hi", None).data == "message=Hi"
    assert _sent(hass, post_json, "Hi", None).json == {"message": "Hi"}


def _check_notify_params(hass: HomeAssistant, result: ImportResult) -> None:
    named, default = _notify_controls(result)
    assert (named.message_param, named.title_param) == ("body", "subject")
    assert (default.message_param, default.title_param) == ("message", None)
    assert _sent(hass, named, "Door open", "Alarm").json == {
        "body": "Door open",
        "subject": "Alarm",
    }
    assert _sent(hass, default, "Door open", "Alarm").json == {"message": "Door open"}


def _check_notify_data(hass: HomeAssistant, result: ImportResult) -> None:
    (control,) = _notify_controls(result)
    assert control.data == {
        # data_template's wins, as in core.
        "priority": "{{ 5 if 'urgent' in message else 3 }}",
        "tags": "warning,{{ title | lower }}",
        "markdown": "{{ true }}",
        "click": "https://example.com/{{ title }}",
    }
    assert _sent(hass, control, "urgent: disk full", "NAS").json == {
        "message": "urgent: disk full",
        "priority": 5,
        "tags": "warning,nas",
        "markdown": True,
        "click": "https://example.com/NAS",
    }


def _check_notify_target(hass: HomeAssistant, result: ImportResult) -> None:
    _notify_controls(result)
    assert notes(result) == {
        ("unsupported", "notify[0].target_param_name", "no_equivalent")
    }


def _check_notify_request(hass: HomeAssistant, result: ImportResult) -> None:
    (control,) = _notify_controls(result)
    request = control.requests[SEND]
    # Core sends notify headers and parameters as written, never rendered.
    assert request.headers == {
        "X-Priority": "5",
        "X-Note": "{% raw %}{{ as written }}{% endraw %}",
    }
    assert request.params == {"topic": "alerts"}
    assert (control.timeout, control.verify_ssl) == (20.0, False)
    sent = _sent(hass, control, "Hi", None)
    assert sent.target.headers["X-Note"] == "{{ as written }}"
    assert sent.target.params == {"topic": "alerts", "message": "Hi"}
    assert notes(result) == {
        ("adjusted", "notify[0].headers.X-Note", "static_text"),
        ("dropped", "notify[0].headers.Authorization", "account_auth"),
    }


def _check_notify_name(hass: HomeAssistant, result: ImportResult) -> None:
    assert [c.name for c in _notify_controls(result)] == ["ntfy", "rest"]


def _check_notify_auth(hass: HomeAssistant, result: ImportResult) -> None:
    _notify_controls(result)
    assert notes(result) == {
        ("dropped", "notify[0].authentication", "account_auth"),
        ("dropped", "notify[0].username", "account_auth"),
        ("dropped", "notify[0].password", "account_auth"),
    }
    assert "hunter2" not in repr(result)


def _check_name(hass: HomeAssistant, result: ImportResult) -> None:
    assert _value(result)["name"] == "Pool temperature"
    assert _value(result)["key"] == "pool_temperature"


def _check_unique_id(hass: HomeAssistant, result: ImportResult) -> None:
    assert notes(result) == {("dropped", "rest[0].sensor[0].unique_id", "automatic")}
    assert "pool-1" not in repr(result)


def _check_value_template(hass: HomeAssistant, result: ImportResult) -> None:
    assert _value(result)["value_template"] == "{{ value_json.temp | round(1) }}"


def _check_json_attributes(hass: HomeAssistant, result: ImportResult) -> None:
    value = _value(result)
    assert value["json_attributes"] == ["street", "suite", "city"]
    assert value["json_attributes_path"] == "$.[0].address"


def _check_availability(hass: HomeAssistant, result: ImportResult) -> None:
    assert _value(result)["availability"] == "{{ value_json.ok }}"


def _check_icon_picture(hass: HomeAssistant, result: ImportResult) -> None:
    value = _value(result)
    assert value["icon"] == "mdi:pool"
    assert value["picture"] == "{{ value_json.image }}"


def _check_classes(hass: HomeAssistant, result: ImportResult) -> None:
    value = _value(result)
    assert (
        value["device_class"],
        value["state_class"],
        value["unit_of_measurement"],
    ) == ("temperature", "measurement", "°C")


def _check_force_update(hass: HomeAssistant, result: ImportResult) -> None:
    assert _value(result)["force_update"] is True


def _command_only(result: ImportResult) -> dict[str, Any]:
    assert not result.endpoints
    (command,) = result.commands
    return command


def _check_command_url(hass: HomeAssistant, result: ImportResult) -> None:
    command = _command_only(result)
    assert command["url"] == "http://192.168.1.105/leds.cgi?led={{ led }}"
    assert command["name"] == "set_led"


def _check_command_method(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["method"] == "PUT"


def _check_command_headers(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["headers"] == {
        "accept": "application/json, text/html",
        "user-agent": "Mozilla/5.0 {{ useragent }}",
    }
    assert notes(result) == {
        ("dropped", "rest_command.set_led.headers.authorization", "account_auth")
    }
    assert [(r.tag, r.name) for r in result.references] == [
        ("!secret", "rest_headers_secret")
    ]


def _check_command_payload(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["payload"] == (
        '{"profile":{"status_text": "{{ status }}"}}'
    )


def _check_command_content_type(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["content_type"] == "application/x-www-form-urlencoded"


def _check_command_timeout(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["timeout"] == 20


def _check_command_verify_ssl(hass: HomeAssistant, result: ImportResult) -> None:
    assert _command_only(result)["verify_ssl"] is False


def _check_insecure_cipher(hass: HomeAssistant, result: ImportResult) -> None:
    _command_only(result)
    assert notes(result) == {
        ("unsupported", "rest_command.set_led.insecure_cipher", "no_equivalent")
    }


def _check_skip_url_encoding(hass: HomeAssistant, result: ImportResult) -> None:
    _command_only(result)
    assert notes(result) == {
        ("unsupported", "rest_command.set_led.skip_url_encoding", "no_equivalent")
    }


def _check_command_auth(hass: HomeAssistant, result: ImportResult) -> None:
    _command_only(result)
    assert notes(result) == {
        ("dropped", "rest_command.set_led.authentication", "account_auth"),
        ("dropped", "rest_command.set_led.username", "account_auth"),
        ("dropped", "rest_command.set_led.password", "account_auth"),
    }
    assert "hunter2" not in repr(result)


def _check_variables(hass: HomeAssistant, result: ImportResult) -> None:
    # The service call's data are the action's variables: templates kept as written.
    command = _command_only(result)
    assert command["url"] == "https://api.example.com/{{ room }}"
    assert command["payload"] == "{{ {'level': level} | tojson }}"


def _check_response(hass: HomeAssistant, result: ImportResult) -> None:
    # Nothing of the response is configured: a command is just its request.
    assert tuple(_command_only(result)) == COMMAND_FIELDS
    assert not result.notes


ROW_CASES: dict[tuple[str, str], tuple[str, Check]] = {
    ("rest", "`resource`"): (_rest(""), _check_resource),
    ("rest", "`resource_template`"): (
        (
            "rest:\n  - resource_template: "
            "\"https://api.example.com/day/{{ now().strftime('%Y-%m-%d') }}\"\n"
            "    sensor:\n      - name: Day\n"
        ),
        _check_resource_template,
    ),
    ("rest", "`method` (GET, POST)"): (_rest("method: POST"), _check_method),
    ("rest", "`payload`"): (
        _rest("""payload: '{"note": "{{ not rendered }}"}'"""),
        _check_payload,
    ),
    ("rest", "`payload_template`"): (
        _rest("""payload_template: '{"day": {{ 1 + 1 }}}'"""),
        _check_payload_template,
    ),
    ("rest", "`params` (templates)"): (
        _rest(
            """
            params:
              start_date: >
                {{ (now() - timedelta(days = 1)).strftime('%Y-%m-%d') }}
              limit: 10
              flag: true
            """
        ),
        _check_params,
    ),
    ("rest", "`headers` (templates)"): (
        _rest(
            """
            headers:
              Authorization: Bearer abc.def
              User-Agent: Home Assistant
              Host: other.example.com
              X-Custom-Header: '{{ states("input_text.the_custom_header") }}'
            """
        ),
        _check_headers,
    ),
    ("rest", "`authentication`, `username`, `password` (basic, digest)"): (
        _rest("authentication: basic\nusername: ha1\npassword: hunter2"),
        _check_auth,
    ),
    ("rest", "`verify_ssl`"): (_rest("verify_ssl: false"), _check_verify_ssl),
    ("rest", "`ssl_cipher_list`"): (
        _rest("ssl_cipher_list: modern"),
        _check_ssl_cipher_list,
    ),
    ("rest", "`timeout` (10 s)"): (_rest("timeout: 25"), _check_timeout),
    ("rest", "`encoding` (UTF-8)"): (_rest("encoding: ISO-8859-1"), _check_encoding),
    ("rest", "`scan_interval`"): (_rest("scan_interval: 5"), _check_scan_interval),
    ("rest", "XML responses"): (
        """
        rest:
          - resource: http://192.168.1.12/status.xml
            sensor:
              - name: Adult Pool Data System
                json_attributes_path: "$.response.system"
                value_template: "OK"
        """,
        _check_xml,
    ),
    ("rest", "`sensor:` / `binary_sensor:` lists"): (
        """
        rest:
          - resource: https://api.example.com/v1/status
            sensor:
              - name: Temperature
                value_template: "{{ value_json.temp }}"
              - name: Humidity
                value_template: "{{ value_json.hum }}"
            binary_sensor:
              - name: Window
                value_template: "{{ value_json.window_open }}"
        """,
        _check_lists,
    ),
    ("rest", "`name`"): (_rest("", "- name: Pool temperature"), _check_name),
    ("rest", "`unique_id`"): (
        _rest("", "- name: Pool\n  unique_id: pool-1"),
        _check_unique_id,
    ),
    ("rest", "`value_template`"): (
        _rest("", "- name: Pool\n  value_template: '{{ value_json.temp | round(1) }}'"),
        _check_value_template,
    ),
    ("rest", "`json_attributes`, `json_attributes_path`"): (
        _rest(
            "",
            """
            - name: Users
              json_attributes_path: "$.[0].address"
              json_attributes: street, suite, city
            """,
        ),
        _check_json_attributes,
    ),
    ("rest", "`availability`"): (
        _rest("", "- name: Pool\n  availability: '{{ value_json.ok }}'"),
        _check_availability,
    ),
    ("rest", "`icon`, `picture`"): (
        _rest(
            "",
            "- name: Pool\n  icon: mdi:pool\n  picture: '{{ value_json.image }}'",
        ),
        _check_icon_picture,
    ),
    ("rest", "`device_class`, `state_class`, `unit_of_measurement`"): (
        _rest(
            "",
            """
            - name: Pool
              device_class: Temperature
              state_class: measurement
              unit_of_measurement: "°C"
            """,
        ),
        _check_classes,
    ),
    ("rest", "`force_update`"): (
        _rest("", "- name: Pool\n  force_update: yes"),
        _check_force_update,
    ),
    ("switch: platform: rest", "`resource`, `method` (post, put, patch)"): (
        _switch("method: put"),
        _check_switch_resource_method,
    ),
    ("switch: platform: rest", "`body_on`, `body_off` (templates)"): (
        _switch(
            """
            body_on: '{"on": {{ is_state("sun.sun", "above_horizon") }}}'
            body_off: '{"on": false}'
            """
        ),
        _check_switch_bodies,
    ),
    ("switch: platform: rest", "`state_resource`"): (
        _switch(
            """
            state_resource: http://192.168.1.5/led/state
            scan_interval: 15
            """
        ),
        _check_switch_state_resource,
    ),
    ("switch: platform: rest", "`is_on_template`"): (
        _switch("is_on_template: '{{ value_json.is_active }}'"),
        _check_switch_is_on,
    ),
    ("switch: platform: rest", "`headers`, `params` (templates)"): (
        _switch(
            """
            is_on_template: '{{ value_json.on }}'
            headers:
              Authorization: Bearer abc
              Content-Type: application/json
              X-Room: '{{ states("input_text.room") }}'
            params:
              device: led
              at: '{{ now().hour }}'
            """
        ),
        _check_switch_headers_params,
    ),
    ("switch: platform: rest", "`timeout`, `verify_ssl`"): (
        _switch("timeout: 20\nverify_ssl: false"),
        _check_switch_timeout_tls,
    ),
    (
        "switch: platform: rest",
        "`name`, `unique_id`, `icon`, `availability`, `device_class`",
    ): (
        _switch(
            """
            name: Led
            unique_id: led-1
            icon: mdi:led-on
            availability: '{{ value_json.ok }}'
            device_class: outlet
            """
        ),
        _check_switch_entity_options,
    ),
    ("switch: platform: rest", "`authentication`, `username`, `password`"): (
        _switch("authentication: digest\nusername: ha1\npassword: hunter2"),
        _check_switch_auth,
    ),
    ("notify: platform: rest", "`resource`, `method` GET / POST / POST_JSON"): (
        """
        notify:
          - platform: rest
            name: by_query
            resource: https://ntfy.example/alerts
          - platform: rest
            name: by_form
            resource: https://ntfy.example/alerts
            method: POST
          - platform: rest
            name: by_json
            resource: https://ntfy.example/alerts
            method: post_json
        """,
        _check_notify_methods,
    ),
    (
        "notify: platform: rest",
        "`message_param_name` (`message`), `title_param_name`",
    ): (
        """
        notify:
          - platform: rest
            resource: https://ntfy.example/alerts
            method: POST_JSON
            message_param_name: body
            title_param_name: subject
          - platform: rest
            resource: https://ntfy.example/alerts
            method: POST_JSON
        """,
        _check_notify_params,
    ),
    ("notify: platform: rest", "`data`, `data_template`"): (
        _notify(
            """
            method: POST_JSON
            data:
              priority: 3
              tags: "warning,{{ title | lower }}"
              markdown: true
            data_template:
              priority: "{{ 5 if 'urgent' in message else 3 }}"
              click: "https://example.com/{{ title }}"
            """
        ),
        _check_notify_data,
    ),
    ("notify: platform: rest", "`target_param_name`"): (
        _notify("target_param_name: to"),
        _check_notify_target,
    ),
    ("notify: platform: rest", "`headers`, `params`, `timeout`, `verify_ssl`"): (
        _notify(
            """
            headers:
              Authorization: Bearer tk_abc
              X-Priority: 5
              X-Note: "{{ as written }}"
            params:
              topic: alerts
            timeout: 20
            verify_ssl: false
            """
        ),
        _check_notify_request,
    ),
    ("notify: platform: rest", "`name`"): (
        _notify() + "  - platform: rest\n    resource: https://ntfy.example/x\n",
        _check_notify_name,
    ),
    ("notify: platform: rest", "`authentication`, `username`, `password`"): (
        _notify("authentication: basic\nusername: ha1\npassword: hunter2"),
        _check_notify_auth,
    ),
    ("rest_command", "`url` (template)"): (
        _command("url: http://192.168.1.105/leds.cgi?led={{ led }}"),
        _check_command_url,
    ),
    ("rest_command", "`method`"): (
        _command("url: http://x.example/\nmethod: put"),
        _check_command_method,
    ),
    ("rest_command", "`headers` (templates)"): (
        _command(
            """
            url: https://slack.com/api/users.profile.set
            headers:
              authorization: !secret rest_headers_secret
              accept: 'application/json, text/html'
              user-agent: 'Mozilla/5.0 {{ useragent }}'
            """
        ),
        _check_command_headers,
    ),
    ("rest_command", "`payload` (template)"): (
        _command(
            """
            url: https://slack.com/api/users.profile.set
            payload: '{"profile":{"status_text": "{{ status }}"}}'
            """
        ),
        _check_command_payload,
    ),
    ("rest_command", "`content_type`"): (
        _command(
            "url: http://x.example/\ncontent_type: application/x-www-form-urlencoded"
        ),
        _check_command_content_type,
    ),
    ("rest_command", "`timeout` (10 s)"): (
        _command("url: http://x.example/\ntimeout: 20"),
        _check_command_timeout,
    ),
    ("rest_command", "`verify_ssl`"): (
        _command("url: http://x.example/\nverify_ssl: false"),
        _check_command_verify_ssl,
    ),
    ("rest_command", "`insecure_cipher`"): (
        _command("url: http://x.example/\ninsecure_cipher: true"),
        _check_insecure_cipher,
    ),
    ("rest_command", "`skip_url_encoding`"): (
        _command("url: http://x.example/\nskip_url_encoding: true"),
        _check_skip_url_encoding,
    ),
    ("rest_command", "`authentication`, `username`, `password`"): (
        _command(
            "url: http://x.example/\nauthentication: digest\nusername: ha1\n"
            "password: hunter2"
        ),
        _check_command_auth,
    ),
    ("rest_command", "the service call's data as template variables"): (
        _command(
            """
            url: "https://api.example.com/{{ room }}"
            method: post
            payload: "{{ {'level': level} | tojson }}"
            """
        ),
        _check_variables,
    ),
    ("rest_command", "response `content`, `status`, `headers`"): (
        _command("url: http://x.example/"),
        _check_response,
    ),
}


def test_every_row_has_a_case() -> None:
    """The cases are the table's rows: none missing, none left over."""
    rows = readme_rows()
    assert len(rows) == len(set(rows)) > 30
    assert set(rows) == set(ROW_CASES)


@pytest.mark.parametrize(
    "row",
    list(ROW_CASES),
    ids=lambda row: f"{row[0]}:{row[1].replace('`', '')}",
)
async def test_readme_row(hass: HomeAssistant, row: tuple[str, str]) -> None:
    """Each row of the table maps as the README says."""
    text, check = ROW_CASES[row]
    result = parse(text)
    assert_stored_shape(result)
    check(hass, result)


# -- the examples of home-assistant.io ------------------------------------------------

# The RESTful integration's page: two resources, basic auth, XML.
DOCS_POOLS = """
rest:
  - authentication: basic
    username: "admin"
    password: "password"
    scan_interval: 60
    resource: http://192.168.1.12/status.xml
    sensor:
      - name: "Adult Pool Data System"
        json_attributes_path: "$.response.system"
        value_template: "OK"
        json_attributes:
          - "runstate"
          - "model"
          - "opmode"
      - name: "Adult Pool Data Temp"
        json_attributes_path: "$.response.temp"
        value_template: "OK"
        json_attributes:
          - "htstatus"
          - "pooltemp"
  - authentication: basic
    username: "admin"
    password: "password"
    scan_interval: 60
    resource: "http://192.168.1.13/status.xml"
    sensor:
      - name: "Kiddie Pool Data System"
        json_attributes_path: "$.response.system"
        value_template: "OK"
        json_attributes:
          - "runstate"
          - "version"
"""


async def test_docs_pools(hass: HomeAssistant) -> None:
    """Two resources: two endpoints, the basic auth dropped for each."""
    result = parse_rest_yaml(DOCS_POOLS)
    assert_stored_shape(result)
    first, second = result.endpoints
    assert (first.name, first.data["url"]) == (
        "192.168.1.12/status.xml",
        "http://192.168.1.12/status.xml",
    )
    assert [v["name"] for v in first.data["values"]] == [
        "Adult Pool Data System",
        "Adult Pool Data Temp",
    ]
    assert first.data["values"][0]["json_attributes"] == ["runstate", "model", "opmode"]
    assert first.data["scan_interval"] == 60
    # One value: the endpoint is named after it (the device's main entity).
    assert second.name == "Kiddie Pool Data System"
    assert second.data["url"] == "http://192.168.1.13/status.xml"
    assert notes(result) == {
        ("dropped", f"rest[{i}].{key}", "account_auth")
        for i in (0, 1)
        for key in ("authentication", "username", "password")
    }
    assert '"password"' not in json.dumps([e.data for e in result.endpoints])


# The RESTful sensor's page: one sensor per entry, beside template sensors.
DOCS_SENSORS = """
sensor:
  - platform: rest
    resource: http://ip.jsontest.com
    name: External IP
    value_template: "{{ value_json.ip }}"
  - platform: rest
    resource: http://IP_ADRRESS:61208/api/2/mem/used
    name: Used mem
    value_template: "{{ value_json.used| multiply(0.000000954) | round(0) }}"
    unit_of_measurement: MB
  - platform: rest
    name: JSON time
    json_attributes:
      - date
      - milliseconds_since_epoch
    resource: http://date.jsontest.com/
    value_template: "{{ value_json.time }}"
  - platform: template
    sensors:
      date:
        friendly_name: "Date"
        value_template: "{{ state_attr('sensor.json_time', 'date') }}"
  - platform: rest
    name: OWM_report
    json_attributes:
      - main
      - weather
    value_template: "{{ value_json['weather'][0]['description'].title() }}"
    resource: https://api.openweathermap.org/data/2.5/weather?zip=80302,us&APPID=VERYSECRETAPIKEY
"""


async def test_docs_sensors(hass: HomeAssistant) -> None:
    """Four rest sensors, four endpoints; the template sensor is said not to be one."""
    result = parse_rest_yaml(DOCS_SENSORS)
    assert_stored_shape(result)
    assert [e.name for e in result.endpoints] == [
        "External IP",
        "Used mem",
        "JSON time",
        "OWM_report",
    ]
    used_mem = result.endpoints[1].data["values"][0]
    assert used_mem["unit_of_measurement"] == "MB"
    assert used_mem["value_template"] == (
        "{{ value_json.used| multiply(0.000000954) | round(0) }}"
    )
    owm = result.endpoints[3]
    # The URL is the user's own (query and all); only names leave the query out.
    assert owm.data["url"].endswith("APPID=VERYSECRETAPIKEY")
    assert [e.source for e in result.endpoints] == [
        "sensor[0]",
        "sensor[1]",
        "sensor[2]",
        "sensor[4]",
    ]
    assert notes(result) == {("unsupported", "sensor[3]", "other_platform")}


# The RESTful sensor's page: a token from secrets.yaml, and GitHub's latest release.
DOCS_AUTH = """
sensor:
  - platform: rest
    resource: http://IP_ADDRESS:5000/sensor
    headers:
      Authorization: !secret my_sensor_secret_token
  - platform: rest
    resource: https://api.github.com/repos/home-assistant/home-assistant/releases/latest
    username: YOUR_GITHUB_USERNAME
    password: YOUR_GITHUB_ACCESS_TOKEN
    authentication: basic
    value_template: "{{ value_json.tag_name }}"
    headers:
      Accept: application/vnd.github.v3+json
      Content-Type: application/json
      User-Agent: Home Assistant REST sensor
"""


async def test_docs_auth(hass: HomeAssistant) -> None:
    """Static credentials are the account's now: dropped, the secret named, not read."""
    result = parse_rest_yaml(DOCS_AUTH)
    assert_stored_shape(result)
    token, github = result.endpoints
    assert token.data["headers"] == {}
    assert token.name == "REST Sensor"  # core's default name
    assert github.data["headers"] == {
        "Accept": "application/vnd.github.v3+json",
        "Content-Type": "application/json",
        "User-Agent": "Home Assistant REST sensor",
    }
    assert github.data["values"][0]["value_template"] == "{{ value_json.tag_name }}"
    assert notes(result) == {
        ("dropped", "sensor[0].headers.Authorization", "account_auth"),
        ("dropped", "sensor[1].username", "account_auth"),
        ("dropped", "sensor[1].password", "account_auth"),
        ("dropped", "sensor[1].authentication", "account_auth"),
    }
    (secret,) = result.secrets
    assert (secret.name, secret.path, secret.line) == (
        "my_sensor_secret_token",
        "sensor[0].headers.Authorization",
        6,
    )
    assert "YOUR_GITHUB_ACCESS_TOKEN" not in repr(result)


# The RESTful sensor's page: a steam bath's XML, a template switch and a rest_command.
DOCS_STEAM = """
sensor:
# Steam Controller
  - platform: rest
    name: Steam System Data
    resource: http://192.168.1.105/status.xml
    json_attributes_path: "$.response"
    scan_interval: 15
    value_template: "OK"
    json_attributes:
      - "usr0"
      - "pot0"
      - "temp0"
      - "time0"
switch:
  - platform: template
    switches:
      steam:
        value_template: "{{ state_attr('sensor.steam_system_data', 'usr0') | int >= 1 }}"
        friendly_name: Steam

rest_command:
  set_steam_led:
    url: http://192.168.1.105/leds.cgi?led={{ led }}
"""


async def test_docs_steam(hass: HomeAssistant) -> None:
    """A sensor, a template switch (not ours) and a command, from one paste."""
    result = parse_rest_yaml(DOCS_STEAM)
    assert_stored_shape(result)
    endpoint = only_endpoint(result)
    assert endpoint.data["scan_interval"] == 15
    assert endpoint.data["values"][0]["json_attributes"] == [
        "usr0",
        "pot0",
        "temp0",
        "time0",
    ]
    assert result.commands == (
        {
            "name": "set_steam_led",
            "url": "http://192.168.1.105/leds.cgi?led={{ led }}",
            "method": "GET",
            "headers": {},
            "payload": None,
            "content_type": None,
            "timeout": 10,
            "verify_ssl": True,
        },
    )
    assert notes(result) == {("unsupported", "switch[0]", "other_platform")}


# The RESTful binary sensor's page: aREST, and custom headers.
DOCS_BINARY = """
binary_sensor:
  - platform: rest
    resource: http://192.168.0.5/digital/9
    method: GET
    name: Light
    device_class: light
    value_template: '{{ value_json.return_value }}'
  - platform: rest
    resource: http://IP_ADDRESS:5000/binary_sensor
    username: ha1
    password: test1
    authentication: basic
    headers:
      User-Agent: Home Assistant
      Content-Type: application/json
      X-Custom-Header: '{{ states("input_text.the_custom_header") }}'
"""


async def test_docs_binary_sensors(hass: HomeAssistant) -> None:
    """Binary sensors keep their device class; core's default name when none."""
    result = parse_rest_yaml(DOCS_BINARY)
    assert_stored_shape(result)
    light, custom = result.endpoints
    assert light.data["values"][0] | {"key": None} == {
        "key": None,
        "name": "Light",
        "platform": "binary_sensor",
        "value_template": "{{ value_json.return_value }}",
        "json_attributes": [],
        "json_attributes_path": None,
        "unit_of_measurement": None,
        "device_class": "light",
        "state_class": None,
        "entity_category": None,
        "enabled_by_default": True,
        "force_update": False,
        "availability": None,
        "icon": None,
        "picture": None,
    }
    assert custom.name == "REST Binary Sensor"
    assert custom.data["values"][0]["value_template"] == "{{ value }}"
    assert "X-Custom-Header" in custom.data["headers"]


# The RESTful Command page: PUT with a form payload, twice.
DOCS_SHUFFLE = """
rest_command:
  shuffle_on:
    url: "http://YOUR_ITUNES-API_SERVER_IP:8181/shuffle"
    method: put
    content_type: "application/x-www-form-urlencoded"
    payload: "mode=songs"
  shuffle_off:
    url: "http://[YOUR_ITUNES-API_SERVER_IP]:8181/shuffle"
    method: put
    content_type: "application/x-www-form-urlencoded"
    payload: "mode=off"
"""


async def test_docs_commands(hass: HomeAssistant) -> None:
    """Commands are command candidates, never endpoints."""
    result = parse_rest_yaml(DOCS_SHUFFLE)
    assert_stored_shape(result)
    assert not result.endpoints
    assert [(c["name"], c["method"], c["payload"]) for c in result.commands] == [
        ("shuffle_on", "PUT", "mode=songs"),
        ("shuffle_off", "PUT", "mode=off"),
    ]


# The RESTful Switch page: a switch with a templated state.
DOCS_SWITCH = """
switch:
  - platform: rest
    resource: http://IP_ADDRESS/led_endpoint
    body_on: '{"active": "true"}'
    body_off: '{"active": "false"}'
    is_on_template: "{{ value_json.is_active }}"
    headers:
      Content-Type: application/json
      X-Custom-Header: '{{ states("input_text.the_custom_header") }}'
    verify_ssl: true
"""


async def test_docs_switch(hass: HomeAssistant) -> None:
    """A rest switch is a switch candidate, core's defaults filled in."""
    result = parse_rest_yaml(DOCS_SWITCH)
    assert_stored_shape(result)
    (switch,) = result.switches
    assert switch["name"] == "REST Switch"
    assert switch["method"] == "POST"
    assert switch["is_on_template"] == "{{ value_json.is_active }}"
    assert switch["headers"]["X-Custom-Header"] == (
        '{{ states("input_text.the_custom_header") }}'
    )
    assert not result.endpoints
    assert not result.notes


# The RESTful Notifications page: a notifier by its name.
DOCS_NOTIFY = """
# Example configuration.yaml entry
notify:
  - name: NOTIFIER_NAME
    platform: rest
    resource: http://IP_ADDRESS/ENDPOINT
"""


async def test_docs_notify(hass: HomeAssistant) -> None:
    """A rest notifier is a notify candidate, core's defaults filled in."""
    result = parse_rest_yaml(DOCS_NOTIFY)
    assert_stored_shape(result)
    assert result.notifications == (
        {
            "name": "NOTIFIER_NAME",
            "resource": "http://IP_ADDRESS/ENDPOINT",
            "method": "GET",
            "message_param_name": "message",
            "title_param_name": None,
            "data": {},
            "data_template": {},
            "headers": {},
            "params": {},
            "timeout": 10,
            "verify_ssl": True,
        },
    )
    assert not (result.endpoints or result.switches or result.commands)
    assert not result.notes
    control = notify_control(result.notifications[0])
    assert control == ControlConfig(
        name="NOTIFIER_NAME",
        kind=KIND_NOTIFY,
        requests={SEND: RequestConfig(method="GET", url="http://IP_ADDRESS/ENDPOINT")},
        timeout=10.0,
        send_as=SEND_AS_QUERY,
    )
    # Core's GET: the message in the query.
    sent = _sent(hass, control, "Washer done", "Laundry")
    assert (sent.method, sent.target.params) == ("GET", {"message": "Washer done"})


# -- candidates as controls ------------------------------------------------------------


def _render(hass: HomeAssistant, template: str, value: str) -> Any:
    return Template(template, hass).async_render({"value": value})


async def test_switch_control(hass: HomeAssistant) -> None:
    """Each rule of a switch candidate as a switch control."""
    result = parse(
        """
        switch:
          - platform: rest
            resource: https://a.example/led
          - platform: rest
            name: Json
            resource: https://a.example/led
            state_resource: https://a.example/led/state
            body_on: '{"on": "yes"}'
            body_off: '{"on": "no"}'
          - platform: rest
            name: Templated
            resource: https://a.example/led
            method: patch
            body_on: "{{ 'ON' }}"
            state_resource: https://a.example/led/state
          - platform: rest
            name: Told
            resource: https://a.example/led
            body_on: "{{ 'ON' }}"
            is_on_template: "{{ value_json.on }}"
            scan_interval: 60
        """
    )
    assert_stored_shape(result)
    plain, json_body, templated, told = (switch_control(c) for c in result.switches)

    # Core's defaults: POST, "ON"/"OFF"; its state is the answer compared with body_on.
    assert plain.name == "REST Switch"
    assert plain.requests[TURN_ON] == RequestConfig(
        method="POST", url="https://a.example/led", body="ON"
    )
    assert plain.requests[TURN_OFF] == RequestConfig(
        method="POST", url="https://a.example/led", body="OFF"
    )
    assert plain.is_on_template == '{{ value == "ON" }}'
    assert plain.state_source == STATE_FROM_REQUEST
    assert plain.requests[STATE] == RequestConfig(
        method="GET", url="https://a.example/led"
    )
    assert (plain.timeout, plain.verify_ssl, plain.scan_interval.total_seconds()) == (
        10.0,
        True,
        30,
    )
    assert _render(hass, plain.is_on_template, "ON") is True
    assert _render(hass, plain.is_on_template, "OFF") is False

    # A plain body_on of any text: compared as it is (quotes and all).
    assert json_body.is_on_template == '{{ value == "{\\"on\\": \\"yes\\"}" }}'
    assert _render(hass, json_body.is_on_template, '{"on": "yes"}') is True
    assert _render(hass, json_body.is_on_template, '{"on": "no"}') is False
    assert json_body.requests[STATE].url == "https://a.example/led/state"

    # A templated body_on, no is_on_template: nothing to compare with, assumed.
    assert templated.state_source == STATE_UNKNOWN
    assert templated.is_on_template is None
    assert set(templated.requests) == {TURN_ON, TURN_OFF}
    assert templated.requests[TURN_ON].method == "PATCH"
    assert templated.requests[TURN_ON].body == "{{ 'ON' }}"

    # is_on_template said: it is the state, over the resource's answer.
    assert told.is_on_template == "{{ value_json.on }}"
    assert told.state_source == STATE_FROM_REQUEST
    assert told.requests[STATE].url == "https://a.example/led"
    assert told.scan_interval.total_seconds() == 60


async def test_command_control(hass: HomeAssistant) -> None:
    """Each rule of a rest_command candidate as a button."""
    result = parse(
        """
        rest_command:
          say:
            url: https://a.example/say
            method: put
            headers:
              content-type: text/plain
              accept: application/json
            content_type: application/x-www-form-urlencoded
            payload: "text={{ 'hi' }}"
            timeout: 20
            verify_ssl: false
          peek:
            url: https://a.example/peek
            method: head
          ping:
            url: https://a.example/ping
        """
    )
    assert_stored_shape(result)
    say, peek, ping = (command_control(c) for c in result.commands)
    assert (say.name, say.kind) == ("say", KIND_BUTTON)
    # content_type replaces a Content-Type header, whatever its case.
    assert say.requests == {
        PRESS: RequestConfig(
            method="PUT",
            url="https://a.example/say",
            headers={
                "accept": "application/json",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            body="text={{ 'hi' }}",
        )
    }
    assert (say.timeout, say.verify_ssl) == (20.0, False)
    # A button has no use for HEAD's headers: a GET.
    assert peek.requests[PRESS].method == "GET"
    # Core's default method and timeout.
    assert ping.requests[PRESS] == RequestConfig(
        method="GET", url="https://a.example/ping"
    )
    assert (ping.timeout, ping.verify_ssl) == (10.0, True)


async def test_notify_control(hass: HomeAssistant) -> None:
    """Each rule of a notify candidate as a notify control, as core sends it."""
    result = parse(
        """
        notify:
          - platform: rest
            name: query
            resource: https://a.example/notify
            title_param_name: title
            params:
              token: abc
            data:
              priority: 2
              loud: false
              at: "{{ now().year > 2000 }}"
              empty:
          - platform: rest
            name: form
            resource: https://a.example/notify
            method: POST
            params:
              token: abc
            data:
              priority: 2.5
              loud: false
          - platform: rest
            name: json
            resource: https://a.example/notify
            method: POST_JSON
            message_param_name: text
            data:
              priority: 2
              loud: false
              message: "[{{ message }}]"
        """
    )
    assert_stored_shape(result)
    query, form, as_json = (notify_control(c) for c in result.notifications)

    assert (query.requests[SEND].method, query.send_as) == ("GET", SEND_AS_QUERY)
    assert query.data == {
        "priority": "2",
        "loud": "false",
        "at": "{{ now().year > 2000 }}",
        "empty": "",
    }
    sent = _sent(hass, query, "Hi", "Greeting")
    assert sent.target.params == {
        "token": "abc",
        "message": "Hi",
        "title": "Greeting",
        "priority": "2",
        "loud": "false",
        "at": "True",
        "empty": "",
    }

    assert (form.requests[SEND].method, form.send_as) == ("POST", SEND_AS_FORM)
    sent = _sent(hass, form, "Hi", None)
    assert sent.target.params == {"token": "abc"}
    assert sent.target.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent.data == "message=Hi&priority=2.5&loud=false"

    assert (as_json.requests[SEND].method, as_json.send_as) == ("POST", SEND_AS_JSON)
    assert as_json.message_param == "text"
    # Numbers and booleans stay typed in a JSON body; a field may be the message.
    assert as_json.data == {
        "priority": "{{ 2 }}",
        "loud": "{{ false }}",
        "message": "[{{ message }}]",
    }
    assert _sent(hass, as_json, "Hi", None).json == {
        "text": "Hi",
        "priority": 2,
        "loud": False,
        "message": "[Hi]",
    }


async def test_notify_reported(hass: HomeAssistant) -> None:
    """A notifier's options not taken as written are said so, by path."""
    result = parse(
        """
        notify:
          - platform: rest
            resource: https://user:pw@a.example/notify
            method: PUT
            message_param_name: ""
            target_param_name: to
            data:
              nested: {a: 1}
              listed: [1, 2]
              broken: "{{ oops"
              "a=b": x
              multi: "x\\ny"
              ok: fine
            data_template: not a mapping
            headers:
              X-End: "{{ x }}{% endraw %}"
            params:
              ref: !secret notify_param
            resource_template: https://a.example/{{ 1 }}
          - platform: rest
            name: Secret URL
            resource: !secret notify_url
        """
    )
    assert_stored_shape(result)
    candidate, secret_url = result.notifications
    assert secret_url["resource"] == ""  # asked for in the control's form
    assert candidate["resource"] == "https://a.example/notify"
    assert candidate["method"] == "GET"
    assert candidate["message_param_name"] == "message"
    assert candidate["data"] == {"ok": "fine"}
    assert candidate["data_template"] == {}
    assert candidate["headers"] == {} and candidate["params"] == {}
    assert notes(result) == {
        ("dropped", "notify[0].resource", "account_auth"),
        ("invalid", "notify[0].method", "invalid_value"),
        ("invalid", "notify[0].message_param_name", "invalid_value"),
        ("unsupported", "notify[0].target_param_name", "no_equivalent"),
        ("unsupported", "notify[0].data.nested", "no_equivalent"),
        ("unsupported", "notify[0].data.listed", "no_equivalent"),
        ("invalid", "notify[0].data.broken", "invalid_template"),
        ("invalid", 'notify[0].data["a=b"]', "invalid_value"),
        ("invalid", "notify[0].data.multi", "invalid_value"),
        ("invalid", "notify[0].data_template", "invalid_value"),
        ("invalid", "notify[0].headers.X-End", "invalid_value"),
        ("unsupported", "notify[0].resource_template", "unknown_option"),
        ("invalid", "notify[1]", "url_missing"),
    }
    assert [(r.name, r.path) for r in result.references] == [
        ("notify_param", "notify[0].params.ref"),
        ("notify_url", "notify[1].resource"),
    ]
    assert "pw" not in repr(result)


@pytest.mark.parametrize(
    "text",
    [
        "resource: https://a.example/n\nmessage_param_name: text\n",
        "- resource: https://a.example/n\n  data: {a: b}\n",
        "resource: https://a.example/n\nmethod: POST_JSON\n",
        "platform: rest\nresource: https://a.example/n\ntitle_param_name: t\n",
    ],
)
async def test_bare_notifier(hass: HomeAssistant, text: str) -> None:
    """A notifier pasted without ``notify:`` is known by its options."""
    result = parse_rest_yaml(text)
    assert_stored_shape(result)
    assert len(result.notifications) == 1
    assert not (result.endpoints or result.switches or result.commands)
    assert not result.adjusted  # not taken for a sensor


# -- several at once, and the shapes without their key --------------------------------


async def test_several_resources(hass: HomeAssistant) -> None:
    """Resources, platform entries and commands: one endpoint per resource."""
    result = parse(
        """
        rest:
          - resource: https://a.example/one
            sensor:
              - name: One
          - resource: https://a.example/two
            binary_sensor:
              - name: Two
        sensor 2:
          - platform: rest
            resource: https://b.example/three
            name: Three
        binary_sensor:
          - platform: rest
            resource: https://b.example/four
            name: Four
        rest_command:
          five:
            url: https://c.example/five
        homeassistant:
          name: Home
        """
    )
    assert_stored_shape(result)
    assert [(e.name, e.source) for e in result.endpoints] == [
        ("One", "rest[0]"),
        ("Two", "rest[1]"),
        ("Three", '["sensor 2"][0]'),
        ("Four", "binary_sensor[0]"),
    ]
    assert [c["name"] for c in result.commands] == ["five"]
    assert notes(result) == {("unsupported", "homeassistant", "other_integration")}


async def test_same_request_is_one_endpoint(hass: HomeAssistant) -> None:
    """Platform entries making the same request share one; others do not."""
    result = parse(
        """
        sensor:
          - platform: rest
            resource: https://api.example.com/weather
            name: Temperature
            value_template: "{{ value_json.temp }}"
          - platform: rest
            resource: https://api.example.com/weather
            name: Temperature
            value_template: "{{ value_json.feels_like }}"
          - platform: rest
            resource: https://api.example.com/weather
            scan_interval: 600
            name: Pressure
        binary_sensor:
          - platform: rest
            resource: https://api.example.com/weather
            name: Rain
        """
    )
    assert_stored_shape(result)
    weather, slow = result.endpoints
    assert weather.name == "api.example.com/weather"
    assert [(v["name"], v["key"], v["platform"]) for v in weather.data["values"]] == [
        ("Temperature", "temperature", "sensor"),
        ("Temperature 2", "temperature_2", "sensor"),
        ("Rain", "rain", "binary_sensor"),
    ]
    assert slow.name == "Pressure"
    assert notes(result) == {
        ("adjusted", "sensor[1]", "merged"),
        ("adjusted", "sensor[1].name", "renamed"),
        ("adjusted", "binary_sensor[0]", "merged"),
    }


@pytest.mark.parametrize(
    ("text", "endpoints", "switches", "commands", "expected_notes"),
    [
        # One resource, without ``rest:``.
        (
            "resource: https://a.example/x\nsensor:\n  - name: X\n",
            [("X", ROOT)],
            0,
            0,
            set(),
        ),
        # A resource without values: the endpoint flow picks them from the answer.
        ("resource: https://a.example/x\n", [("a.example/x", ROOT)], 0, 0, set()),
        # ``rest:`` holding one mapping, not a list (core's ensure_list).
        (
            "rest:\n  resource: https://a.example/x\n  sensor:\n    - name: X\n",
            [("X", "rest")],
            0,
            0,
            set(),
        ),
        # A list of platform entries without their domain.
        (
            (
                "- platform: rest\n  resource: https://a.example/x\n  name: X\n"
                "  unit_of_measurement: W\n"
                "- platform: rest\n  resource: https://a.example/y\n  name: Y\n"
                "  device_class: door\n"
                "- platform: rest\n  resource: https://a.example/z\n  body_on: 'on'\n"
                "- platform: rest\n  resource: https://a.example/w\n  name: W\n"
            ),
            [("X", "[0]"), ("Y", "[1]"), ("W", "[3]")],
            1,
            0,
            {("adjusted", "[3]", "assumed_sensor")},
        ),
        # A platform entry, its ``platform`` line left out.
        (
            "resource: https://a.example/x\nvalue_template: '{{ value_json.x }}'\n",
            [("REST Sensor", ROOT)],
            0,
            0,
            {("adjusted", ROOT, "assumed_sensor")},
        ),
        # A list of resources (what ``rest:`` holds).
        (
            (
                "- resource: https://a.example/x\n  sensor:\n    - name: X\n"
                "- resource: https://a.example/y\n"
            ),
            [("X", "[0]"), ("a.example/y", "[1]")],
            0,
            0,
            set(),
        ),
        # Commands without ``rest_command:``: by name, or one alone.
        ("led_on:\n  url: https://a.example/on\n", [], 0, 1, set()),
        ("url: https://a.example/on\nmethod: post\n", [], 0, 1, set()),
        (
            "- url: https://a.example/on\n- platform: command_line\n",
            [],
            0,
            1,
            {("unsupported", "[1]", "other_platform")},
        ),
    ],
)
async def test_without_top_level_key(
    hass: HomeAssistant,
    text: str,
    endpoints: list[tuple[str, str]],
    switches: int,
    commands: int,
    expected_notes: set[tuple[str, str, str]],
) -> None:
    """A bare resource, entry, list or command is read by its shape."""
    result = parse_rest_yaml(text)
    assert_stored_shape(result)
    assert [(e.name, e.source) for e in result.endpoints] == endpoints
    assert (len(result.switches), len(result.commands)) == (switches, commands)
    assert notes(result) == expected_notes


async def test_bare_command_named_from_url(hass: HomeAssistant) -> None:
    """A command pasted alone is named after its URL (host and path)."""
    result = parse("url: https://user:pw@a.example/lights/on?x=1\n")
    (command,) = result.commands
    assert command["name"] == "a.example/lights/on"
    assert command["url"] == "https://a.example/lights/on?x=1"
    assert notes(result) == {("dropped", "url", "account_auth")}
    assert "pw" not in repr(result)


# -- what is reported ------------------------------------------------------------------


async def test_reported_not_lost(hass: HomeAssistant) -> None:
    """Every option not taken as written is listed, with its path and line."""
    result = parse(
        """
        rest:
          - resource: https://user:s3cr3t@api.example.com/x
            resource_template: https://api.example.com/{{ 1 }}
            payload: a
            payload_template: b
            timeout: 900
            scan_interval: {days: 3}
            encoding: base64
            verify_ssl: maybe
            method: PATCH
            frobnicate: 1
            params:
              "a=b": 1
              multi: "x\\ny"
              ok: "{{ 1 }}"
            headers:
              "bad header": x
              Proxy-Authorization: Basic abc
              X-Broken: "{{ oops"
              X-Ok: fine
            sensor:
              - name: "{{ 'Templated' }}"
                value_template: "{{ value_json.x }}"
                json_attributes_path: response.x
                json_attributes: [a, [b], c]
                device_class: not_a_class
                state_class: sometimes
                availability: "{% if %}"
              - name: Broken
                value_template: "{{ value_json.x"
            binary_sensor:
              - name: Door
                unit_of_measurement: W
              - 42
        """
    )
    assert_stored_shape(result)
    data = only_endpoint(result).data
    assert data["url"] == "https://api.example.com/x"
    assert data["body"] == "a"
    assert (data["timeout"], data["scan_interval"]) == (MAX_TIMEOUT, MAX_SCAN_INTERVAL)
    assert data["params"] == {"ok": "{{ 1 }}"}
    assert data["headers"] == {"X-Ok": "fine"}
    assert (data["encoding"], data["verify_ssl"], data["method"]) == (None, True, "GET")
    (templated, door) = data["values"]
    assert templated["name"] == "{{ 'Templated' }}"
    assert templated["json_attributes"] == ["a", "c"]
    assert (
        templated["json_attributes_path"],
        templated["device_class"],
        templated["state_class"],
        templated["availability"],
    ) == (None, None, None, None)
    assert door["unit_of_measurement"] is None
    assert notes(result) == {
        ("dropped", "rest[0].resource", "account_auth"),
        ("invalid", "rest[0].resource_template", "conflict"),
        ("invalid", "rest[0].payload_template", "conflict"),
        ("adjusted", "rest[0].timeout", "clamped"),
        ("adjusted", "rest[0].scan_interval", "clamped"),
        ("invalid", "rest[0].encoding", "invalid_value"),
        ("invalid", "rest[0].verify_ssl", "invalid_value"),
        ("invalid", "rest[0].method", "invalid_value"),
        ("unsupported", "rest[0].frobnicate", "unknown_option"),
        ("invalid", 'rest[0].params["a=b"]', "invalid_value"),
        ("invalid", "rest[0].params.multi", "invalid_value"),
        ("invalid", 'rest[0].headers["bad header"]', "invalid_value"),
        ("dropped", "rest[0].headers.Proxy-Authorization", "owned_header"),
        ("invalid", "rest[0].headers.X-Broken", "invalid_template"),
        ("adjusted", "rest[0].sensor[0].name", "name_template"),
        ("invalid", "rest[0].sensor[0].json_attributes_path", "invalid_value"),
        ("invalid", "rest[0].sensor[0].json_attributes[1]", "invalid_value"),
        ("invalid", "rest[0].sensor[0].device_class", "invalid_value"),
        ("invalid", "rest[0].sensor[0].state_class", "invalid_value"),
        ("invalid", "rest[0].sensor[0].availability", "invalid_template"),
        ("invalid", "rest[0].sensor[1].value_template", "invalid_template"),
        (
            "unsupported",
            "rest[0].binary_sensor[0].unit_of_measurement",
            "unknown_option",
        ),
        ("invalid", "rest[0].binary_sensor[1]", "invalid_value"),
    }
    assert "s3cr3t" not in repr(result)
    clamped = {n.path: n.placeholders for n in result.adjusted if n.reason == "clamped"}
    assert clamped == {
        "rest[0].timeout": {"value": "900", "used": str(MAX_TIMEOUT)},
        "rest[0].scan_interval": {"value": "259200", "used": str(MAX_SCAN_INTERVAL)},
    }
    lines = {note.path: note.line for note in result.notes}
    assert lines["rest[0].frobnicate"] == 12
    assert lines["rest[0].sensor[1].value_template"] == 31


async def test_missing_url(hass: HomeAssistant) -> None:
    """A resource whose URL is a secret keeps its values; the URL is asked for."""
    result = parse(
        """
        sensor:
          - platform: rest
            resource: !secret rest_url_vscode
            name: VSCode Addon
            value_template: '{{ value_json.data.state }}'
            scan_interval: 60
            headers:
              Authorization: !secret token_ha
              Content-Type: application/json
            json_attributes_path: "$.data"
            json_attributes:
              - version
        """
    )
    assert_stored_shape(result)
    endpoint = only_endpoint(result)
    assert endpoint.data["url"] == ""
    assert endpoint.name == "VSCode Addon"
    assert endpoint.data["headers"] == {"Content-Type": "application/json"}
    assert notes(result) == {
        ("invalid", "sensor[0]", "url_missing"),
        ("dropped", "sensor[0].headers.Authorization", "account_auth"),
    }
    assert [(r.name, r.path) for r in result.secrets] == [
        ("rest_url_vscode", "sensor[0].resource"),
        ("token_ha", "sensor[0].headers.Authorization"),
    ]


@pytest.mark.parametrize(
    ("value", "used", "reason"),
    [
        ("30", 30, None),
        ("'00:05:00'", 300, None),
        ("{minutes: 2}", 120, None),
        ("1", MIN_SCAN_INTERVAL, "clamped"),
        ("-5", MIN_SCAN_INTERVAL, "clamped"),
        ("10.5", 11, "clamped"),
        ("{days: 2}", MAX_SCAN_INTERVAL, "clamped"),
        # Invalid: core's 30 s.
        ("99999999999999999999999", 30, "invalid_value"),
        (".nan", 30, "invalid_value"),
        ("[1]", 30, "invalid_value"),
    ],
)
async def test_scan_interval(
    hass: HomeAssistant, value: str, used: int, reason: str | None
) -> None:
    """Core's time periods, clamped to the endpoint's range and said so."""
    result = parse(f"resource: https://a.example/\nscan_interval: {value}\n")
    assert only_endpoint(result).data["scan_interval"] == used
    assert [note.reason for note in result.notes] == ([reason] if reason else [])


@pytest.mark.parametrize(
    ("value", "used"),
    [
        ("0", MIN_TIMEOUT),
        ("'45'", 45),
        ("1000", MAX_TIMEOUT),
        (".inf", MAX_TIMEOUT),
        ("true", 10),
    ],
)
async def test_timeout(hass: HomeAssistant, value: str, used: int) -> None:
    """Timeouts within the form's range; core's 10 s when missing or invalid."""
    result = parse(f"resource: https://a.example/\ntimeout: {value}\n")
    assert only_endpoint(result).data["timeout"] == used
    assert only_endpoint(parse("resource: https://a.example/\n")).data["timeout"] == 10


async def test_reference_tags(hass: HomeAssistant) -> None:
    """Every reference tag is named where it is, never resolved."""
    result = parse(
        """
        rest: !include rest.yaml
        sensor: !include_dir_merge_list sensors/
        binary_sensor:
          - platform: rest
            resource: !env_var API_URL http://fallback.example/
            name: !input name
            verify_ssl: !secret verify
            headers: !include_dir_named headers
        rest_command:
          one: !include_dir_list commands
          two:
            url: https://a.example/
            payload: !secret
        """
    )
    assert [(r.tag, r.name, r.path) for r in result.references] == [
        ("!include", "rest.yaml", "rest"),
        ("!include_dir_merge_list", "sensors/", "sensor"),
        ("!env_var", "API_URL", "binary_sensor[0].resource"),
        ("!secret", "verify", "binary_sensor[0].verify_ssl"),
        ("!include_dir_named", "headers", "binary_sensor[0].headers"),
        ("!input", "name", "binary_sensor[0].name"),
        ("!include_dir_list", "commands", "rest_command.one"),
        ("!secret", "", "rest_command.two.payload"),
    ]
    assert "fallback" not in repr(result)


# -- nothing read but the text ---------------------------------------------------------

_OPENED: list[str] | None = None
_WATCHED = threading.get_ident()


def _audit(event: str, args: tuple[Any, ...]) -> None:
    if (
        _OPENED is not None
        and event in ("open", "os.scandir", "os.listdir")
        and threading.get_ident() == _WATCHED
    ):
        _OPENED.append(str(args[0]))


sys.addaudithook(_audit)


@pytest.fixture
def opened() -> Iterator[list[str]]:
    """The files and directories opened while the fixture is active."""
    global _OPENED  # noqa: PLW0603
    _OPENED = []
    try:
        yield _OPENED
    finally:
        _OPENED = None


SECRET_VALUE = "Bearer from-secrets-yaml-3f9c"
INCLUDED_VALUE = "https://included.example/from-file"
ENV_VALUE = "https://env.example/from-environment"
REFERENCES_YAML = """
rest:
  - resource: !secret api_url
    headers:
      X-Api-Key: !secret api_key
    sensor:
      - name: Included
        value_template: "{{ value_json.x }}"
  - resource: !env_var OAUTH2_REST_TEST_URL
    sensor: !include sensors.yaml
  - !include resource.yaml
"""


async def test_nothing_read_but_the_text(
    hass: HomeAssistant,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    opened: list[str],
) -> None:
    """No secrets.yaml, no included file, no environment variable is read."""
    (tmp_path / "secrets.yaml").write_text(
        f"api_url: {INCLUDED_VALUE}\napi_key: {SECRET_VALUE}\n"
    )
    (tmp_path / "sensors.yaml").write_text(f"- name: {SECRET_VALUE}\n")
    (tmp_path / "resource.yaml").write_text(f"resource: {INCLUDED_VALUE}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAUTH2_REST_TEST_URL", ENV_VALUE)
    hass.config.config_dir = str(tmp_path)
    parse_rest_yaml("resource: https://warm.example/\n")  # imports done
    opened.clear()

    result = parse_rest_yaml(REFERENCES_YAML)

    assert opened == []
    shown = repr(result)
    for value in (SECRET_VALUE, INCLUDED_VALUE, ENV_VALUE):
        assert value not in shown
    assert [(r.tag, r.name, r.path, r.line) for r in result.references] == [
        ("!secret", "api_url", "rest[0].resource", 3),
        ("!secret", "api_key", "rest[0].headers.X-Api-Key", 5),
        ("!env_var", "OAUTH2_REST_TEST_URL", "rest[1].resource", 9),
        ("!include", "sensors.yaml", "rest[1].sensor", 10),
        ("!include", "resource.yaml", "rest[2]", 11),
    ]
    assert [e.data["url"] for e in result.endpoints] == ["", ""]


async def test_home_assistant_loader_would_read(
    hass: HomeAssistant, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Why the importer has its own tags: HA's parse_yaml of a string reads files."""
    (tmp_path / "resource.yaml").write_text(f"resource: {INCLUDED_VALUE}\n")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OAUTH2_REST_TEST_URL", ENV_VALUE)
    loaded = parse_yaml("a: !include resource.yaml\nb: !env_var OAUTH2_REST_TEST_URL")
    assert loaded == {"a": {"resource": INCLUDED_VALUE}, "b": ENV_VALUE}
    with pytest.raises(HomeAssistantError, match="Secrets not supported"):
        parse_yaml("a: !secret api_key")


# -- errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("rest:\n  - resource: [\n", 3),
        ("rest:\n  - resource: x\n   bad: indent\n", 3),
        ("a: 1\n---\nb: 2\n", 2),
        ("a:\n  b: !unknown_tag x\n", 2),
        ("a: 1\nb: !!bool maybe\n", 2),
        ("a: 1\nb: 2\nc: 2024-13-45\n", 3),
        ("a: !!int x\n", 1),
        ("a: !!float x\n", 1),
        (f"a: 1\nb: {'9' * 5000}\n", 2),
        ("a: 1\nb: *undefined\n", 2),
        ("a: 1\nb: \x00\n", 2),
        ("{[a]: 1}\n", 1),
        ("a: 1\n<<: 5\n", 2),
        ("value_template: {{ value_json.x }}\n", 1),
    ],
)
async def test_invalid_yaml(hass: HomeAssistant, text: str, line: int) -> None:
    """Invalid YAML: its line, nothing of the text."""
    with pytest.raises(RestImportError) as caught:
        parse_rest_yaml(text)
    assert caught.value.translation_key == "yaml_invalid"
    assert caught.value.translation_placeholders == {"line": str(line)}


async def test_errors_echo_nothing(hass: HomeAssistant) -> None:
    """An error names no part of the text (which may hold secrets)."""
    text = "rest:\n  - password: hunter2-secret\n    resource: [hunter2-secret\n"
    with pytest.raises(RestImportError) as caught:
        parse_rest_yaml(text)
    error = caught.value
    assert "hunter2" not in f"{error!r} {error} {error.translation_placeholders}"
    assert error.__cause__ is None
    assert error.__suppress_context__


def _too_large(text: str) -> None:
    with pytest.raises(RestImportError) as caught:
        parse_rest_yaml(text)
    assert caught.value.translation_key == "yaml_too_large"
    assert caught.value.translation_placeholders == {
        "max_chars": str(MAX_YAML_CHARS),
        "max_depth": str(MAX_DEPTH),
        "max_entries": str(MAX_ENTRIES),
        "max_values": str(MAX_VALUES),
    }


def _resources(count: int, values: int = 1) -> str:
    sensors = "".join(f"      - name: v{j}\n" for j in range(values))
    return "rest:\n" + "".join(
        f"  - resource: https://a.example/{i}\n    sensor:\n{sensors}"
        for i in range(count)
    )


async def test_too_large(hass: HomeAssistant) -> None:
    """Text, nesting, aliases, entries, values and work are bounded."""
    filler = "# " + "x" * 70 + "\n"
    _too_large(_resources(1) + filler * (MAX_YAML_CHARS // len(filler) + 1))
    parse_rest_yaml(_resources(1) + filler * (MAX_YAML_CHARS // len(filler) - 2))
    # Nesting: flow (quadratic in libyaml) and block.
    _too_large("[" * 100_000)
    _too_large("{a: " * 10_000 + "1" + "}" * 10_000)
    _too_large("- " * 30_000 + "1\n")
    deep = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"
    parse_rest_yaml(_resources(1) + deep)
    _too_large(_resources(1) + "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")
    # Aliases: a billion laughs is refused before anything is built.
    laughs = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\n" for i in range(1, 12)
    )
    _too_large(laughs)
    _too_large("x: &x 1\n" + "".join(f"k{i}: *x\n" for i in range(MAX_ALIASES + 1)))
    # Entries and values, each within the text's bound.
    parse_rest_yaml(_resources(MAX_ENTRIES))
    _too_large(_resources(MAX_ENTRIES + 1))
    _too_large(_resources(3, MAX_VALUES // 3 + 1))
    # Aliases multiplying the walk: a long string shared by every value.
    shared = "x" * 20_000
    text = f"v: &t '{{{{ value_json.a }}}} {shared}'\nrest:\n  - resource: https://a/\n"
    text += "    sensor:\n" + "".join(
        f"      - name: n{i}\n        value_template: *t\n" for i in range(90)
    )
    _too_large(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        "# nothing\n",
        "42\n",
        "- 1\n- 2\n",
        "homeassistant:\n  name: Home\n",
        "sensor:\n  - platform: template\n    sensors: {}\n",
        "notify:\n  - platform: command_line\n    command: echo\n",
        "rest: []\nrest_command: {}\n",
        "- name: no resource\n  value_template: x\n",
        "rest_command: !include commands.yaml\n",
        "rest_command: [1]\n",
        "rest_command:\n  a: 1\n",
        "rest: [1, 2]\n",
        "sensor: [1]\n",
        "sensor: 1\n",
    ],
)
async def test_nothing_to_import(hass: HomeAssistant, text: str) -> None:
    """No endpoint, switch or command: a typed error."""
    with pytest.raises(RestImportError) as caught:
        parse_rest_yaml(text)
    assert caught.value.translation_key == "yaml_nothing_to_import"
    assert caught.value.translation_placeholders == {}


async def test_value_template_recursion(hass: HomeAssistant) -> None:
    """A template too deep for Jinja's parser is an invalid template, not a crash."""
    deep = "{{ " + "(" * 400 + "1" + ")" * 400 + " }}"
    result = parse(
        f"""
        resource: https://a.example/
        sensor:
          - name: Deep
            value_template: "{deep}"
          - name: Fine
        """
    )
    assert [v["name"] for v in only_endpoint(result).data["values"]] == ["Fine"]
    assert notes(result) == {
        ("invalid", "sensor[0].value_template", "invalid_template")
    }


async def test_odd_values(hass: HomeAssistant) -> None:
    """Values of the wrong kind are left out and listed, each where it is."""
    result = parse(
        """
        rest:
          - resource: "https://a.example/\\nx"
            frobnicate: !secret not_an_option
            params: [a, b]
            headers:
              ~: x
              X-Bell: "ring\\a"
              X-Fine: ok
            payload: "{% endraw %}{{ x }}"
            timeout: .nan
            sensor:
              - name: [a]
                json_attributes: {a: 1}
              - name: Second
                json_attributes: [a, !secret b]
        switch:
          - platform: rest
            name: No resource
        rest_command:
          hidden:
            url: !secret command_url
        """
    )
    assert_stored_shape(result)
    data = only_endpoint(result).data
    assert (data["url"], data["params"], data["body"]) == ("", {}, None)
    assert data["headers"] == {"X-Fine": "ok"}
    assert data["timeout"] == 10
    first, second = data["values"]
    assert (first["name"], first["json_attributes"]) == ("REST Sensor", [])
    assert second["json_attributes"] == ["a"]
    assert result.switches[0]["resource"] == ""
    assert result.commands[0]["url"] == ""
    assert {(n.path, n.reason) for n in result.invalid} == {
        ("rest[0].resource", "invalid_value"),
        ("rest[0]", "url_missing"),
        ("rest[0].params", "invalid_value"),
        ("rest[0].headers.None", "invalid_value"),
        ("rest[0].headers.X-Bell", "invalid_value"),
        ("rest[0].payload", "invalid_value"),
        ("rest[0].timeout", "invalid_value"),
        ("rest[0].sensor[0].name", "invalid_value"),
        ("rest[0].sensor[0].json_attributes", "invalid_value"),
        ("switch[0]", "url_missing"),
        ("rest_command.hidden", "url_missing"),
    }
    assert {(n.path, n.reason) for n in result.unsupported} == {
        ("rest[0].frobnicate", "unknown_option")
    }
    assert not result.dropped
    assert not result.adjusted
    assert [(r.name, r.path) for r in result.secrets] == [
        ("not_an_option", "rest[0].frobnicate"),
        ("b", "rest[0].sensor[1].json_attributes[1]"),
        ("command_url", "rest_command.hidden.url"),
    ]


async def test_unencodable_text(hass: HomeAssistant) -> None:
    """A lone surrogate (JSON can carry one) is invalid YAML, on its line."""
    with pytest.raises(RestImportError) as caught:
        parse_rest_yaml("a: 1\nb: \ud800\n")
    assert caught.value.translation_placeholders == {"line": "2"}


async def test_references_only_is_no_command_map(hass: HomeAssistant) -> None:
    """A mapping of references alone is no mapping of commands: nothing imported."""
    with pytest.raises(RestImportError, match="yaml_nothing_to_import"):
        parse_rest_yaml("rest_command: !include commands.yaml\n")
