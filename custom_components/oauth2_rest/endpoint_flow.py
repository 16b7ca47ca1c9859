"""The ``endpoint`` subentry flow: what to request, a live preview, which values to read.

Steps (add and reconfigure share them):

1. ``user`` / ``reconfigure``: the request (name, method, URL or path, query
   parameters, headers, body, interval, timeout);
2. ``preview``: the request is made once with the account's token and the response
   is shown (pretty, truncated, secrets redacted) with each value's rendered
   template; errors are form errors. Requests other than GET are only sent on
   demand, since they may change data;
3. ``values`` (a menu): add a sensor or binary sensor value, edit or remove one,
   change the request, send it again, or finish.
"""

from __future__ import annotations

from collections.abc import Mapping
from http import HTTPStatus
import json
import re
from typing import TYPE_CHECKING, Any

from aiohttp import ClientError
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
from homeassistant.const import EntityCategory
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
from homeassistant.helpers.template import Template
from homeassistant.util import slugify
import voluptuous as vol
from yarl import URL

from .binary_sensor import BINARY_SENSOR_DEVICE_CLASSES
from .client.auth import origin_of, parse_url
from .client.errors import (
    ApiAuthError,
    ApiConnectionError,
    ApiError,
    ApiForbiddenError,
    ApiRateLimitedError,
    ApiResponseError,
    InvalidUrlError,
    OriginNotAllowedError,
    ResponseTooLargeError,
)
from .client.response import ApiResponse
from .const import CONF_ALLOWED_ORIGINS, CONF_PROVIDER
from .coordinator import render_body
from .endpoint import (
    CONF_BODY,
    CONF_DEVICE_CLASS,
    CONF_ENABLED_BY_DEFAULT,
    CONF_ENTITY_CATEGORY,
    CONF_HEADERS,
    CONF_JSON_ATTRS,
    CONF_JSON_ATTRS_PATH,
    CONF_KEY,
    CONF_METHOD,
    CONF_NAME,
    CONF_PARAMS,
    CONF_PLATFORM,
    CONF_SCAN_INTERVAL,
    CONF_STATE_CLASS,
    CONF_TIMEOUT,
    CONF_UNIT,
    CONF_URL,
    CONF_VALUE_TEMPLATE,
    CONF_VALUES,
    DEFAULT_METHOD,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    METHODS,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    PLATFORM_BINARY_SENSOR,
    PLATFORM_SENSOR,
)
from .entity import REDACTED, SECRET_KEYS, redact_secrets, render_template
from .oauth.provider import ProviderProfile

if TYPE_CHECKING:
    from . import OAuth2RestConfigEntry

PREVIEW_MAX_CHARS = 2500
VALUE_STEP_MAX_CHARS = 1200
CONF_SEND = "send"
CONF_REMOVE = "remove"
CONF_VALUE = "value"
CONF_DIAGNOSTIC = "diagnostic"

_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")
_BACKTICKS = re.compile(r"`+")
_SECRET_IN_TEXT = re.compile(
    r"(?i)(\"?(?:" + "|".join(sorted(SECRET_KEYS)) + r")\"?\s*[:=]\s*\"?)([^\"&\s,;}]+)"
)
# Sensor device classes that fit a templated value (an enum needs its options).
_SENSOR_DEVICE_CLASSES = sorted(
    c.value for c in SensorDeviceClass if c is not SensorDeviceClass.ENUM
)


def parse_lines(text: str | None, separator: str) -> dict[str, str] | None:
    """Parse ``name<separator>value`` lines; None when a line is malformed."""
    result: dict[str, str] = {}
    for raw in (text or "").splitlines():
        if not (line := raw.strip()):
            continue
        name, sep, value = line.partition(separator)
        name = name.strip()
        if not sep or not name:
            return None
        result[name] = value.strip()
    return result


