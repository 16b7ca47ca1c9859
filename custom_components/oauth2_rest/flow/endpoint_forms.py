"""The endpoint flow's forms, and what a filled-in form maps to.

The request form (its schema, its pre-filled values, and the validated
:class:`~..endpoint.EndpointConfig` it becomes) and the value form (the same for
a :class:`~..endpoint.ValueConfig`), with the choices of values to pick, edit or
remove.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from homeassistant.components.sensor import CONF_STATE_CLASS, SensorStateClass
from homeassistant.const import (
    CONF_DEVICE_CLASS,
    CONF_FORCE_UPDATE,
    CONF_HEADERS,
    CONF_ICON,
    CONF_METHOD,
    CONF_NAME,
    CONF_PARAMS,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_URL,
    CONF_VALUE_TEMPLATE,
    CONF_VERIFY_SSL,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.selector import (
    BooleanSelector,
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
    TemplateSelector,
    TextSelector,
    TextSelectorConfig,
)
from homeassistant.helpers.trigger_template_entity import (
    CONF_AVAILABILITY,
    CONF_PICTURE,
)
from homeassistant.util import slugify
import voluptuous as vol

from ..client.auth import OriginPolicy
from ..client.errors import InvalidHeaderError, InvalidUrlError, OriginNotAllowedError
from ..client.headers import check_headers
from ..client.response import text_encoding
from ..endpoint import (
    CONF_BODY,
    CONF_CA_FILE,
    CONF_ENABLED_BY_DEFAULT,
    CONF_ENCODING,
    CONF_JSON_ATTRS,
    CONF_JSON_ATTRS_PATH,
    DEFAULT_METHOD,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    METHODS,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    PLATFORM_SENSOR,
    EndpointConfig,
    ValueConfig,
)
from ..redact import Secrets
from ..request import RequestTemplates, render_body
from ..suggest import PickList, Suggestion
from ..tls import CaFileError, async_ssl_for
from ..values import (
    BINARY_SENSOR_DEVICE_CLASSES,
    SENSOR_DEVICE_CLASSES,
    attribute_suggestions,
)
from .text import format_lines, optional_text, parse_lines

CONF_SEND = "send"
CONF_REMOVE = "remove"
CONF_VALUE = "value"
CONF_DIAGNOSTIC = "diagnostic"
CONF_PICKED = "picked"


def seconds(minimum: int, maximum: int) -> NumberSelector:
    """A number of seconds between ``minimum`` and ``maximum``, typed in a box."""
    return NumberSelector(
        NumberSelectorConfig(
            min=minimum,
            max=maximum,
            step=1,
            unit_of_measurement="s",
            mode=NumberSelectorMode.BOX,
        )
    )


REQUEST_SCHEMA = vol.Schema(
    {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_METHOD, default=DEFAULT_METHOD): SelectSelector(
            SelectSelectorConfig(
                options=list(METHODS), mode=SelectSelectorMode.DROPDOWN
            )
        ),
        vol.Required(CONF_URL): TextSelector(),
        vol.Optional(CONF_PARAMS): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional(CONF_HEADERS): TextSelector(TextSelectorConfig(multiline=True)),
        vol.Optional(CONF_BODY): TemplateSelector(),
        vol.Required(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): seconds(
            MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
        ),
        vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): seconds(
            MIN_TIMEOUT, MAX_TIMEOUT
        ),
        vol.Optional(CONF_ENCODING): TextSelector(),
        vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
        vol.Optional(CONF_CA_FILE): TextSelector(),
    }
)
# Sending a request other than GET is asked for: it may change data.
SEND_SCHEMA = vol.Schema({vol.Optional(CONF_SEND, default=False): BooleanSelector()})


def request_form_values(request: EndpointConfig | None) -> dict[str, Any]:
    """The request form filled in with ``request``."""
    if request is None:
        return {}
    data = request.to_data()
    return {
        CONF_NAME: request.name,
        CONF_METHOD: request.method,
        CONF_URL: request.url,
        CONF_PARAMS: format_lines(request.params, "="),
        CONF_HEADERS: format_lines(request.headers, ": "),
        CONF_BODY: request.body or "",
        CONF_SCAN_INTERVAL: data[CONF_SCAN_INTERVAL],
        CONF_TIMEOUT: data[CONF_TIMEOUT],
        CONF_ENCODING: request.encoding or "",
        CONF_VERIFY_SSL: request.verify_ssl,
        CONF_CA_FILE: request.ca_file or "",
    }


@dataclass(frozen=True, slots=True)
class RequestFields:
    """What a request form's URL, parameters, headers and body fields hold, checked."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]
    body: str | None


