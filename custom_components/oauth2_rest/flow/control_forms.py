"""The control flow's forms, and what a filled-in form maps to.

A control's own form (name, timeout, TLS; a notification's message parameters),
its request forms (method, URL or path, query parameters, headers, body: checked
by the rule endpoint forms use, ``endpoint_forms.validate_request_fields``), the
forms of a switch's state source, and the test step's choice of what to send.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from homeassistant.const import (
    CONF_HEADERS,
    CONF_METHOD,
    CONF_NAME,
    CONF_PARAMS,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_URL,
    CONF_VERIFY_SSL,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.selector import (
    BooleanSelector,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TemplateSelector,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.helpers.template import Template
import voluptuous as vol

from ..client.auth import OriginPolicy
from ..control import (
    COMMAND_METHODS,
    CONF_DATA,
    CONF_IS_ON_TEMPLATE,
    CONF_MESSAGE_PARAM,
    CONF_SEND_AS,
    CONF_STATE_ENDPOINT,
    CONF_TITLE_PARAM,
    DEFAULT_COMMAND_METHOD,
    DEFAULT_MESSAGE_PARAM,
    SEND_AS,
    SEND_AS_JSON,
    ControlConfig,
    RequestConfig,
)
from ..endpoint import (
    CONF_BODY,
    CONF_CA_FILE,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
)
from .endpoint_forms import async_validate_tls, seconds, validate_request_fields
from .text import format_lines, optional_text, parse_lines

CONF_TEST = "test"
CONF_MESSAGE = "message"
CONF_TITLE = "title"
# The test step's choice that sends nothing: save.
TEST_NOTHING = "nothing"
DEFAULT_TEST_MESSAGE = "Test message from Home Assistant"


def _dropdown(options: list[str], translation_key: str = "") -> SelectSelector:
    """A dropdown; its options' labels are translated under ``translation_key``."""
    config = SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    if translation_key:
        config["translation_key"] = translation_key
    return SelectSelector(config)


_TLS_FIELDS: dict[vol.Marker, Any] = {
    vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): seconds(
        MIN_TIMEOUT, MAX_TIMEOUT
    ),
    vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
    vol.Optional(CONF_CA_FILE): TextSelector(),
}
# A switch's or a button's own form.
CONTROL_SCHEMA = vol.Schema({vol.Required(CONF_NAME): TextSelector(), **_TLS_FIELDS})
# A notification's own form: where the message goes, as core rest notify.
NOTIFY_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_SEND_AS, default=SEND_AS_JSON): _dropdown(
            list(SEND_AS), CONF_SEND_AS
        ),
        vol.Required(CONF_MESSAGE_PARAM, default=DEFAULT_MESSAGE_PARAM): TextSelector(),
        vol.Optional(CONF_TITLE_PARAM): TextSelector(),
        vol.Optional(CONF_DATA): TextSelector(TextSelectorConfig(multiline=True)),
        **_TLS_FIELDS,
    }
)
_TARGET_FIELDS: dict[vol.Marker, Any] = {
    vol.Required(CONF_METHOD, default=DEFAULT_COMMAND_METHOD): _dropdown(
        list(COMMAND_METHODS)
    ),
    vol.Required(CONF_URL): TextSelector(),
    vol.Optional(CONF_PARAMS): TextSelector(TextSelectorConfig(multiline=True)),
    vol.Optional(CONF_HEADERS): TextSelector(TextSelectorConfig(multiline=True)),
}
# A command: turn on, turn off, press.
COMMAND_SCHEMA = vol.Schema(
    {**_TARGET_FIELDS, vol.Optional(CONF_BODY): TemplateSelector()}
)
# A notification's request: its body is the message (and ``data``).
MESSAGE_SCHEMA = vol.Schema(_TARGET_FIELDS)
# A switch's own state request: a GET, polled.
STATE_REQUEST_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_URL): TextSelector(),
        vol.Optional(CONF_PARAMS): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional(CONF_HEADERS): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Required(CONF_IS_ON_TEMPLATE): TemplateSelector(),
        vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): seconds(
            MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
        ),
    }
)


