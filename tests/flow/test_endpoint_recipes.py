"""The endpoint flow's "Start from a recipe": the account's provider's recipes, then the preview.

Against a real API on loopback (the echo server): the recipe's request is sent
once, as any endpoint's preview, and saved with its values unless edited.
"""

from __future__ import annotations

from typing import Any

from homeassistant.config_entries import SOURCE_USER
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from ..common import AUTH_DOMAIN, ISSUER, manual_profile
from ..echo import EchoServers

pytestmark = pytest.mark.usefixtures("setup_credentials")


async def _account(
    hass: HomeAssistant,
    echo_servers: EchoServers,
    token_data: dict[str, Any],
    scopes: list[str],
    **profile: Any,
) -> MockConfigEntry:
    """An account whose API is the echo server, with the profile ``profile``."""
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Recipes",
        unique_id=f"{ISSUER}#subject-1",
        data={
            "auth_implementation": AUTH_DOMAIN,
            "token": token_data,
            "provider": manual_profile(
                api_base_url=echo_servers.api,
                token_url=f"{echo_servers.api}/token",
                **profile,
            ).as_dict(),
            "scopes": scopes,
            "subject": "athlete 42",
        },
    )
    entry.add_to_hass(hass)
    await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()
    return entry


async def _recipe_form(hass: HomeAssistant, entry: MockConfigEntry) -> Any:
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "endpoint"), context={"source": SOURCE_USER}
    )
    assert result["type"] is FlowResultType.MENU
    assert result["menu_options"] == ["request", "recipe", "import_yaml"]
    return await _next(hass, result, {"next_step_id": "recipe"})


async def _next(hass: HomeAssistant, result: Any, user_input: dict[str, Any]) -> Any:
    return await hass.config_entries.subentries.async_configure(
        result["flow_id"], user_input
    )


def _options(result: Any) -> list[str]:
    schema = result["data_schema"].schema
    (selector,) = schema.values()
    return [option["value"] for option in selector.config["options"]]


