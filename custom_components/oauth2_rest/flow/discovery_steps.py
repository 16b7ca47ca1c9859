"""The account flow's discovery review: what discovery found, and what it left out.

Metadata documents do not always name everything a server has (a device endpoint
served but not listed, the client credentials grant accepted but not in
``grant_types_supported``): the user sees what was found and may add or correct
it before going on, without starting over.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import ConfigFlowResult

from .account import AccountFlowBase
from .provider_endpoints import (
    ENDPOINTS_SCHEMA,
    discovered_placeholders,
    endpoints_suggested,
    read_endpoints,
)


class DiscoverySteps(AccountFlowBase):
    """Show the discovered provider; let the user add what discovery left out."""

    async def async_step_discovered(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """What discovery found: go on to the credentials, or adjust it."""
        assert self._profile is not None
        return self.async_show_menu(
            step_id="discovered",
            menu_options=["credentials", "adjust_discovered"],
            description_placeholders=discovered_placeholders(self._profile),
        )

    async def async_step_adjust_discovered(
        self, user_input: dict[str, Any] | None = None
    ) -> ConfigFlowResult:
        """Add or correct the revocation and device endpoints, client credentials."""
        assert self._profile is not None
        errors: dict[str, str] = {}
        if user_input is not None:
            profile, errors = read_endpoints(self._profile, user_input)
            if profile is not None:
                self._profile = profile
                return await self.async_step_discovered()
        return self.async_show_form(
            step_id="adjust_discovered",
            data_schema=self.add_suggested_values_to_schema(
                ENDPOINTS_SCHEMA, user_input or endpoints_suggested(self._profile)
            ),
            description_placeholders={"provider": self._profile.name},
            errors=errors,
        )
