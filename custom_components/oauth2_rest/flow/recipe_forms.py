"""Forms that start an endpoint or a control from something ready-made.

The recipe choice (the account's provider's recipes and the neutral ones, each
with what it reads, the scopes it needs and the provider's reference) and the
account's fields a recipe's placeholders are filled from (never a token).
"""

from __future__ import annotations

from collections.abc import Sequence

from homeassistant.helpers.selector import (
    SelectOptionDict,
    SelectSelector,
    SelectSelectorConfig,
    SelectSelectorMode,
)
import voluptuous as vol

from ..api import entry_profile
from ..coordinator import OAuth2RestConfigEntry
from ..recipes import Recipe, account_fields
from .account_forms import stored_identity
from .text import code_span

CONF_RECIPE = "recipe"


def recipe_schema(choices: Sequence[tuple[str, str]]) -> vol.Schema:
    """A choice of recipes: (id, title) pairs."""
    return vol.Schema(
        {
            vol.Required(CONF_RECIPE): SelectSelector(
                SelectSelectorConfig(
                    options=[
                        SelectOptionDict(value=value, label=label)
                        for value, label in choices
                    ],
                    mode=SelectSelectorMode.LIST,
                )
            )
        }
    )


def recipe_lines(recipe: Recipe, title: str, description: str) -> str:
    """One Markdown item: title, what it does, its scopes and reference."""
    scopes = ", ".join(code_span(scope) for scope in recipe.scopes) or "—"
    return (
        f"- **{title}**: {description} ({scopes}; [API reference]({recipe.docs_url}))"
    )


def entry_fields(entry: OAuth2RestConfigEntry) -> dict[str, str]:
    """What a loaded account offers a recipe's placeholders (never a token)."""
    implementation = entry.runtime_data.account.session.implementation
    return account_fields(
        entry_profile(entry),
        stored_identity(entry),
        getattr(implementation, "client_id", None),
    )
