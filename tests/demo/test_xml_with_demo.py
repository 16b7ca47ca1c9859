"""An XML resource of the real demo provider, read by an endpoint into a sensor.

The account's token comes from the provider itself (client credentials), the
endpoint polls ``/api/weather.xml`` over loopback HTTP: no mocks in between.
"""

from __future__ import annotations

import time

from aiohttp import ClientSession, encode_basic_auth
from homeassistant.components.application_credentials import (
    ClientCredential,
    async_import_client_credential,
)
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.core import HomeAssistant
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import DOMAIN

from ..common import manual_profile

pytestmark = pytest.mark.usefixtures("socket_enabled")


async def test_xml_resource_becomes_a_sensor(hass: HomeAssistant, issuer: str) -> None:
    """``/api/weather.xml`` read as core ``rest`` reads XML: same value as the JSON."""
    async with ClientSession() as session:
        token_response = await session.post(
            f"{issuer}/token",
            data={"grant_type": "client_credentials", "scope": "api:read"},
            headers={
                "Authorization": encode_basic_auth("home-assistant", "demo-secret")
            },
        )
        token = await token_response.json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        weather = await (
            await session.get(f"{issuer}/api/weather", headers=headers)
        ).json()
        xml = await session.get(f"{issuer}/api/weather.xml", headers=headers)
        assert xml.content_type == "application/xml"

    assert await async_setup_component(hass, "application_credentials", {})
    await async_import_client_credential(
        hass,
        DOMAIN,
        ClientCredential("home-assistant", "demo-secret", "Demo"),
        auth_domain="demo",
    )
    entry = MockConfigEntry(
        domain=DOMAIN,
        title="Demo",
        unique_id=f"{issuer}#home-assistant",
        data={
            "auth_implementation": "demo",
            "token": {**token, "expires_at": time.time() + 3600},
            "provider": manual_profile(
                authorize_url=f"{issuer}/authorize",
                token_url=f"{issuer}/token",
                userinfo_url=f"{issuer}/userinfo",
                issuer=issuer,
                api_base_url=issuer,
            ).as_dict(),
            "scopes": ["api:read"],
            "subject": "home-assistant",
        },
        subentries_data=[
            ConfigSubentryData(
                data={
                    "url": "/api/weather.xml",
                    "values": [
                        {
                            "key": "temperature",
                            "name": "Temperature",
                            "value_template": "{{ value_json.weather.temperature }}",
                            "unit_of_measurement": "°C",
                            "json_attributes": ["@unit", "condition"],
                            "json_attributes_path": "$.weather",
                        }
                    ],
                },
                subentry_id="endpoint_xml",
                subentry_type="endpoint",
                title="XML weather",
                unique_id=None,
            )
        ],
    )
    entry.add_to_hass(hass)
    assert await hass.config_entries.async_setup(entry.entry_id)
    await hass.async_block_till_done()

    state = hass.states.get("sensor.xml_weather_temperature")
    assert state is not None
    assert float(state.state) == weather["temperature"]
    assert state.attributes["@unit"] == "°C"
    assert state.attributes["condition"] == weather["condition"]
