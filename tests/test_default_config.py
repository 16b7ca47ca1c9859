"""The account flow with what ``default_config`` loads besides us.

Home Assistant Cloud (``cloud``, part of ``default_config``) adds an OAuth2
implementation provider; when its account link server is out of reach (offline,
or an outage) it raises, and Home Assistant then raises from
``async_get_implementations`` when nobody provided anything.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers.config_entry_oauth2_flow import (
    AbstractOAuth2Implementation,
    ImplementationUnavailableError,
    async_add_implementation_provider,
)
import pytest
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator

from .test_redirect import http_flows, link_over_http, sent_redirect_uri  # noqa: F401

pytestmark = pytest.mark.usefixtures("setup_application_credentials", "http_flows")


async def cloud_offline(
    hass: HomeAssistant, domain: str
) -> list[AbstractOAuth2Implementation]:
    """Home Assistant Cloud's provider without its account link server."""
    raise ImplementationUnavailableError(
        "Cannot provide OAuth2 implementation for cloud services. "
        "Failed to fetch from account link server."
    )


async def test_link_while_cloud_cannot_provide(
    hass: HomeAssistant, hass_client: ClientSessionGenerator
) -> None:
    """No stored credential and the cloud's provider failing: the flow goes on."""
    async_add_implementation_provider(hass, "cloud", cloud_offline)
    shown, result = await link_over_http(hass, hass_client, {})
    assert sent_redirect_uri(hass, result) == shown
