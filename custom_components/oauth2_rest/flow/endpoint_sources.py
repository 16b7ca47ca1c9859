"""Where a new endpoint starts besides typing it in: a recipe, or core ``rest`` YAML.

The endpoint flow's steps for them (its first menu offers ``recipe`` and
``import_yaml``): a recipe of the account's provider with its placeholders filled
from the account's fields (``recipe_scopes`` names the scopes the account lacks),
then the usual preview; pasted YAML, its summary (``import_summary``), then one
endpoint through the preview (``import_review``) or everything created at once
(``import_create``, controls included). The forms are in ``recipe_forms.py`` and
``import_forms.py``.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from homeassistant.config_entries import (
    ConfigEntryState,
    ConfigSubentryFlow,
    SubentryFlowResult,
)

from ..api import entry_origin_policy, entry_profile
from ..const import CONF_SCOPES
from ..control import SUBENTRY_TYPE_CONTROL
from ..coordinator import OAuth2RestConfigEntry
from ..endpoint import SUBENTRY_TYPE_ENDPOINT, EndpointConfig, ValueConfig
from ..recipes import RecipePlaceholderError, async_load_recipes, missing_scopes
from ..rest_import import (
    IMPORT_ERROR_PLACEHOLDERS,
    ImportResult,
    RestImportError,
    parse_rest_yaml,
)
from .import_forms import (
    CONF_YAML,
    IMPORT_SCHEMA,
    ImportPlan,
    new_subentry,
    plan_import,
    summary_placeholders,
)
from .preview import Preview
from .recipe_forms import CONF_RECIPE, entry_fields, recipe_lines, recipe_schema
from .text import code_span


class EndpointSourceSteps(ConfigSubentryFlow):
    """An endpoint from a recipe, or from pasted core ``rest`` YAML."""

    _request: EndpointConfig | None
    _values: list[ValueConfig]
    _preview: Preview
    # The scopes a recipe needs that the account lacks.
    _missing_scopes: list[str]
    # Pasted core rest YAML: what it maps to, and what will be created.
    _import: tuple[ImportResult, ImportPlan] | None

    @property
    def _entry(self) -> OAuth2RestConfigEntry:
        entry: OAuth2RestConfigEntry = self._get_entry()
        return entry

    async def async_step_preview(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The preview (the endpoint flow's)."""
        raise NotImplementedError

    def _start_from(self, endpoint: EndpointConfig) -> None:
        """Take ``endpoint`` (request and values) as the flow's, to preview and edit."""
        self._request = replace(endpoint, values=())
        self._values = list(endpoint.values)
        self._preview.response = None

    async def async_step_recipe(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Start from a recipe of the account's provider (or a neutral one)."""
        if self._entry.state is not ConfigEntryState.LOADED:
            return self.async_abort(reason="entry_not_loaded")
        catalog = await async_load_recipes(self.hass)
        recipes = catalog.recipes_for(entry_profile(self._entry).key)
        errors: dict[str, str] = {}
        placeholders: dict[str, str] = {}
        if user_input is not None and (recipe := catalog.get(user_input[CONF_RECIPE])):
            try:
                data = recipe.endpoint_data(entry_fields(self._entry))
            except RecipePlaceholderError as err:
                errors["base"] = err.translation_key
                placeholders = err.translation_placeholders
            else:
                self._start_from(EndpointConfig.from_data(recipe.title, data))
                self._missing_scopes = missing_scopes(
                    recipe, self._entry.data.get(CONF_SCOPES) or ()
                )
                if self._missing_scopes:
                    return await self.async_step_recipe_scopes()
                return await self.async_step_preview()
        return self.async_show_form(
            step_id="recipe",
            data_schema=recipe_schema([(r.id, r.title) for r in recipes]),
            description_placeholders={
                "recipes": "\n".join(
                    recipe_lines(r, r.title, r.description) for r in recipes
                ),
                "field": "",
                **placeholders,
            },
            errors=errors,
        )

    async def async_step_import_yaml(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Paste core ``rest`` YAML; see what it maps to before anything is made."""
        errors: dict[str, str] = {}
        placeholders = dict.fromkeys(IMPORT_ERROR_PLACEHOLDERS, "")
        if user_input is not None:
            try:
                result = parse_rest_yaml(user_input[CONF_YAML])
            except RestImportError as err:
                errors["base"] = err.translation_key
                placeholders.update(err.translation_placeholders)
            else:
                plan = plan_import(self.hass, entry_origin_policy(self._entry), result)
                self._import = (result, plan)
                return await self.async_step_import_summary()
        return self.async_show_form(
            step_id="import_yaml",
            data_schema=IMPORT_SCHEMA,
            description_placeholders=placeholders,
            errors=errors,
        )

    async def async_step_import_summary(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """What will be created, and every option not taken as written."""
        assert self._import is not None
        result, plan = self._import
        options = ["import_yaml"]
        if plan.endpoints or plan.controls:
            options.insert(0, "import_create")
        if len(plan.endpoints) == 1 and not plan.controls:
            options.insert(0, "import_review")
        return self.async_show_menu(
            step_id="import_summary",
            menu_options=options,
            description_placeholders=summary_placeholders(result, plan),
        )

    async def async_step_import_review(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The one imported endpoint, through the preview and values as any."""
        assert self._import is not None
        (endpoint,) = self._import[1].endpoints
        self._start_from(endpoint)
        return await self.async_step_preview()

    async def async_step_import_create(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """Create every imported endpoint and control; the account keeps running."""
        assert self._import is not None
        plan = self._import[1]
        entry = self._entry
        for endpoint in plan.endpoints:
            self.hass.config_entries.async_add_subentry(
                entry,
                new_subentry(SUBENTRY_TYPE_ENDPOINT, endpoint.name, endpoint.to_data()),
            )
        for control in plan.controls:
            self.hass.config_entries.async_add_subentry(
                entry,
                new_subentry(SUBENTRY_TYPE_CONTROL, control.name, control.to_data()),
            )
        return self.async_abort(
            reason="imported",
            description_placeholders={
                "endpoints": str(len(plan.endpoints)),
                "controls": str(len(plan.controls)),
            },
        )

    async def async_step_recipe_scopes(
        self, user_input: dict[str, Any] | None = None
    ) -> SubentryFlowResult:
        """The account lacks scopes the recipe needs: say which, and how to add them."""
        return self.async_show_menu(
            step_id="recipe_scopes",
            menu_options=["preview", "recipe"],
            description_placeholders={
                "scopes": ", ".join(code_span(s) for s in self._missing_scopes)
            },
        )
