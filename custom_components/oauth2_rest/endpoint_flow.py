"""The ``endpoint`` subentry flow: what to poll and which value to read."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigSubentryFlow, SubentryFlowResult
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TemplateSelector,
    TextSelector,
)
from homeassistant.helpers.template import Template
import voluptuous as vol
from yarl import URL

from .client.auth import origin_of
from .const import CONF_ALLOWED_ORIGINS, CONF_PROVIDER
from .endpoint import (
    CONF_KEY,
    CONF_METHOD,
    CONF_NAME,
    CONF_PLATFORM,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_UNIT,
    CONF_URL,
    CONF_VALUE_TEMPLATE,
    CONF_VALUES,
    DEFAULT_METHOD,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    MIN_SCAN_INTERVAL,
)
from .oauth.provider import ProviderProfile

MAIN_VALUE_KEY = "value"


class EndpointSubentryFlow(ConfigSubentryFlow):
    """Add or edit an API endpoint of an account."""

    def _api_base_url(self) -> str:
        profile = ProviderProfile.from_dict(self._get_entry().data[CONF_PROVIDER])
        return profile.api_base_url or profile.token_url

    def _validate(self, user_input: dict[str, Any]) -> dict[str, str]:
        """Return form errors for the endpoint's URL and template."""
        errors: dict[str, str] = {}
        url = URL(user_input[CONF_URL].strip())
        if url.is_absolute():
            allowed = {
                origin_of(URL(self._api_base_url())),
                *(
                    origin_of(URL(o))
                    for o in self._get_entry().options.get(CONF_ALLOWED_ORIGINS, ())
                ),
            }
            if url.scheme not in ("http", "https") or not url.host:
                errors[CONF_URL] = "invalid_url"
            elif origin_of(url) not in allowed:
                errors[CONF_URL] = "origin_not_allowed"
        try:
            Template(user_input[CONF_VALUE_TEMPLATE], self.hass).ensure_valid()
        except TemplateError:
            errors[CONF_VALUE_TEMPLATE] = "invalid_template"
        return errors

    @staticmethod
    def _data(user_input: dict[str, Any]) -> dict[str, Any]:
        """Subentry data from the form."""
        return {
            CONF_METHOD: DEFAULT_METHOD,
            CONF_URL: user_input[CONF_URL].strip(),
            CONF_SCAN_INTERVAL: int(user_input[CONF_SCAN_INTERVAL]),
            CONF_TIMEOUT: DEFAULT_TIMEOUT,
            CONF_VALUES: [
                {
                    CONF_KEY: MAIN_VALUE_KEY,
                    CONF_NAME: user_input[CONF_NAME].strip(),
                    CONF_PLATFORM: "sensor",
                    CONF_VALUE_TEMPLATE: user_input[CONF_VALUE_TEMPLATE],
                    CONF_UNIT: user_input.get(CONF_UNIT) or None,
                }
            ],
        }

    def _schema(self) -> vol.Schema:
        return vol.Schema(
            {
                vol.Required(CONF_NAME): str,
                vol.Required(CONF_URL): TextSelector(),
                vol.Required(CONF_VALUE_TEMPLATE): TemplateSelector(),
                vol.Optional(CONF_UNIT): str,
                vol.Required(
                    CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_SCAN_INTERVAL,
                        max=86400,
                        step=1,
                        unit_of_measurement="s",
                        mode=NumberSelectorMode.BOX,
                    )
                ),
            }
        )

    async def async_step_user(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Define a new endpoint."""
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := self._validate(user_input)):
                return self.async_create_entry(
                    title=user_input[CONF_NAME].strip(), data=self._data(user_input)
                )
        return self.async_show_form(
            step_id="user",
            data_schema=self.add_suggested_values_to_schema(self._schema(), user_input),
            description_placeholders={"api_base_url": self._api_base_url()},
            errors=errors,
        )

    async def async_step_reconfigure(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Edit an endpoint."""
        subentry = self._get_reconfigure_subentry()
        errors: dict[str, str] = {}
        if user_input is not None:
            if not (errors := self._validate(user_input)):
                return self.async_update_and_abort(
                    self._get_entry(),
                    subentry,
                    title=user_input[CONF_NAME].strip(),
                    data=self._data(user_input),
                )
        value = subentry.data[CONF_VALUES][0]
        current = {
            CONF_NAME: subentry.title,
            CONF_URL: subentry.data[CONF_URL],
            CONF_VALUE_TEMPLATE: value[CONF_VALUE_TEMPLATE],
            CONF_UNIT: value.get(CONF_UNIT) or "",
            CONF_SCAN_INTERVAL: subentry.data[CONF_SCAN_INTERVAL],
        }
        return self.async_show_form(
            step_id="reconfigure",
            data_schema=self.add_suggested_values_to_schema(
                self._schema(), user_input or current
            ),
            description_placeholders={"api_base_url": self._api_base_url()},
            errors=errors,
        )