def validate_request_fields(
    hass: HomeAssistant, policy: OriginPolicy, user_input: dict[str, Any]
) -> tuple[dict[str, str], RequestFields | None]:
    """Return form errors, or the URL, parameters, headers and body typed in.

    Templates (URL, parameters, headers, body) are rendered once to check them;
    the URL they render to must be one the token may go to (``policy``). The
    endpoint form and a control's request forms share this rule.
    """
    errors: dict[str, str] = {}
    raw_url = user_input[CONF_URL].strip()
    if (params := parse_lines(user_input.get(CONF_PARAMS), "=")) is None:
        errors[CONF_PARAMS] = "invalid_params"
    headers = parse_lines(user_input.get(CONF_HEADERS), ":")
    if headers is None:
        errors[CONF_HEADERS] = "invalid_headers"
    else:
        try:
            check_headers(headers)
        except InvalidHeaderError as err:  # or one the integration owns
            errors[CONF_HEADERS] = err.translation_key
            headers = None
    templates = RequestTemplates(hass, raw_url, params or {}, headers or {})
    try:
        policy.resolve(templates.render_url())
    except TemplateError:
        errors[CONF_URL] = "invalid_template"
    except (InvalidUrlError, OriginNotAllowedError) as err:
        errors[CONF_URL] = err.translation_key
    for field, render in (
        (CONF_PARAMS, templates.render_params),
        (CONF_HEADERS, templates.render_headers),
    ):
        try:
            render()
        except TemplateError:
            errors.setdefault(field, "invalid_template")
    body = optional_text(user_input.get(CONF_BODY))
    try:
        render_body(hass, body)
    except TemplateError:
        errors[CONF_BODY] = "invalid_body"
    if errors:
        return errors, None
    return errors, RequestFields(raw_url, params or {}, headers or {}, body)


async def async_validate_tls(
    hass: HomeAssistant, user_input: dict[str, Any], errors: dict[str, str]
) -> tuple[bool, str | None]:
    """The TLS choice typed in: verification, and a CA file (checked) when verifying."""
    verify_ssl = user_input.get(CONF_VERIFY_SSL) is not False
    ca_file = optional_text(user_input.get(CONF_CA_FILE))
    if ca_file and verify_ssl:
        try:
            await async_ssl_for(hass, verify_ssl, ca_file)
        except CaFileError as err:
            errors[CONF_CA_FILE] = err.translation_key
    return verify_ssl, ca_file if verify_ssl else None


async def async_validate_request(
    hass: HomeAssistant, policy: OriginPolicy, user_input: dict[str, Any]
) -> tuple[dict[str, str], EndpointConfig | None]:
    """Return form errors, or the request the user described."""
    errors, fields = validate_request_fields(hass, policy, user_input)
    name = user_input[CONF_NAME].strip()
    if not name:
        errors[CONF_NAME] = "name_required"
    encoding = optional_text(user_input.get(CONF_ENCODING))
    if encoding and text_encoding(encoding) is None:
        errors[CONF_ENCODING] = "invalid_encoding"
    verify_ssl, ca_file = await async_validate_tls(hass, user_input, errors)
    if errors or fields is None:
        return errors, None
    return errors, EndpointConfig(
        name=name,
        method=user_input.get(CONF_METHOD) or DEFAULT_METHOD,
        url=fields.url,
        params=fields.params,
        headers=fields.headers,
        body=fields.body,
        scan_interval=timedelta(seconds=int(user_input[CONF_SCAN_INTERVAL])),
        timeout=float(int(user_input[CONF_TIMEOUT])),
        encoding=encoding,
        verify_ssl=verify_ssl,
        ca_file=ca_file,
    )


def _dropdown(options: list[str]) -> SelectSelector:
    return SelectSelector(
        SelectSelectorConfig(options=options, mode=SelectSelectorMode.DROPDOWN)
    )


def value_schema(platform: str, json_data: Any, secrets: Secrets) -> vol.Schema:
    """The value form of ``platform``; attributes to pick from the response's keys."""
    sensor = platform == PLATFORM_SENSOR
    schema: dict[vol.Marker, Any] = {
        vol.Required(CONF_NAME): TextSelector(),
        vol.Required(CONF_VALUE_TEMPLATE): TemplateSelector(),
        vol.Optional(CONF_JSON_ATTRS): SelectSelector(
            SelectSelectorConfig(
                options=attribute_suggestions(json_data, secrets),
                multiple=True,
                custom_value=True,
                mode=SelectSelectorMode.DROPDOWN,
            )
        ),
        vol.Optional(CONF_JSON_ATTRS_PATH): TextSelector(),
    }
    if sensor:
        schema[vol.Optional(CONF_UNIT_OF_MEASUREMENT)] = TextSelector()
    schema[vol.Optional(CONF_DEVICE_CLASS)] = _dropdown(
        SENSOR_DEVICE_CLASSES if sensor else BINARY_SENSOR_DEVICE_CLASSES
    )
    if sensor:
        schema[vol.Optional(CONF_STATE_CLASS)] = _dropdown(
            [c.value for c in SensorStateClass]
        )
    schema[vol.Optional(CONF_AVAILABILITY)] = TemplateSelector()
    schema[vol.Optional(CONF_ICON)] = TemplateSelector()
    schema[vol.Optional(CONF_PICTURE)] = TemplateSelector()
    schema[vol.Required(CONF_FORCE_UPDATE, default=False)] = BooleanSelector()
    schema[vol.Required(CONF_DIAGNOSTIC, default=False)] = BooleanSelector()
    schema[vol.Required(CONF_ENABLED_BY_DEFAULT, default=True)] = BooleanSelector()
    return vol.Schema(schema)


