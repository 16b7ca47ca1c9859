"""The ``oauth2_rest.request`` action: an authenticated request with an account's token."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from homeassistant.const import ATTR_CONFIG_ENTRY_ID, CONF_VERIFY_SSL
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

from .client.response import ApiResponse
from .const import DOMAIN
from .coordinator import OAuth2RestConfigEntry
from .endpoint import (
    DEFAULT_METHOD,
    DEFAULT_TIMEOUT,
    MAX_TIMEOUT,
    METHODS as ENDPOINT_METHODS,
    MIN_TIMEOUT,
)
from .errors import RequestFailed, action_failed
from .redact import redact_data, redact_text
from .request import ActionRequest, async_send

SERVICE_REQUEST = "request"
ATTR_METHOD = "method"
ATTR_URL = "url"
ATTR_PARAMS = "params"
ATTR_HEADERS = "headers"
ATTR_JSON = "json"
ATTR_DATA = "data"
ATTR_TIMEOUT = "timeout"
ATTR_CONTENT_TYPE = "content_type"  # as rest_command's
ATTR_VERIFY_SSL = CONF_VERIFY_SSL
ATTR_VARIABLES = "variables"
# rest_command returns the body parsed for this content type, text otherwise.
JSON_CONTENT_TYPE = "application/json"

# An endpoint's methods, and HEAD: an action may ask for the headers alone.
ACTION_METHODS = (*ENDPOINT_METHODS, "HEAD")
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
        vol.Optional(ATTR_METHOD, default=DEFAULT_METHOD): vol.All(
            vol.Upper, vol.In(ACTION_METHODS)
        ),
        vol.Required(ATTR_URL): cv.template,
        vol.Optional(ATTR_PARAMS): _string_map,
        vol.Optional(ATTR_HEADERS): vol.Schema({cv.string: cv.template}),
        vol.Exclusive(ATTR_JSON, "body"): object,
        vol.Exclusive(ATTR_DATA, "body"): cv.template,
        vol.Optional(ATTR_CONTENT_TYPE): cv.string,
        vol.Optional(ATTR_VERIFY_SSL, default=True): cv.boolean,
        vol.Optional(ATTR_VARIABLES, default={}): dict,
        vol.Optional(ATTR_TIMEOUT, default=DEFAULT_TIMEOUT): vol.All(
            vol.Coerce(float), vol.Range(min=MIN_TIMEOUT, max=MAX_TIMEOUT)
        ),
    }
)


def _content(response: ApiResponse) -> Any:
    """The body as rest_command returns it: parsed JSON for application/json, else text.

    Where rest_command fails on a JSON content type with a body that is not JSON,
    the text is returned.
    """
    if response.content_type == JSON_CONTENT_TYPE:
        try:
            return response.json()
        except ValueError, RecursionError:
            pass
    return response.text


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
    request = ActionRequest(
        call.hass,
        call.data[ATTR_METHOD],
        call.data[ATTR_URL],
        params=call.data.get(ATTR_PARAMS),
        headers=call.data.get(ATTR_HEADERS) or {},
        json=call.data.get(ATTR_JSON),
        data=call.data.get(ATTR_DATA),
        content_type=call.data.get(ATTR_CONTENT_TYPE),
        variables=call.data[ATTR_VARIABLES],
        verify_ssl=bool(call.data[ATTR_VERIFY_SSL]),
        timeout=call.data[ATTR_TIMEOUT],
    )
    try:
        sent = await async_send(account.auth, request, raise_for_status=False)
    except RequestFailed as err:
        if err.failure.reauth:
            entry.async_start_reauth(call.hass)
        target = redact_text(err.url or call.data[ATTR_URL].template, account.secrets)
        raise action_failed(err, target) from err.__cause__
    response = sent.response

    if not call.return_response:
        return None
    body = response.json_or_none()
    # An API may echo the request, token included: the response is redacted like
    # everything else we show (it lands in traces).
    secrets = account.secrets
    return {
        "status": response.status,
        "url": redact_text(response.url, secrets),
        "headers": {
            name: redact_text(response.headers[name], secrets)
            for name in RETURNED_HEADERS
            if name in response.headers
        },
        "json": redact_data(body, secrets)
        if body is not None or response.body.strip() == b"null"
        else None,
        "text": redact_text(response.text, secrets) if body is None else None,
        "ok": response.status < HTTPStatus.BAD_REQUEST,
        "content": redact_data(_content(response), secrets),
    }