async def test_start_from_a_recipe_then_preview_and_save(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """The demo's recipe (a discovered account): sent once, its values kept."""
    entry = await _account(
        hass, echo_servers, token_data, ["api:read"], key="discovery"
    )
    result = await _recipe_form(hass, entry)
    assert result["step_id"] == "recipe"
    options = _options(result)
    assert options[:3] == ["demo_weather", "demo_status", "demo_counter"]
    assert options[-1] == "openid_userinfo"  # neutral ones last
    assert "strava_year_to_date" not in options  # another provider's
    assert "**Demo provider: weather**" in result["description_placeholders"]["recipes"]

    result = await _next(hass, result, {"recipe": "demo_weather"})
    assert result["step_id"] == "preview"
    assert result["description_placeholders"]["status"] == "200"
    (sent,) = echo_servers.received_by("api")
    assert sent.path_qs == "/api/weather"
    result = await _next(hass, result, {})
    assert result["step_id"] == "values"
    assert "**Temperature**" in result["description_placeholders"]["values"]
    result = await _next(hass, result, {"next_step_id": "finish"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["title"] == "Demo provider: weather"
    keys = [value["key"] for value in result["data"]["values"]]
    assert keys == ["temperature", "humidity", "pressure", "condition"]
    assert result["data"]["scan_interval"] == 30


async def test_recipe_fills_the_account_fields(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """Strava's athlete id is the account's subject, quoted in the path."""
    entry = await _account(hass, echo_servers, token_data, ["read"], key="strava")
    result = await _recipe_form(hass, entry)
    assert "strava_year_to_date" in _options(result)
    result = await _next(hass, result, {"recipe": "strava_year_to_date"})
    assert result["step_id"] == "preview"
    paths = [r.path_qs for r in echo_servers.received_by("api")]
    assert paths == ["/athletes/athlete%2042/stats"]


async def test_missing_scopes_are_named_and_reconfigure_offered(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """Scopes the recipe needs and the account lacks: said, then try or pick another."""
    entry = await _account(hass, echo_servers, token_data, ["read"], key="discovery")
    result = await _recipe_form(hass, entry)
    result = await _next(hass, result, {"recipe": "demo_status"})
    assert result["type"] is FlowResultType.MENU
    assert result["step_id"] == "recipe_scopes"
    assert result["description_placeholders"]["scopes"] == "`api:read`"
    assert result["menu_options"] == ["preview", "recipe"]
    assert echo_servers.received_by("api") == []  # nothing sent yet
    back = await _next(hass, result, {"next_step_id": "recipe"})
    assert back["step_id"] == "recipe"
    result = await _next(hass, back, {"recipe": "demo_status"})
    result = await _next(hass, result, {"next_step_id": "preview"})
    assert result["step_id"] == "preview"
    assert len(echo_servers.received_by("api")) == 1


async def test_recipe_whose_field_the_account_lacks(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """No userinfo endpoint: the OpenID recipe cannot be filled; the form says why."""
    entry = await _account(
        hass, echo_servers, token_data, ["openid"], userinfo_url=None
    )
    result = await _recipe_form(hass, entry)
    assert _options(result) == ["openid_userinfo"]
    result = await _next(hass, result, {"recipe": "openid_userinfo"})
    assert result["step_id"] == "recipe"
    assert result["errors"] == {"base": "recipe_placeholder_missing"}
    assert result["description_placeholders"]["field"] == "userinfo_url"


async def test_recipe_needs_a_loaded_account(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """Not loaded: nothing to fill the recipe from."""
    entry = await _account(hass, echo_servers, token_data, ["read"])
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "endpoint"), context={"source": SOURCE_USER}
    )
    await hass.config_entries.async_unload(entry.entry_id)
    result = await _next(hass, result, {"next_step_id": "recipe"})
    assert result["type"] is FlowResultType.ABORT
    assert result["reason"] == "entry_not_loaded"


async def test_control_from_a_recipe(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """Spotify's pause button: its forms pre-filled, tested, saved."""
    entry = await _account(
        hass, echo_servers, token_data, ["user-modify-playback-state"], key="spotify"
    )
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "control"), context={"source": SOURCE_USER}
    )
    assert result["menu_options"] == ["switch", "button", "notify", "recipe"]
    result = await _next(hass, result, {"next_step_id": "recipe"})
    assert "spotify_now_playing.spotify_pause" in _options(result)
    assert "demo_lamp.demo_lamp_switch" not in _options(result)
    result = await _next(hass, result, {"recipe": "spotify_now_playing.spotify_pause"})
    assert result["step_id"] == "button"
    result = await _next(hass, result, {"name": "Pause", "timeout": 30})
    assert result["step_id"] == "press"
    schema = result["data_schema"].schema
    suggested = {
        str(key): key.description["suggested_value"]
        for key in schema
        if key.description and "suggested_value" in key.description
    }
    assert suggested["method"] == "PUT"
    assert suggested["url"] == "/v1/me/player/pause"
    result = await _next(hass, result, {"method": "PUT", "url": "/v1/me/player/pause"})
    result = await _next(hass, result, {"test": "press"})
    assert result["description_placeholders"]["status"] == "200"
    (sent,) = echo_servers.received_by("api")
    assert (sent.method, sent.path_qs) == ("PUT", "/v1/me/player/pause")
    result = await _next(hass, result, {"test": "nothing"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert result["data"]["kind"] == "button"


async def test_control_recipe_missing_scopes_and_fields(
    hass: HomeAssistant, echo_servers: EchoServers, token_data: dict[str, Any]
) -> None:
    """A scope the account lacks is named; a field it lacks is a form error."""
    entry = await _account(hass, echo_servers, token_data, ["read"], key="spotify")
    result = await hass.config_entries.subentries.async_init(
        (entry.entry_id, "control"), context={"source": SOURCE_USER}
    )
    result = await _next(hass, result, {"next_step_id": "recipe"})
    result = await _next(hass, result, {"recipe": "spotify_now_playing.spotify_pause"})
    assert result["step_id"] == "recipe_scopes"
    assert result["menu_options"] == ["button", "recipe"]
    assert (
        result["description_placeholders"]["scopes"] == "`user-modify-playback-state`"
    )
    result = await _next(hass, result, {"next_step_id": "button"})
    assert result["step_id"] == "button"

    # Twitch's clip button needs the account's id, which a named account lacks.
    entry2 = await _account(
        hass, echo_servers, token_data, ["clips:edit"], key="twitch"
    )
    hass.config_entries.async_update_entry(
        entry2, data={**entry2.data, "subject_from_user": True}
    )
    result = await hass.config_entries.subentries.async_init(
        (entry2.entry_id, "control"), context={"source": SOURCE_USER}
    )
    result = await _next(hass, result, {"next_step_id": "recipe"})
    result = await _next(
        hass, result, {"recipe": "twitch_followers.twitch_create_clip"}
    )
    assert result["step_id"] == "recipe"
    assert result["errors"] == {"base": "recipe_placeholder_missing"}
    assert result["description_placeholders"]["field"] == "subject"
