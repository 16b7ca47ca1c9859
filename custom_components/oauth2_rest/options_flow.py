"""Account options: where the token may go, and how large a response may be."""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult, OptionsFlow
from homeassistant.helpers.selector import (
    NumberSelector,
    NumberSelectorConfig,
    NumberSelectorMode,
    TextSelector,
    TextSelectorConfig,
)
import voluptuous as vol
from yarl import URL

from .api import entry_profile
from .client.auth import DEFAULT_MAX_RESPONSE_BYTES
from .client.urls import origin_of, parse_origin
from .const import CONF_ALLOWED_ORIGINS, CONF_MAX_RESPONSE_BYTES, EXAMPLE_URLS

MIN_RESPONSE_BYTES = 1024
MAX_RESPONSE_BYTES = 100 * 1024 * 1024


def parse_origins(text: str) -> list[str] | None:
    """Return the origins typed one per line, or None if one is not an origin."""
    origins: list[str] = []
    for line in text.splitlines():
        if not (line := line.strip()):
            continue
        if (origin := parse_origin(line)) is None:
            return None
        if origin not in origins:
            origins.append(origin)
    return origins


class OAuth2RestOptionsFlow(OptionsFlow):
    """Edit the allowed origins and the response size cap."""

    async def async_step_init(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Show and save the options."""
        errors: dict[str, str] = {}
        if user_input is not None:
            origins = parse_origins(user_input.get(CONF_ALLOWED_ORIGINS, ""))
            if origins is None:
                errors[CONF_ALLOWED_ORIGINS] = "invalid_origin"
            else:
                return self.async_create_entry(
                    data={
                        CONF_ALLOWED_ORIGINS: origins,
                        CONF_MAX_RESPONSE_BYTES: int(
                            user_input[CONF_MAX_RESPONSE_BYTES]
                        ),
                    }
                )
        options = self.config_entry.options
        schema = vol.Schema(
            {
                vol.Optional(
                    CONF_ALLOWED_ORIGINS,
                    default="\n".join(options.get(CONF_ALLOWED_ORIGINS, [])),
                ): TextSelector(TextSelectorConfig(multiline=True)),
                vol.Required(
                    CONF_MAX_RESPONSE_BYTES,
                    default=options.get(
                        CONF_MAX_RESPONSE_BYTES, DEFAULT_MAX_RESPONSE_BYTES
                    ),
                ): NumberSelector(
                    NumberSelectorConfig(
                        min=MIN_RESPONSE_BYTES,
                        max=MAX_RESPONSE_BYTES,
                        step=1,
                        mode=NumberSelectorMode.BOX,
                        unit_of_measurement="B",
                    )
                ),
            }
        )
        return self.async_show_form(
            step_id="init",
            data_schema=self.add_suggested_values_to_schema(schema, user_input),
            description_placeholders={
                "api_origin": origin_of(URL(entry_profile(self.config_entry).api_base)),
                **EXAMPLE_URLS,
            },
            errors=errors,
        )