def state_endpoint_schema(endpoints: dict[str, str]) -> vol.Schema:
    """A switch's state from one of the account's endpoints (id → name)."""
    return vol.Schema(
        {
            vol.Required(CONF_STATE_ENDPOINT): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=subentry_id, label=name)
                        for subentry_id, name in endpoints.items()
                    ],
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Required(CONF_IS_ON_TEMPLATE): TemplateSelector(),
        }
    )


def test_schema(commands: tuple[str, ...], notify: bool) -> vol.Schema:
    """The test step: send one of the control's requests now, or save."""
    schema: dict[vol.Marker, Any] = {
        vol.Required(CONF_TEST, default=TEST_NOTHING): _dropdown(
            [TEST_NOTHING, *commands], CONF_TEST
        )
    }
    if notify:
        schema[vol.Optional(CONF_MESSAGE, default=DEFAULT_TEST_MESSAGE)] = (
            TextSelector()
        )
        schema[vol.Optional(CONF_TITLE)] = TextSelector()
    return vol.Schema(schema)


def control_form_values(control: ControlConfig | None) -> dict[str, Any]:
    """A control's own form filled in with ``control``."""
    if control is None:
        return {}
    data = control.to_data()
    return {
        CONF_NAME: control.name,
        CONF_TIMEOUT: data[CONF_TIMEOUT],
        CONF_VERIFY_SSL: control.verify_ssl,
        CONF_CA_FILE: control.ca_file or "",
        CONF_SEND_AS: control.send_as,
        CONF_MESSAGE_PARAM: control.message_param,
        CONF_TITLE_PARAM: control.title_param or "",
        CONF_DATA: format_lines(control.data, "="),
    }


def request_form_values(request: RequestConfig | None) -> dict[str, Any]:
    """A request form filled in with ``request``."""
    if request is None:
        return {}
    return {
        CONF_METHOD: request.method,
        CONF_URL: request.url,
        CONF_PARAMS: format_lines(request.params, "="),
        CONF_HEADERS: format_lines(request.headers, ": "),
        CONF_BODY: request.body or "",
    }


async def async_validate_control(
    hass: HomeAssistant, kind: str, user_input: dict[str, Any]
) -> tuple[dict[str, str], ControlConfig | None]:
    """Return form errors, or the control's own settings (its requests come next)."""
    errors: dict[str, str] = {}
    name = user_input[CONF_NAME].strip()
    if not name:
        errors[CONF_NAME] = "name_required"
    verify_ssl, ca_file = await async_validate_tls(hass, user_input, errors)
    message_param = (user_input.get(CONF_MESSAGE_PARAM) or "").strip()
    title_param = optional_text(user_input.get(CONF_TITLE_PARAM))
    data = parse_lines(user_input.get(CONF_DATA), "=")
    if data is None:
        errors[CONF_DATA] = "invalid_params"
    else:
        for value in data.values():
            try:
                Template(value, hass).ensure_valid()
            except TemplateError:
                errors[CONF_DATA] = "invalid_template"
    if errors:
        return errors, None
    return errors, ControlConfig(
        name=name,
        kind=kind,
        timeout=float(int(user_input[CONF_TIMEOUT])),
        verify_ssl=verify_ssl,
        ca_file=ca_file,
        send_as=user_input.get(CONF_SEND_AS) or SEND_AS_JSON,
        message_param=message_param or DEFAULT_MESSAGE_PARAM,
        title_param=title_param,
        data=data or {},
    )


def validate_command(
    hass: HomeAssistant,
    policy: OriginPolicy,
    user_input: dict[str, Any],
    method: str | None = None,
) -> tuple[dict[str, str], RequestConfig | None]:
    """Return form errors, or one of the control's requests (``method``: fixed)."""
    errors, fields = validate_request_fields(hass, policy, user_input)
    if fields is None:
        return errors, None
    return errors, RequestConfig(
        method=method or user_input.get(CONF_METHOD) or DEFAULT_COMMAND_METHOD,
        url=fields.url,
        params=fields.params,
        headers=fields.headers,
        body=fields.body,
    )


def scan_interval(user_input: dict[str, Any]) -> timedelta:
    """The state request's interval typed in."""
    return timedelta(seconds=int(user_input[CONF_SCAN_INTERVAL]))
