"""TLS of an endpoint: verified by default, a CA file for self-hosted APIs, or off.

What an endpoint asks for becomes aiohttp's per-request ``ssl`` argument, so every
endpoint shares the account's one session (and its connection pool, which aiohttp
keys by that argument). A CA file is read in the executor, never in the event loop.
"""

from __future__ import annotations

import logging
from ssl import SSLContext, SSLError

from homeassistant.core import HomeAssistant
from homeassistant.util.ssl import create_client_context

_LOGGER = logging.getLogger(__name__)


class CaFileError(Exception):
    """The CA file cannot be read or holds no usable certificate."""

    translation_key = "invalid_ca_file"


def _load_ca_file(ca_file: str) -> SSLContext:
    """Home Assistant's client context, also trusting the certificates of ``ca_file``."""
    context = create_client_context()
    try:
        context.load_verify_locations(cafile=ca_file)
    except (OSError, SSLError, ValueError) as err:
        raise CaFileError(f"{type(err).__name__}: {err}") from err
    return context


async def async_ssl_for(
    hass: HomeAssistant, verify_ssl: bool, ca_file: str | None
) -> SSLContext | bool:
    """The ``ssl`` argument for an endpoint: True (the session's), False, or a context.

    Raises CaFileError when the CA file cannot be used.
    """
    if not verify_ssl:
        return False
    if not ca_file:
        return True
    return await hass.async_add_executor_job(_load_ca_file, ca_file)


def log_unverified(endpoint: str, account: str) -> None:
    """Say, once per setup, that an endpoint's certificate is not verified."""
    _LOGGER.warning(
        "TLS certificate verification is off for endpoint %s of %s, as configured: "
        "anyone able to intercept its connections can read the access token",
        endpoint,
        account,
    )