def format_lines(values: Mapping[str, str], separator: str) -> str:
    """The inverse of :func:`parse_lines`, for pre-filling a form."""
    return "\n".join(f"{name}{separator}{value}" for name, value in values.items())


def redact_text(text: str, *tokens: str | None) -> str:
    """Redact ``key=value`` / ``"key": "value"`` secrets and the tokens themselves."""
    text = _SECRET_IN_TEXT.sub(lambda m: m.group(1) + REDACTED, text)
    return _scrub_tokens(text, tokens)


def _scrub_tokens(text: str, tokens: tuple[str | None, ...]) -> str:
    for token in sorted({t for t in tokens if t}, key=len, reverse=True):
        text = text.replace(token, REDACTED)
    return text


def _longest_backtick_run(text: str) -> int:
    return max((len(run) for run in _BACKTICKS.findall(text)), default=0)


def code_block(text: str) -> str:
    """``text`` as a fenced code block no backtick run inside can close (CommonMark)."""
    fence = "`" * max(3, _longest_backtick_run(text) + 1)
    return f"{fence}\n{text}\n{fence}"


def code_span(text: str) -> str:
    """``text`` on one line as an inline code span no backtick run inside can close.

    Line breaks become spaces (as in any code span): a line of its own could
    otherwise start a block, such as a code fence, in the Markdown around it.
    """
    text = " ".join(text.splitlines())
    ticks = "`" * (_longest_backtick_run(text) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{ticks}{pad}{text}{pad}{ticks}"


def format_response(response: ApiResponse, limit: int, *tokens: str | None) -> str:
    """The response as a Markdown code block: pretty JSON, redacted, truncated."""
    data = response.json_or_none()
    if data is not None:
        text = json.dumps(redact_secrets(data), indent=2, ensure_ascii=False)
        text = _scrub_tokens(text, tokens)
    else:
        text = redact_text(response.text, *tokens)
    if len(text) > limit:
        text = f"{text[:limit]}\n… ({len(text)} characters in all, truncated)"
    return code_block(text)


class EndpointSubentryFlow(ConfigSubentryFlow):
    """Add or edit an API endpoint of an account."""

    def __init__(self) -> None:
        """Start with nothing defined."""
        self._title = ""
        self._request: dict[str, Any] = {}
        self._values: list[dict[str, Any]] = []
        self._loaded = False
        self._response: ApiResponse | None = None
        self._sent = False
        self._preview_error: str | None = None
        # The token the preview request was made with, to scrub it from what is
        # shown even after a refresh replaced it.
        self._request_token: str | None = None
        self._error_placeholders: dict[str, str] = {}
        self._platform = PLATFORM_SENSOR
        self._editing: int | None = None

    # -- helpers ---------------------------------------------------------------

    @property
    def _entry(self) -> OAuth2RestConfigEntry:
        entry: OAuth2RestConfigEntry = self._get_entry()
        return entry

    @property
    def _endpoint_step_id(self) -> str:
        return "reconfigure" if self._is_reconfigure else "user"

    @property
    def _is_reconfigure(self) -> bool:
        return bool(self.source == "reconfigure")

    def _api_base_url(self) -> str:
        profile = ProviderProfile.from_dict(self._entry.data[CONF_PROVIDER])
        return profile.api_base_url or profile.token_url

    def _url_error(self, raw_url: str) -> str | None:
        """The URL's form error: malformed, not http(s), a refused origin."""
        try:
            url = parse_url(raw_url)
        except InvalidUrlError:
            return "invalid_url"
        if url.is_absolute():
            allowed = {
                origin_of(URL(self._api_base_url())),
                *(
                    origin_of(URL(o))
                    for o in self._entry.options.get(CONF_ALLOWED_ORIGINS, ())
                ),
            }
            if url.scheme not in ("http", "https") or not url.host:
                return "invalid_url"
            if origin_of(url) not in allowed:
                return "origin_not_allowed"
        elif not raw_url or url.scheme or any(c.isspace() for c in raw_url):
            return "invalid_url"
        return None

    def _validate_request(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], dict[str, Any]]:
        """Return form errors and the request's stored data."""
        errors: dict[str, str] = {}
        if not user_input[CONF_NAME].strip():
            errors[CONF_NAME] = "name_required"
        raw_url = user_input[CONF_URL].strip()
        if url_error := self._url_error(raw_url):
            errors[CONF_URL] = url_error
        if (params := parse_lines(user_input.get(CONF_PARAMS), "=")) is None:
            errors[CONF_PARAMS] = "invalid_params"
        headers = parse_lines(user_input.get(CONF_HEADERS), ":")
        if headers is None or not all(_HEADER_NAME.match(name) for name in headers):
            errors[CONF_HEADERS] = "invalid_headers"
        elif any(name.lower() == "authorization" for name in headers):
            errors[CONF_HEADERS] = "header_authorization"
        body = (user_input.get(CONF_BODY) or "").strip() or None
        try:
            render_body(self.hass, body)
        except TemplateError:
            errors[CONF_BODY] = "invalid_body"
        return errors, {
            CONF_METHOD: user_input.get(CONF_METHOD) or DEFAULT_METHOD,
            CONF_URL: raw_url,
            CONF_PARAMS: params or {},
            CONF_HEADERS: headers or {},
            CONF_BODY: body,
            CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
            CONF_TIMEOUT: int(user_input[CONF_TIMEOUT]),
        }

    @staticmethod
    def _request_schema() -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): TextSelector(),
                vol.Required(CONF_METHOD, default=DEFAULT_METHOD): SelectSelector(
                    SelectSelectorConfig(
                        options=list(METHODS), mode=SelectSelectorMode.DROPDOWN
                    )
                ),
                vol.Required(CONF_URL): TextSelector(),
                vol.Optional(CONF_PARAMS): TextSelector(
                    TextSelectorConfig(multiline=True)
                ),
                vol.Optional(CONF_HEADERS): TextSelector(
                    TextSelectorConfig(multiline=True)
                ),
                vol.Optional(CONF_BODY): TemplateSelector(),
                vol.Required(
                    CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=MAX_SCAN_INTERVAL,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
                vol.Required(CONF_TIMEOUT, default=DEFAULT_TIMEOUT): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_TIMEOUT,
                        max=MAX_TIMEOUT,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )

    def _request_form_values(self) -> dict[str, Any]:
        request = self._request
        return {
            CONF_NAME: self._title,
            CONF_METHOD: request.get(CONF_METHOD, DEFAULT_METHOD),
            CONF_URL: request.get(CONF_URL, ""),
            CONF_PARAMS: format_lines(request.get(CONF_PARAMS) or {}, "="),
            CONF_HEADERS: format_lines(request.get(CONF_HEADERS) or {}, ": "),
            CONF_BODY: request.get(CONF_BODY) or "",
            CONF_SCAN_INTERVAL: request.get(CONF_SCAN_INTERVAL, DEFAULT_SCAN_INTERVAL),
            CONF_TIMEOUT: request.get(CONF_TIMEOUT, DEFAULT_TIMEOUT),
        }

    async def _async_request_step(
        self, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """The request form of ``user`` and ``reconfigure``."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, request = self._validate_request(user_input)
            if not errors:
                self._title = user_input[CONF_NAME].strip()
                self._request = request
                self._response = None
                self._sent = False
                return await self.async_step_preview()
        return self.async_show_form(
            step_id=self._endpoint_step_id,
            data_schema=self.add_suggested_values_to_schema(
                self._request_schema(), user_input or self._request_form_values()
            ),
            description_placeholders={"api_base_url": self._api_base_url()},
            errors=errors,
        )

    async def _async_fetch(self) -> None:
        """Make the request once with the account's token, keep the outcome."""
        request = self._request
        self._response = None
        self._preview_error = None
        self._error_placeholders = {}
        self._sent = True
        error: str | None = None
        try:
            json_body, text_body = render_body(self.hass, request.get(CONF_BODY))
            auth = self._entry.runtime_data.auth
            self._request_token = await auth.async_get_access_token()
            response = await auth.request(
                request[CONF_METHOD],
                request[CONF_URL],
                params=request.get(CONF_PARAMS) or None,
                headers=request.get(CONF_HEADERS) or None,
                json=json_body,
                data=text_body,
                timeout=float(request[CONF_TIMEOUT]),
            )
        except TemplateError:
            error = "invalid_body"
        except OriginNotAllowedError as err:
            error = "origin_not_allowed"
            self._error_placeholders["origin"] = err.origin
        except ApiAuthError:
            error = "unauthorized"
        except ApiForbiddenError:
            error = "forbidden"
        except ApiRateLimitedError:
            error = "rate_limited"
        except ApiResponseError as err:
            error = "not_found" if err.status == HTTPStatus.NOT_FOUND else "http_error"
            self._error_placeholders["status"] = str(err.status)
        except ResponseTooLargeError as err:
            error = "too_large"
            self._error_placeholders["limit"] = str(err.limit)
        except ApiConnectionError as err:
            timed_out = isinstance(err.__context__, TimeoutError)
            error = "timeout" if timed_out else "cannot_connect"
        except ApiError:
            error = "cannot_connect"
        except ClientError:  # token refresh failed (HA's OAuth2 errors included)
            error = "token_error"
        else:
            self._response = response
            if response.json_or_none() is None and response.body:
                error = "not_json"
        self._preview_error = error

    def _tokens(self) -> tuple[str | None, ...]:
        """The preview request's token and the current one, to scrub from output."""
        current = str(self._entry.runtime_data.account.session.access_token) or None
        return (self._request_token, current)

    def _response_text(self, limit: int) -> str:
        if self._response is None:
            return "—"
        return format_response(self._response, limit, *self._tokens())

    def _rendered(self, value: Mapping[str, Any]) -> str:
        """A value's template rendered over the preview response."""
        if self._response is None:
            return "—"
        try:
            rendered = render_template(
                Template(value[CONF_VALUE_TEMPLATE], self.hass),
                self._response.json_or_none(),
                self._response.text,
            )
        except TemplateError as err:
            return f"⚠ {err}"
        return redact_text(rendered, *self._tokens())[:200]

    def _values_summary(self) -> str:
        if not self._values:
            return "—"
        return "\n".join(
            f"- **{value[CONF_NAME]}** ({value[CONF_PLATFORM]}): "
            f"{code_span(self._rendered(value))}"
            for value in self._values
        )

    def _placeholders(self) -> dict[str, str]:
        request = self._request
        return {
            "method": request[CONF_METHOD],
            "url": request[CONF_URL],
            "status": str(self._response.status) if self._response else "—",
            "response": self._response_text(PREVIEW_MAX_CHARS),
            "values": self._values_summary(),
            "origin": "",
            "limit": "",
            **self._error_placeholders,
        }

    # -- steps -------------------------------------------------------------------

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Define a new endpoint: the request."""
        return await self._async_request_step(user_input)

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an endpoint: the request, pre-filled."""
        if not self._loaded:
            subentry = self._get_reconfigure_subentry()
            self._title = subentry.title
            self._request = {k: v for k, v in subentry.data.items() if k != CONF_VALUES}
            self._request.setdefault(CONF_METHOD, DEFAULT_METHOD)
            self._request.setdefault(CONF_TIMEOUT, DEFAULT_TIMEOUT)
            self._values = [dict(v) for v in subentry.data.get(CONF_VALUES) or ()]
            self._loaded = True
        return await self._async_request_step(user_input)

    async def async_step_preview(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Send the request once and show what came back."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        safe = self._request[CONF_METHOD] == "GET"
        if user_input is not None and not user_input.get(CONF_SEND):
            return await self.async_step_values()
        if safe or user_input is not None:
            await self._async_fetch()
        schema = (
            vol.Schema({})
            if safe
            else vol.Schema({vol.Optional(CONF_SEND, default=False): BooleanSelector()})
        )
        return self.async_show_form(
            step_id="preview",
            data_schema=schema,
            description_placeholders=self._placeholders(),
            errors={"base": self._preview_error} if self._preview_error else None,
        )

    async def async_step_values(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What next: add, edit or remove values, change the request, or finish."""
        options = ["add_sensor", "add_binary_sensor"]
        if self._values:
            options += ["edit_value", "remove_value"]
        options += [self._endpoint_step_id, "preview"]
        if self._values:
            options.append("finish")
        return self.async_show_menu(
            step_id="values",
            menu_options=options,
            description_placeholders={"values": self._values_summary()},
        )

    async def async_step_add_sensor(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a sensor value."""
        self._platform = PLATFORM_SENSOR
        self._editing = None
        return await self.async_step_value()

    async def async_step_add_binary_sensor(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Add a binary sensor value."""
        self._platform = PLATFORM_BINARY_SENSOR
        self._editing = None
        return await self.async_step_value()

    def _value_choice(self, multiple: bool) -> SelectSelector:
        return SelectSelector(
            SelectSelectorConfig(
                options=[
                    SelectOptionDict(value=value[CONF_KEY], label=value[CONF_NAME])
                    for value in self._values
                ],
                multiple=multiple,
                mode=SelectSelectorMode.LIST,
            )
        )

    async def async_step_edit_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pick the value to edit."""
        if user_input is not None:
            keys = [value[CONF_KEY] for value in self._values]
            self._editing = keys.index(user_input[CONF_VALUE])
            self._platform = self._values[self._editing].get(
                CONF_PLATFORM, PLATFORM_SENSOR
            )
            return await self.async_step_value()
        return self.async_show_form(
            step_id="edit_value",
            data_schema=vol.Schema(
                {vol.Required(CONF_VALUE): self._value_choice(False)}
            ),
        )

    async def async_step_remove_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Pick the values to remove."""
        if user_input is not None:
            remove = set(user_input.get(CONF_REMOVE) or ())
            self._values = [v for v in self._values if v[CONF_KEY] not in remove]
            return await self.async_step_values()
        return self.async_show_form(
            step_id="remove_value",
            data_schema=vol.Schema(
                {vol.Optional(CONF_REMOVE): self._value_choice(True)}
            ),
        )

    def _attribute_suggestions(self) -> list[str]:
        """Top-level keys of the preview response, to pick json_attributes from."""
        data = self._response.json_or_none() if self._response else None
        if isinstance(data, list) and data:
            data = data[0]
        if not isinstance(data, dict):
            return []
        return sorted(str(key) for key in data if str(key).lower() not in SECRET_KEYS)

    def _value_schema(self) -> vol.Schema:
        sensor = self._platform == PLATFORM_SENSOR
        device_classes = (
            _SENSOR_DEVICE_CLASSES if sensor else BINARY_SENSOR_DEVICE_CLASSES
        )
        schema: dict[vol.Marker, Any] = {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_VALUE_TEMPLATE): TemplateSelector(),
            vol.Optional(CONF_JSON_ATTRS): SelectSelector(
                SelectSelectorConfig(
                    options=self._attribute_suggestions(),
                    multiple=True,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_JSON_ATTRS_PATH): TextSelector(),
        }
        if sensor:
            schema[vol.Optional(CONF_UNIT)] = TextSelector()
        schema[vol.Optional(CONF_DEVICE_CLASS)] = SelectSelector(
            SelectSelectorConfig(
                options=device_classes,
                mode=SelectSelectorMode.DROPDOWN,
            )
        )
        if sensor:
            schema[vol.Optional(CONF_STATE_CLASS)] = SelectSelector(
                SelectSelectorConfig(
                    options=[c.value for c in SensorStateClass],
                    mode=SelectSelectorMode.DROPDOWN,
                )
            )
        schema[vol.Required(CONF_DIAGNOSTIC, default=False)] = BooleanSelector()
        schema[vol.Required(CONF_ENABLED_BY_DEFAULT, default=True)] = BooleanSelector()
        return vol.Schema(schema)

    def _value_key(self, name: str) -> str:
        """A new value's key: from its name, unique within the endpoint."""
        taken = {value[CONF_KEY] for value in self._values}
        base = slugify(name) or CONF_VALUE
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        return key

    def _validate_value(self, user_input: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        name = user_input[CONF_NAME].strip()
        others = [
            value[CONF_NAME].casefold()
            for index, value in enumerate(self._values)
            if index != self._editing
        ]
        if not name:
            errors[CONF_NAME] = "name_required"
        elif name.casefold() in others:
            errors[CONF_NAME] = "duplicate_name"
        # The template selector already refused invalid template syntax.
        path = (user_input.get(CONF_JSON_ATTRS_PATH) or "").strip()
        if path and not path.startswith("$"):
            errors[CONF_JSON_ATTRS_PATH] = "invalid_json_path"
        return errors

    def _value_data(self, user_input: dict[str, Any]) -> dict[str, Any]:
        name = user_input[CONF_NAME].strip()
        sensor = self._platform == PLATFORM_SENSOR
        key = (
            self._values[self._editing][CONF_KEY]
            if self._editing is not None
            else self._value_key(name)
        )
        return {
            CONF_KEY: key,
            CONF_NAME: name,
            CONF_PLATFORM: self._platform,
            CONF_VALUE_TEMPLATE: user_input[CONF_VALUE_TEMPLATE],
            CONF_JSON_ATTRS: [
                a.strip() for a in user_input.get(CONF_JSON_ATTRS) or () if a.strip()
            ],
            CONF_JSON_ATTRS_PATH: (user_input.get(CONF_JSON_ATTRS_PATH) or "").strip()
            or None,
            CONF_UNIT: (user_input.get(CONF_UNIT) or "").strip() or None
            if sensor
            else None,
            CONF_DEVICE_CLASS: user_input.get(CONF_DEVICE_CLASS) or None,
            CONF_STATE_CLASS: user_input.get(CONF_STATE_CLASS) or None
            if sensor
            else None,
            CONF_ENTITY_CATEGORY: EntityCategory.DIAGNOSTIC.value
            if user_input.get(CONF_DIAGNOSTIC)
            else None,
            CONF_ENABLED_BY_DEFAULT: bool(
                user_input.get(CONF_ENABLED_BY_DEFAULT, True)
            ),
        }

    def _value_form_values(self) -> dict[str, Any]:
        if self._editing is None:
            return {}
        value = self._values[self._editing]
        suggested = {k: v for k, v in value.items() if v not in (None, [])}
        suggested[CONF_DIAGNOSTIC] = value.get(CONF_ENTITY_CATEGORY) is not None
        return suggested

    async def async_step_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Define (or edit) one value: one entity."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := self._validate_value(user_input)):
                data = self._value_data(user_input)
                if self._editing is None:
                    self._values.append(data)
                else:
                    self._values[self._editing] = data
                self._editing = None
                return await self.async_step_values()
        return self.async_show_form(
            step_id="value",
            data_schema=self.add_suggested_values_to_schema(
                self._value_schema(), user_input or self._value_form_values()
            ),
            description_placeholders={
                "platform": self._platform,
                "response": self._response_text(VALUE_STEP_MAX_CHARS),
            },
            errors=errors,
        )

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Save the endpoint."""
        data = {**self._request, CONF_VALUES: self._values}
        if self._is_reconfigure:
            return self.async_update_and_abort(
                self._entry,
                self._get_reconfigure_subentry(),
                title=self._title,
                data=data,
            )
        return self.async_create_entry(title=self._title, data=data)
