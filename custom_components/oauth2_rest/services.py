"""The ``oauth2_rest.request`` action: an authenticated request with an account's token."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID
from homeassistant.core import (
    HomeAssistant,
    ServiceCall,
    ServiceResponse,
    SupportsResponse,
    callback,
)
from homeassistant.helpers import config_validation as cv, service
from homeassistant.helpers.service import async_register_admin_service
import voluptuous as vol

from .const import DOMAIN
from .coordinator import OAuth2RestConfigEntry
from .errors import REQUEST_ERRORS, action_failed, describe
from .redact import redact_text

SERVICE_REQUEST = "request"
ATTR_METHOD = "method"
ATTR_URL = "url"
ATTR_PARAMS = "params"
ATTR_HEADERS = "headers"
ATTR_JSON = "json"
ATTR_DATA = "data"
ATTR_TIMEOUT = "timeout"

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD")
# Response headers worth returning; everything else (cookies included) stays out.
RETURNED_HEADERS = (
    "Content-Type",
    "Content-Length",
    "ETag",
    "Last-Modified",
    "Location",
    "Retry-After",
    "X-RateLimit-Remaining",
    "X-RateLimit-Limit",
    "X-RateLimit-Reset",
    "RateLimit",
    "RateLimit-Remaining",
    "RateLimit-Reset",
)


def _string_map(value: Any) -> dict[str, str]:
    """Validate a mapping of names to scalar values; return it with string values."""
    if not isinstance(value, dict):
        raise vol.Invalid("expected a mapping")
    result: dict[str, str] = {}
    for key, item in value.items():
        if isinstance(item, (dict, list)) or item is None:
            raise vol.Invalid(f"value of {key} must be a string or number")
        result[str(key)] = str(item)
    return result


REQUEST_SCHEMA = vol.Schema(
    {
        vol.Required(ATTR_CONFIG_ENTRY_ID): cv.string,
        vol.Optional(ATTR_METHOD, default="GET"): vol.All(vol.Upper, vol.In(METHODS)),
        vol.Required(ATTR_URL): cv.string,
        vol.Optional(ATTR_PARAMS): _string_map,
        vol.Optional(ATTR_HEADERS): _string_map,
        vol.Exclusive(ATTR_JSON, "body"): object,
        vol.Exclusive(ATTR_DATA, "body"): cv.string,
        vol.Optional(ATTR_TIMEOUT, default=30): vol.All(
            vol.Coerce(float), vol.Range(min=1, max=300)
        ),
    }
)


@callback
def async_setup_services(hass: HomeAssistant) -> None:
    """Register the integration's actions.

    ``request`` makes arbitrary calls with an account's token: only admins may call
    it (calls without a user, from automations and scripts, are allowed).
    """
    async_register_admin_service(
        hass,
        DOMAIN,
        SERVICE_REQUEST,
        _async_request,
        schema=REQUEST_SCHEMA,
        supports_response=SupportsResponse.OPTIONAL,
    )


async def _async_request(call: ServiceCall) -> ServiceResponse:
    """Make the request with the chosen account's token."""
    entry: OAuth2RestConfigEntry = service.async_get_config_entry(
        call.hass, DOMAIN, call.data[ATTR_CONFIG_ENTRY_ID]
    )
    account = entry.runtime_data.account
    try:
        response = await account.auth.request(
            call.data[ATTR_METHOD],
            call.data[ATTR_URL],
            params=call.data.get(ATTR_PARAMS),
            headers=call.data.get(ATTR_HEADERS),
            json=call.data.get(ATTR_JSON),
            data=call.data.get(ATTR_DATA),
            timeout=call.data[ATTR_TIMEOUT],
            raise_for_status=False,
        )
    except REQUEST_ERRORS as err:
        if describe(err).reauth:
            entry.async_start_reauth(call.hass)
        target = redact_text(call.data[ATTR_URL], account.secrets)
        raise action_failed(err, target) from err

    if not call.return_response:
        return None
    body = response.json_or_none()
    return {
        "status": response.status,
        "url": response.url,
        "headers": {
            name: response.headers[name]
            for name in RETURNED_HEADERS
            if name in response.headers
        },
        "json": body if body is not None or response.body.strip() == b"null" else None,
        "text": response.text if body is None else None,
        "ok": response.status < HTTPStatus.BAD_REQUEST,
    }
