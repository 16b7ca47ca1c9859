"""Which changes set a running account up again, and who schedules that.

A running account applies endpoint and option changes in place (its update
listener), and a token refresh changes nothing it runs with. A grant a flow
linked (reauth, reconfigure: a token without a generation, see
``token_store``), a new title and a changed provider profile (endpoints a user
added or corrected in reconfigure) need the account set up again.

Home Assistant wants an entry that has an update listener to schedule that
reload from the listener: a flow that reloads such an entry itself
(``async_update_reload_and_abort``) is deprecated, and stops working in 2026.12.
So a flow only updates a running entry and its listener reloads it, once; an
entry that is not running (failed setup, setup retry) has no listener, and the
flow reloads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from homeassistant.config_entries import ConfigEntry, ConfigFlow, ConfigFlowResult
from homeassistant.core import callback
from homeassistant.helpers.typing import UNDEFINED, UndefinedType

from .const import CONF_PROVIDER
from .oauth.token_set import generation_of


def needs_setup_again(
    entry: ConfigEntry[Any], running_title: str, running_provider: Any
) -> bool:
    """Whether the running account must be set up again for what the entry holds."""
    return (
        generation_of(entry.data.get("token")) is None
        or entry.title != running_title
        or entry.data.get(CONF_PROVIDER) != running_provider
    )


@callback
def async_update_and_abort(
    flow: ConfigFlow,
    entry: ConfigEntry[Any],
    *,
    title: str | UndefinedType = UNDEFINED,
    data: Mapping[str, Any] | UndefinedType = UNDEFINED,
) -> ConfigFlowResult:
    """Update the entry and end the flow; the entry is set up again, once.

    A running entry is reloaded by its update listener when the change needs it,
    one that is not running is reloaded here.
    """
    if entry.update_listeners:
        return flow.async_update_and_abort(entry, title=title, data=data)
    return flow.async_update_reload_and_abort(entry, title=title, data=data)
