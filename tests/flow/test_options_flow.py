"""Account options: allowed origins and the response size cap."""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.options_flow import parse_origins

from ..strings import assert_form_placeholders


async def test_options_saved(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """Origins are normalised and de-duplicated; the cap is an int."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    assert result["type"] is FlowResultType.FORM
    assert result["description_placeholders"]["api_origin"] == (
        "https://api.example.com"
    )
    assert_form_placeholders(result, "options")
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "allowed_origins": "https://Files.example.com/\n\nhttps://files.example.com\nhttp://x.example:8080",
            "max_response_bytes": 2048.0,
        },
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    assert config_entry.options == {
        "allowed_origins": ["https://files.example.com", "http://x.example:8080"],
        "max_response_bytes": 2048,
    }


async def test_invalid_origin_keeps_options(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> None:
    """A path or another scheme is a form error; nothing is saved."""
    config_entry.add_to_hass(hass)
    result = await hass.config_entries.options.async_init(config_entry.entry_id)
    result = await hass.config_entries.options.async_configure(
        result["flow_id"],
        {
            "allowed_origins": "https://files.example.com/path",
            "max_response_bytes": 5000,
        },
    )
    assert result["type"] is FlowResultType.FORM
    assert result["errors"] == {"allowed_origins": "invalid_origin"}
    assert config_entry.options == {}


def test_parse_origins() -> None:
    """What counts as an origin."""
    assert parse_origins("") == []
    assert parse_origins("https://a.example\nhttps://a.example/") == [
        "https://a.example"
    ]
    for bad in (
        "ftp://a.example",
        "https://a.example/x",
        "https://a.example?q=1",
        "https://u:p@a.example",
        # A password without a user name is user info all the same.
        "https://:p@a.example",
        "https://a.example#f",
        "http://[::1",
        "https://a.example:99999",
        "a.example",
    ):
        assert parse_origins(bad) is None, bad
