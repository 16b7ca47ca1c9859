"""The ``endpoint`` subentry flow: what to request, a live preview, which values to read.

Steps (add and reconfigure share them):

1. ``user`` / ``reconfigure``: the request (name, method, URL or path, query
   parameters, headers, body, interval, timeout; URL, parameters and header
   values may be templates), the response encoding and TLS (verification, a CA
   file); turning verification off asks for a confirmation (``insecure``);
2. ``preview``: the request is made once with the account's token and the response
   is shown (pretty, truncated, secrets redacted) with each value's rendered
   template; errors are form errors. Requests other than GET are only sent on
   demand, since they may change data;
3. ``values`` (a menu): add a sensor or binary sensor value, edit or remove one,
   change the request, send it again, or finish.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
import json
import re
from typing import Any

from homeassistant.components.sensor import CONF_STATE_CLASS, SensorStateClass
from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)
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

from .api import entry_origin_policy, entry_profile
from .client.errors import InvalidHeaderError, InvalidUrlError, OriginNotAllowedError
from .client.headers import check_headers
from .client.response import MAX_JSON_DEPTH, ApiResponse, json_too_deep, text_encoding
from .coordinator import OAuth2RestConfigEntry
from .endpoint import (
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
    PLATFORM_BINARY_SENSOR,
    PLATFORM_SENSOR,
    EndpointConfig,
    ValueConfig,
)
from .errors import Failure, RequestFailed
from .flow.preview import shown_value, value_entity_id
from .flow.text import format_lines, parse_lines
from .redact import NO_SECRETS, Secrets, redact_data, redact_text
from .request import (
    EndpointRequest,
    RequestTemplates,
    async_send,
    read_values,
    render_body,
)
from .suggest import PickList, Suggestion, has_leaves, pick_list, suggest
from .tls import CaFileError, async_ssl_for
from .values import (
    BINARY_SENSOR_DEVICE_CLASSES,
    SENSOR_DEVICE_CLASSES,
    attribute_suggestions,
    response_values,
)

PREVIEW_MAX_CHARS = 2500
VALUE_STEP_MAX_CHARS = 1200
CONF_SEND = "send"
CONF_REMOVE = "remove"
CONF_VALUE = "value"
CONF_DIAGNOSTIC = "diagnostic"
CONF_PICKED = "picked"

_BACKTICKS = re.compile(r"`+")
# Every placeholder an error message of this flow may use, shown empty otherwise.
_ERROR_PLACEHOLDERS = ("origin", "limit")


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


def format_response(
    response: ApiResponse,
    limit: int,
    secrets: Secrets = NO_SECRETS,
    encoding: str | None = None,
) -> str:
    """The response as templates see it, in a Markdown code block.

    JSON (and XML, converted as for templates) is pretty-printed; everything is
    redacted and truncated.
    """
    data, raw = response_values(response, encoding)
    if data is not None:
        text = json.dumps(redact_data(data, secrets), indent=2, ensure_ascii=False)
    else:
        text = redact_text(raw, secrets)
    if len(text) > limit:
        text = f"{text[:limit]}\n…"
    return code_block(text)


def _optional(text: str | None) -> str | None:
    return (text or "").strip() or None


class EndpointSubentryFlow(ConfigSubentryFlow):
    """Add or edit an API endpoint of an account."""

    def __init__(self) -> None:
        """Start with nothing defined."""
        # The request (name, URL, …); its values are edited in ``_values``.
        self._request: EndpointConfig | None = None
        self._values: list[ValueConfig] = []
        self._loaded = False
        self._response: ApiResponse | None = None
        # The URL or path the preview was sent to, its templates rendered.
        self._sent_url: str | None = None
        # The response as templates see it: (value_json, value).
        self._data: tuple[Any, str] = (None, "")
        self._failure: Failure | None = None
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

    @property
    def _secrets(self) -> Secrets:
        """The account's secrets, never shown in what the flow displays."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return NO_SECRETS
        return self._entry.runtime_data.account.secrets

    async def _async_validate_request(
        self, user_input: dict[str, Any]
    ) -> tuple[dict[str, str], EndpointConfig | None]:
        """Return form errors, or the request the user described.

        Templates (URL, parameters, headers, body) are rendered once to check
        them; the URL they render to must be one the token may go to.
        """
        errors: dict[str, str] = {}
        name = user_input[CONF_NAME].strip()
        if not name:
            errors[CONF_NAME] = "name_required"
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
        templates = RequestTemplates(self.hass, raw_url, params or {}, headers or {})
        try:
            entry_origin_policy(self._entry).resolve(templates.render_url())
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
        body = (user_input.get(CONF_BODY) or "").strip() or None
        try:
            render_body(self.hass, body)
        except TemplateError:
            errors[CONF_BODY] = "invalid_body"
        encoding = (user_input.get(CONF_ENCODING) or "").strip() or None
        if encoding and text_encoding(encoding) is None:
            errors[CONF_ENCODING] = "invalid_encoding"
        verify_ssl = user_input.get(CONF_VERIFY_SSL) is not False
        ca_file = (user_input.get(CONF_CA_FILE) or "").strip() or None
        if ca_file and verify_ssl:
            try:
                await async_ssl_for(self.hass, verify_ssl, ca_file)
            except CaFileError as err:
                errors[CONF_CA_FILE] = err.translation_key
        if errors:
            return errors, None
        return errors, EndpointConfig(
            name=name,
            method=user_input.get(CONF_METHOD) or DEFAULT_METHOD,
            url=raw_url,
            params=params or {},
            headers=headers or {},
            body=body,
            scan_interval=timedelta(seconds=int(user_input[CONF_SCAN_INTERVAL])),
            timeout=float(int(user_input[CONF_TIMEOUT])),
            encoding=encoding,
            verify_ssl=verify_ssl,
            ca_file=ca_file if verify_ssl else None,
        )

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
                vol.Optional(CONF_ENCODING): TextSelector(),
                vol.Required(CONF_VERIFY_SSL, default=True): BooleanSelector(),
                vol.Optional(CONF_CA_FILE): TextSelector(),
            }
        )

    def _request_form_values(self) -> dict[str, Any]:
        if (request := self._request) is None:
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

    async def _async_request_step(
        self, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """The request form of ``user`` and ``reconfigure``."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, request = await self._async_validate_request(user_input)
            if request is not None:
                self._request = request
                self._response = None
                if not request.verify_ssl:
                    return await self.async_step_insecure()
                return await self.async_step_preview()
        return self.async_show_form(
            step_id=self._endpoint_step_id,
            data_schema=self.add_suggested_values_to_schema(
                self._request_schema(), user_input or self._request_form_values()
            ),
            description_placeholders={
                "api_base_url": entry_profile(self._entry).api_base
            },
            errors=errors,
        )

    async def _async_fetch(self) -> None:
        """Make the request once with the account's token, keep the outcome."""
        request = self._request
        assert request is not None
        self._response = None
        self._failure = None
        try:
            sent = await async_send(
                self._entry.runtime_data.account.auth,
                EndpointRequest(self.hass, request),
            )
            self._data = read_values(sent.response, request.encoding)
        except RequestFailed as err:
            self._failure = err.failure
            return
        self._response = response = sent.response
        self._sent_url = sent.request.target.url
        if self._data[0] is None and response.body:
            self._failure = (
                Failure("json_too_deep", {"limit": str(MAX_JSON_DEPTH)})
                if json_too_deep(self._data[1])
                else Failure("not_json", {})
            )

    def _response_text(self, limit: int) -> str:
        if self._response is None:
            return "—"
        assert self._request is not None
        return format_response(
            self._response, limit, self._secrets, self._request.encoding
        )

    def _rendered(self, value: ValueConfig) -> str:
        """A value as its entity would show it over the preview response."""
        if self._response is None:
            return "—"
        assert self._request is not None
        subentry_id = (
            self._get_reconfigure_subentry().subentry_id
            if self._is_reconfigure
            else None
        )
        entity_id = value_entity_id(self.hass, subentry_id, self._request.name, value)
        return shown_value(self.hass, value, self._data, entity_id, self._secrets)

    def _values_summary(self) -> str:
        if not self._values:
            return "—"
        return "\n".join(
            f"- **{value.name}** ({value.platform}): {code_span(self._rendered(value))}"
            for value in self._values
        )

    def _placeholders(self) -> dict[str, str]:
        assert self._request is not None
        failure = self._failure.placeholders if self._failure else {}
        return {
            "method": self._request.method,
            "url": redact_text(self._sent_url, self._secrets)
            if self._response and self._sent_url
            else self._request.url,
            "status": str(self._response.status) if self._response else "—",
            "response": self._response_text(PREVIEW_MAX_CHARS),
            "values": self._values_summary(),
            **dict.fromkeys(_ERROR_PLACEHOLDERS, ""),
            **failure,
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
            stored = EndpointConfig.from_subentry(self._get_reconfigure_subentry())
            self._request = replace(stored, values=())
            self._values = list(stored.values)
            self._loaded = True
        return await self._async_request_step(user_input)

    async def async_step_preview(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Send the request once and show what came back."""
        assert self._request is not None
        if self._entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        safe = self._request.method == "GET"
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
            errors={"base": self._failure.key} if self._failure else None,
        )

    async def async_step_insecure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """TLS verification is off: say what that means, go on only if asked to."""
        assert self._request is not None
        return self.async_show_menu(
            step_id="insecure",
            menu_options=["preview", self._endpoint_step_id],
            description_placeholders={"url": self._request.url},
        )

    async def async_step_values(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What next: add, edit or remove values, change the request, or finish."""
        options = ["add_sensor", "add_binary_sensor"]
        if self._response and has_leaves(self._data[0], self._secrets):
            options.insert(0, "pick_values")
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

    def _pick_list(self) -> PickList:
        """The preview response's leaf values, to pick from (bounded, redacted)."""
        return pick_list(self._data[0] if self._response else None, self._secrets)

    async def async_step_pick_values(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Tick values of the response; each becomes a value, its template written."""
        found = self._pick_list()
        if user_input is not None:
            for index in sorted(int(i) for i in user_input.get(CONF_PICKED) or ()):
                self._values.append(self._picked_value(suggest(found.options[index])))
            return await self.async_step_values()
        return self.async_show_form(
            step_id="pick_values",
            data_schema=vol.Schema(
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
            ),
            errors={"base": "pick_list_cut"} if found.cut else None,
        )

    def _picked_value(self, suggestion: Suggestion) -> ValueConfig:
        """A value from a suggestion, named apart from the values already there."""
        taken = {value.name.casefold() for value in self._values}
        name, number = suggestion.name, 2
        while name.casefold() in taken:
            name, number = f"{suggestion.name} {number}", number + 1
        return ValueConfig(
            key=self._value_key(name),
            name=name,
            platform=suggestion.platform,
            value_template=suggestion.value_template,
            unit_of_measurement=suggestion.unit_of_measurement,
            device_class=suggestion.device_class,
            state_class=suggestion.state_class,
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
                    SelectOptionDict(value=value.key, label=value.name)
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
            keys = [value.key for value in self._values]
            self._editing = keys.index(user_input[CONF_VALUE])
            self._platform = self._values[self._editing].platform
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
            self._values = [v for v in self._values if v.key not in remove]
            return await self.async_step_values()
        return self.async_show_form(
            step_id="remove_value",
            data_schema=vol.Schema(
                {vol.Optional(CONF_REMOVE): self._value_choice(True)}
            ),
        )

    def _value_schema(self) -> vol.Schema:
        sensor = self._platform == PLATFORM_SENSOR
        device_classes = (
            SENSOR_DEVICE_CLASSES if sensor else BINARY_SENSOR_DEVICE_CLASSES
        )
        suggestions = attribute_suggestions(self._data[0], self._secrets)
        schema: dict[vol.Marker, Any] = {
            vol.Required(CONF_NAME): TextSelector(),
            vol.Required(CONF_VALUE_TEMPLATE): TemplateSelector(),
            vol.Optional(CONF_JSON_ATTRS): SelectSelector(
                SelectSelectorConfig(
                    options=suggestions,
                    multiple=True,
                    custom_value=True,
                    mode=SelectSelectorMode.DROPDOWN,
                )
            ),
            vol.Optional(CONF_JSON_ATTRS_PATH): TextSelector(),
        }
        if sensor:
            schema[vol.Optional(CONF_UNIT_OF_MEASUREMENT)] = TextSelector()
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
        schema[vol.Optional(CONF_AVAILABILITY)] = TemplateSelector()
        schema[vol.Optional(CONF_ICON)] = TemplateSelector()
        schema[vol.Optional(CONF_PICTURE)] = TemplateSelector()
        schema[vol.Required(CONF_FORCE_UPDATE, default=False)] = BooleanSelector()
        schema[vol.Required(CONF_DIAGNOSTIC, default=False)] = BooleanSelector()
        schema[vol.Required(CONF_ENABLED_BY_DEFAULT, default=True)] = BooleanSelector()
        return vol.Schema(schema)

    def _value_key(self, name: str) -> str:
        """A new value's key: from its name, unique within the endpoint."""
        taken = {value.key for value in self._values}
        base = slugify(name) or CONF_VALUE
        key, n = base, 2
        while key in taken:
            key, n = f"{base}_{n}", n + 1
        return key

    def _validate_value(self, user_input: dict[str, Any]) -> dict[str, str]:
        errors: dict[str, str] = {}
        name = user_input[CONF_NAME].strip()
        others = [
            value.name.casefold()
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

    def _value_from_input(self, user_input: dict[str, Any]) -> ValueConfig:
        name = user_input[CONF_NAME].strip()
        sensor = self._platform == PLATFORM_SENSOR
        key = (
            self._values[self._editing].key
            if self._editing is not None
            else self._value_key(name)
        )
        return ValueConfig(
            key=key,
            name=name,
            platform=self._platform,
            value_template=user_input[CONF_VALUE_TEMPLATE],
            json_attributes=tuple(
                a.strip() for a in user_input.get(CONF_JSON_ATTRS) or () if a.strip()
            ),
            json_attributes_path=(user_input.get(CONF_JSON_ATTRS_PATH) or "").strip()
            or None,
            unit_of_measurement=(
                (user_input.get(CONF_UNIT_OF_MEASUREMENT) or "").strip() or None
            )
            if sensor
            else None,
            device_class=user_input.get(CONF_DEVICE_CLASS) or None,
            state_class=user_input.get(CONF_STATE_CLASS) or None if sensor else None,
            entity_category=EntityCategory.DIAGNOSTIC.value
            if user_input.get(CONF_DIAGNOSTIC)
            else None,
            enabled_by_default=bool(user_input.get(CONF_ENABLED_BY_DEFAULT, True)),
            force_update=bool(user_input.get(CONF_FORCE_UPDATE, False)),
            availability_template=_optional(user_input.get(CONF_AVAILABILITY)),
            icon_template=_optional(user_input.get(CONF_ICON)),
            picture_template=_optional(user_input.get(CONF_PICTURE)),
        )

    def _value_form_values(self) -> dict[str, Any]:
        if self._editing is None:
            return {}
        value = self._values[self._editing]
        suggested = {k: v for k, v in value.to_dict().items() if v not in (None, [])}
        suggested[CONF_DIAGNOSTIC] = value.entity_category is not None
        return suggested

    async def async_step_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Define (or edit) one value: one entity."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := self._validate_value(user_input)):
                value = self._value_from_input(user_input)
                if self._editing is None:
                    self._values.append(value)
                else:
                    self._values[self._editing] = value
                self._editing = None
                return await self.async_step_values()
        return self.async_show_form(
            # One step per platform, so each has a title of its own in every language.
            step_id=f"{self._platform}_value",
            data_schema=self.add_suggested_values_to_schema(
                self._value_schema(), user_input or self._value_form_values()
            ),
            description_placeholders={
                "response": self._response_text(VALUE_STEP_MAX_CHARS),
            },
            errors=errors,
        )

    async def async_step_sensor_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The value form of a sensor."""
        return await self.async_step_value(user_input)

    async def async_step_binary_sensor_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The value form of a binary sensor."""
        return await self.async_step_value(user_input)

    async def async_step_finish(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Save the endpoint."""
        assert self._request is not None
        endpoint = replace(self._request, values=tuple(self._values))
        if self._is_reconfigure:
            return self.async_update_and_abort(
                self._entry,
                self._get_reconfigure_subentry(),
                title=endpoint.name,
                data=endpoint.to_data(),
            )
        return self.async_create_entry(title=endpoint.name, data=endpoint.to_data())
