"""TLS of an endpoint: verified by default, a CA file for self-hosted APIs, or off.

What an endpoint asks for becomes aiohttp's per-request ``ssl`` argument, so every
endpoint shares the account's one session (and its connection pool, which aiohttp
keys by that argument). A CA file is read in the executor, never in the event loop,
and only when it is a regular file of bounded size: a named pipe or a device
(``/dev/zero``) would block or never end, keeping the executor thread forever.
"""

from __future__ import annotations

import logging
import os
from ssl import SSLContext, SSLError
import stat

from homeassistant.core import HomeAssistant
from homeassistant.util.ssl import create_client_context

_LOGGER = logging.getLogger(__name__)


# Far more than a CA bundle (the system's holds ~150 certificates in ~220 kB).
MAX_CA_FILE_BYTES = 4 * 1024 * 1024


class CaFileError(Exception):
    """The CA file cannot be read or holds no usable certificate."""

    def __init__(self, detail: str, translation_key: str = "invalid_ca_file") -> None:
        """Keep what went wrong (never the file's content) and its wording."""
        super().__init__(detail)
        self.translation_key = translation_key


def _read_ca_file(ca_file: str) -> bytes:
    """The bytes of ``ca_file``: a regular file of at most MAX_CA_FILE_BYTES.

    Opened without blocking (a named pipe with no writer does not wait for one)
    and checked on the open file, so it cannot be swapped after the check.
    """
    try:
        fd = os.open(ca_file, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
    except OSError as err:
        raise CaFileError(f"{type(err).__name__}: {err}") from err
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise CaFileError("not a regular file", "ca_file_not_regular")
        with os.fdopen(fd, "rb", closefd=False) as file:
            data = file.read(MAX_CA_FILE_BYTES + 1)
    except OSError as err:
        raise CaFileError(f"{type(err).__name__}: {err}") from err
    finally:
        os.close(fd)
    if len(data) > MAX_CA_FILE_BYTES:
        raise CaFileError(f"larger than {MAX_CA_FILE_BYTES} bytes", "ca_file_too_large")
    return data


def _load_ca_file(ca_file: str) -> SSLContext:
    """Home Assistant's client context, also trusting the certificates of ``ca_file``."""
    # PEM is ASCII; text around the certificates (comments) is not read.
    pem = _read_ca_file(ca_file).decode("ascii", errors="ignore")
    context = create_client_context()
    try:
        context.load_verify_locations(cadata=pem)
    except (SSLError, ValueError) as err:
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
