"""The OAuth2 redirect URI: the one the flow sends is the one every form shows.

A user registers the redirect URI at the provider exactly as a form shows it; if
the authorization request then sends another one, the provider refuses with
``redirect_uri_mismatch``. So the authorization request (the implementation's
``redirect_uri``), the credentials step, the Application Credentials dialog and
the documentation all name the URI :func:`redirect_uri` returns:

- with the ``my`` integration loaded (``default_config`` loads it), My Home
  Assistant's ``https://my.home-assistant.io/redirect/oauth``, as Home
  Assistant's OAuth2 helper sends it;
- otherwise the address the browser opened Home Assistant with (the frontend's
  ``HA-Frontend-Base`` header of the current request) + ``/auth/external/callback``;
- without such a request (the Application Credentials dialog asks over the
  websocket, which carries no such header), the instance's configured URL +
  ``/auth/external/callback``.
"""

from __future__ import annotations

from homeassistant.core import HomeAssistant
from homeassistant.helpers import http
from homeassistant.helpers.config_entry_oauth2_flow import (
    AUTH_CALLBACK_PATH,
    HEADER_FRONTEND_BASE,
    MY_AUTH_CALLBACK_PATH,
)
from homeassistant.helpers.network import NoURLAvailableError, get_url

# Shown when Home Assistant knows no address of its own: the user fills it in.
UNKNOWN_BASE = "http://<your Home Assistant address>:8123"


def redirect_uri(hass: HomeAssistant) -> str:
    """Return the redirect URI an authorization request sends now.

    Raises NoURLAvailableError when there is neither ``my``, nor a frontend
    request, nor a configured or detectable URL of this instance.
    """
    if "my" in hass.config.components:
        return MY_AUTH_CALLBACK_PATH
    request = http.current_request.get()
    if request is not None and (base := request.headers.get(HEADER_FRONTEND_BASE)):
        return f"{base}{AUTH_CALLBACK_PATH}"
    base = get_url(hass, allow_ip=True, prefer_external=True)
    return f"{base}{AUTH_CALLBACK_PATH}"


def shown_redirect_uri(hass: HomeAssistant) -> str:
    """Return the redirect URI to show the user: :func:`redirect_uri`, or a template.

    The template (no address known) is never sent: the flow stops with
    ``no_url_available`` instead.
    """
    try:
        return redirect_uri(hass)
    except NoURLAvailableError:
        return f"{UNKNOWN_BASE}{AUTH_CALLBACK_PATH}"
