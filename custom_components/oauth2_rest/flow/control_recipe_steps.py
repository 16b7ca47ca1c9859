"""A control from a recipe: the control flow's steps for it.

The control flow's first menu offers ``recipe`` when the catalog has controls
for the account's provider; the one picked fills the control's forms (its
placeholders from the account's fields), ``recipe_scopes`` names the scopes the
account lacks, and the flow goes on through the kind's forms and the test.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)

from ..api import entry_profile
from ..const import CONF_SCOPES
from ..control import ControlConfig
from ..coordinator import OAuth2RestConfigEntry
from ..recipes import (
    Recipe,
    RecipeControl,
    RecipePlaceholderError,
    async_load_recipes,
    missing_scopes,
)
from .recipe_forms import CONF_RECIPE, entry_fields, recipe_lines, recipe_schema
from .text import code_span


class ControlRecipeSteps(ConfigSubentryFlow):
    """A control started from a recipe of the account's provider."""

    _control: ControlConfig | None
    # The scopes a recipe's control needs that the account lacks.
    _missing_scopes: list[str]

    @property
    def _entry(self) -> OAuth2RestConfigEntry:
        entry: OAuth2RestConfigEntry = self._get_entry()
        return entry

    async def _async_control_step(
        self, kind: str, user_input: dict[str, Any] | None
    ) -> SubentryFlowResult:
        """A kind's own form (the control flow's)."""
        raise NotImplementedError

    async def _async_recipe_controls(self) -> dict[str, tuple[Recipe, RecipeControl]]:
        """The recipe controls offered to this account, by choice id."""
        catalog = await async_load_recipes(self.hass)
        return {
            f"{recipe.id}.{control.id}": (recipe, control)
            for recipe, control in catalog.controls_for(entry_profile(self._entry).key)
        }

    async def async_step_recipe(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Start from a recipe's control: its forms come pre-filled, then the test."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        offered = await self._async_recipe_controls()
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {"field": ""}
        if user_input is not None and (chosen := offered.get(user_input[CONF_RECIPE])):
            control = chosen[1]
            try:
                data = control.control_data(entry_fields(self._entry))
            except RecipePlaceholderError as err:
                errors["base"] = err.translation_key
                placeholders = err.translation_placeholders
            else:
                self._control = ControlConfig.from_data(control.title, data)
                self._missing_scopes = missing_scopes(
                    control, self._entry.data.get(CONF_SCOPES) or ()
                )
                if self._missing_scopes:
                    return await self.async_step_recipe_scopes()
                return await self._async_control_step(self._control.kind, None)
        return self.async_show_form(
            step_id="recipe",
            data_schema=recipe_schema(
                [
                    (key, f"{recipe.title}: {c.title}")
                    for key, (recipe, c) in offered.items()
                ]
            ),
            description_placeholders={
                "recipes": "\n".join(
                    recipe_lines(recipe, f"{recipe.title}: {c.title}", c.description)
                    for recipe, c in offered.values()
                ),
                **placeholders,
            },
            errors=errors,
        )

    async def async_step_recipe_scopes(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The account lacks scopes the control needs: say which, and how to add them."""
        assert self._control is not None
        return self.async_show_menu(
            step_id="recipe_scopes",
            menu_options=[self._control.kind, "recipe"],
            description_placeholders={
                "scopes": ", ".join(code_span(s) for s in self._missing_scopes)
            },
        )
