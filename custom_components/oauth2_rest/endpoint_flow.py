"""The ``endpoint`` subentry flow: what to request, a preview, which values to read.

Its steps only: the forms and what they map to are in ``flow/endpoint_forms.py``,
the preview (a test request, and what it shows) in ``flow/preview.py``, the steps
of a recipe and of core ``rest`` YAML in ``flow/endpoint_sources.py``.

Steps (add and reconfigure share them, but for the first):

0. ``user`` (a menu, when adding): ``request`` (typed in), ``recipe`` (a recipe of
   the account's provider, its placeholders filled from the account's fields;
   ``recipe_scopes`` names the scopes the account lacks) or ``import_yaml``
   (core ``rest`` YAML; ``import_summary`` shows what it maps to, then
   ``import_review`` takes one endpoint through the preview or
   ``import_create`` creates everything, controls included);
1. ``request`` / ``reconfigure``: the request (name, method, URL or path, query
   parameters, headers, body, interval, timeout; URL, parameters and header
   values may be templates), the response encoding and TLS (verification, a CA
   file); turning verification off asks for a confirmation (``insecure``);
2. ``preview``: the request is made once with the account's token and the response
   is shown (pretty, truncated, secrets redacted) with each value as its entity
   will show it; errors are form errors. Requests other than GET are only sent on
   demand, since they may change data;
3. ``values`` (a menu): pick values from the response, add a sensor or binary
   sensor value, edit or remove one, change the request, send it again, or finish.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, override

from homeassistant.config_entries import ConfigEntryState, SubentryFlowResult
from homeassistant.const import CONF_NAME
import voluptuous as vol

from .api import entry_origin_policy, entry_profile
from .endpoint import (
    PLATFORM_BINARY_SENSOR,
    PLATFORM_SENSOR,
    EndpointConfig,
    ValueConfig,
)
from .flow.endpoint_forms import (
    CONF_PICKED,
    CONF_REMOVE,
    CONF_SEND,
    CONF_VALUE,
    REQUEST_SCHEMA,
    SEND_SCHEMA,
    async_validate_request,
    pick_schema,
    picked_value,
    request_form_values,
    validate_value,
    value_choice_schema,
    value_form_values,
    value_from_input,
    value_key,
    value_schema,
)
from .flow.endpoint_sources import EndpointSourceSteps
from .flow.import_forms import ImportPlan
from .flow.preview import VALUE_STEP_MAX_CHARS, Preview
from .redact import NO_SECRETS, Secrets
from .request import StoredRequest
from .rest_import import ImportResult
from .suggest import PickList, has_leaves, pick_list, suggest


class EndpointSubentryFlow(EndpointSourceSteps):
    """Add or edit an API endpoint of an account."""

    def __init__(self) -> None:
        """Start with nothing defined."""
        # The request (name, URL, …); its values are edited in ``_values``.
        self._request: EndpointConfig | None = None
        self._values: list[ValueConfig] = []
        self._loaded = False
        self._preview = Preview()
        self._platform = PLATFORM_SENSOR
        self._editing: int | None = None
        # The scopes a recipe needs that the account lacks.
        self._missing_scopes: list[str] = []
        # Pasted core rest YAML: what it maps to, and what will be created.
        self._import: tuple[ImportResult, ImportPlan] | None = None

    # -- helpers ---------------------------------------------------------------

    @property
    def _endpoint_step_id(self) -> str:
        return "reconfigure" if self._is_reconfigure else "request"

    @property
    def _is_reconfigure(self) -> bool:
        return bool(self.source == "reconfigure")

    @property
    def _secrets(self) -> Secrets:
        """The account's secrets, never shown in what the flow displays."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return NO_SECRETS
        return self._entry.runtime_data.account.secrets

    async def _async_request_step(
        self, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """The request form of ``user`` and ``reconfigure``."""
        errors: dict[str, str] = {}
        if user_input is not None:
            errors, request = await async_validate_request(
                self.hass, entry_origin_policy(self._entry), user_input
            )
            if request is not None:
                self._request = request
                self._preview.response = None
                if not request.verify_ssl:
                    return await self.async_step_insecure()
                return await self.async_step_preview()
        return self.async_show_form(
            step_id=self._endpoint_step_id,
            data_schema=self.add_suggested_values_to_schema(
                REQUEST_SCHEMA, user_input or request_form_values(self._request)
            ),
            description_placeholders={
                "api_base_url": entry_profile(self._entry).api_base
            },
            errors=errors,
        )

    def _response_text(self, limit: int) -> str:
        assert self._request is not None
        return self._preview.response_text(limit, self._secrets, self._request.encoding)

    def _values_summary(self) -> str:
        assert self._request is not None
        subentry_id = (
            self._get_reconfigure_subentry().subentry_id
            if self._is_reconfigure
            else None
        )
        return self._preview.values_summary(
            self.hass, self._values, self._request.name, subentry_id, self._secrets
        )

    # -- steps -------------------------------------------------------------------

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Where a new endpoint starts: typed in, a recipe, or core ``rest`` YAML."""
        return self.async_show_menu(
            step_id="user", menu_options=["request", "recipe", "import_yaml"]
        )

    async def async_step_request(
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

    @override
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
        preview = self._preview
        if safe or user_input is not None:
            await preview.async_fetch(
                self._entry.runtime_data.account.auth,
                StoredRequest(self.hass, self._request),
                self._request.encoding,
            )
        return self.async_show_form(
            step_id="preview",
            data_schema=vol.Schema({}) if safe else SEND_SCHEMA,
            description_placeholders=preview.placeholders(
                self._request, self._values_summary(), self._secrets
            ),
            errors={"base": preview.failure.key} if preview.failure else None,
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
        if self._preview.response and has_leaves(self._preview.data[0], self._secrets):
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
        preview = self._preview
        return pick_list(preview.data[0] if preview.response else None, self._secrets)

    async def async_step_pick_values(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Tick values of the response; each becomes a value, its template written."""
        found = self._pick_list()
        if user_input is not None:
            for index in sorted(int(i) for i in user_input.get(CONF_PICKED) or ()):
                suggestion = suggest(found.options[index])
                self._values.append(picked_value(suggestion, self._values))
            return await self.async_step_values()
        return self.async_show_form(
            step_id="pick_values",
            data_schema=pick_schema(found),
            errors={"base": "pick_list_cut"} if found.cut else None,
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
            data_schema=value_choice_schema(CONF_VALUE, self._values, False),
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
            data_schema=value_choice_schema(CONF_REMOVE, self._values, True),
        )

    async def async_step_value(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Define (or edit) one value: one entity."""
        errors: dict[str, str] = {}
        if user_input is not None:
            others = {
                value.name.casefold()
                for index, value in enumerate(self._values)
                if index != self._editing
            }
            if not (errors := validate_value(user_input, others)):
                editing = self._editing
                key = (
                    value_key(user_input[CONF_NAME].strip(), self._values)
                    if editing is None
                    else self._values[editing].key
                )
                value = value_from_input(user_input, self._platform, key)
                if editing is None:
                    self._values.append(value)
                else:
                    self._values[editing] = value
                self._editing = None
                return await self.async_step_values()
        return self.async_show_form(
            # One step per platform, so each has a title of its own in every language.
            step_id=f"{self._platform}_value",
            data_schema=self.add_suggested_values_to_schema(
                value_schema(self._platform, self._preview.data[0], self._secrets),
                user_input
                or value_form_values(
                    None if self._editing is None else self._values[self._editing]
                ),
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