def value_form_values(value: ValueConfig | None) -> dict[str, Any]:
    """The value form filled in with ``value``."""
    if value is None:
        return {}
    suggested = {k: v for k, v in value.to_dict().items() if v not in (None, [])}
    suggested[CONF_DIAGNOSTIC] = value.entity_category is not None
    return suggested


def validate_value(user_input: dict[str, Any], other_names: set[str]) -> dict[str, str]:
    """Form errors of a value; ``other_names``: the endpoint's other values, casefolded."""
    errors: dict[str, str] = {}
    name = user_input[CONF_NAME].strip()
    if not name:
        errors[CONF_NAME] = "name_required"
    elif name.casefold() in other_names:
        errors[CONF_NAME] = "duplicate_name"
    # The template selector already refused invalid template syntax.
    path = (user_input.get(CONF_JSON_ATTRS_PATH) or "").strip()
    if path and not path.startswith("$"):
        errors[CONF_JSON_ATTRS_PATH] = "invalid_json_path"
    return errors


def value_from_input(
    user_input: dict[str, Any], platform: str, key: str
) -> ValueConfig:
    """The value a valid value form describes."""
    sensor = platform == PLATFORM_SENSOR
    return ValueConfig(
        key=key,
        name=user_input[CONF_NAME].strip(),
        platform=platform,
        value_template=user_input[CONF_VALUE_TEMPLATE],
        json_attributes=tuple(
            a.strip() for a in user_input.get(CONF_JSON_ATTRS) or () if a.strip()
        ),
        json_attributes_path=optional_text(user_input.get(CONF_JSON_ATTRS_PATH)),
        unit_of_measurement=optional_text(user_input.get(CONF_UNIT_OF_MEASUREMENT))
        if sensor
        else None,
        device_class=user_input.get(CONF_DEVICE_CLASS) or None,
        state_class=user_input.get(CONF_STATE_CLASS) or None if sensor else None,
        entity_category=EntityCategory.DIAGNOSTIC.value
        if user_input.get(CONF_DIAGNOSTIC)
        else None,
        enabled_by_default=bool(user_input.get(CONF_ENABLED_BY_DEFAULT, True)),
        force_update=bool(user_input.get(CONF_FORCE_UPDATE, False)),
        availability_template=optional_text(user_input.get(CONF_AVAILABILITY)),
        icon_template=optional_text(user_input.get(CONF_ICON)),
        picture_template=optional_text(user_input.get(CONF_PICTURE)),
    )


def value_key(name: str, values: Sequence[ValueConfig]) -> str:
    """A new value's key: from its name, unique within the endpoint."""
    taken = {value.key for value in values}
    base = slugify(name) or CONF_VALUE
    key, n = base, 2
    while key in taken:
        key, n = f"{base}_{n}", n + 1
    return key


def picked_value(suggestion: Suggestion, values: Sequence[ValueConfig]) -> ValueConfig:
    """A value from a suggestion, named apart from the values already there."""
    taken = {value.name.casefold() for value in values}
    name, number = suggestion.name, 2
    while name.casefold() in taken:
        name, number = f"{suggestion.name} {number}", number + 1
    return ValueConfig(
        key=value_key(name, values),
        name=name,
        platform=suggestion.platform,
        value_template=suggestion.value_template,
        unit_of_measurement=suggestion.unit_of_measurement,
        device_class=suggestion.device_class,
        state_class=suggestion.state_class,
    )


def pick_schema(found: PickList) -> vol.Schema:
    """The values of a response to tick."""
    return vol.Schema(
        {
            vol.Optional(CONF_PICKED): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=str(index), label=leaf.shown)
                        for index, leaf in enumerate(found.options)
                    ],
                    multiple=True,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )


def value_choice_schema(
    field: str, values: Sequence[ValueConfig], multiple: bool
) -> vol.Schema:
    """Pick one value (to edit) or several (to remove) of the endpoint's."""
    marker = vol.Optional(field) if multiple else vol.Required(field)
    return vol.Schema(
        {
            marker: SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=value.key, label=value.name)
                        for value in values
                    ],
                    multiple=multiple,
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )
