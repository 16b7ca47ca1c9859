"""What a URL must be: the one rule every URL check of the integration calls.

A URL the integration talks to is absolute http(s) with a host. One the user names
as a place rather than a request (an issuer, an allowed origin) is also bare: no
user info (it would be sent as Basic credentials next to the token or secret), no
query and no fragment. yarl may only notice a bad host or port when they are read,
so both are read before a URL counts as parsed.

Imports nothing from Home Assistant.
"""

from __future__ import annotations

from ipaddress import ip_address
import re

from yarl import URL

from .errors import InvalidUrlError

HTTP_SCHEMES = frozenset({"http", "https"})
# Never in a URL we send (yarl leaves them alone in an already-encoded path).
_URL_FORBIDDEN = re.compile(r"[\x00-\x20\x7f]")


def origin_of(url: URL) -> str:
    """Return scheme://host[:port] of a URL, the unit the allow-list works in."""
    return str(url.origin())


def parse_url(text: str) -> URL:
    """Parse a URL or path; raise InvalidUrlError when it is malformed."""
    try:
        url = URL(text)
        _ = (url.host, url.port)
    except ValueError, TypeError:
        raise InvalidUrlError("invalid URL") from None
    return url


def has_user_info(url: URL) -> bool:
    """Whether the URL carries ``user:password@`` (either part)."""
    return url.user is not None or url.password is not None


def check_request_url(url: URL) -> None:
    """Raise InvalidUrlError for a URL we never request, whatever its origin.

    User info (``user:pass@``) would be sent as Basic credentials next to the
    token; a control character or space left unencoded (yarl keeps them in an
    already-encoded path) would break the request line.
    """
    if has_user_info(url):
        raise InvalidUrlError("user info in URL")
    if _URL_FORBIDDEN.search(str(url)):
        raise InvalidUrlError("control character or space in URL")


def http_url(text: str, *, bare: bool = False) -> URL | None:
    """``text`` as an absolute http(s) URL with a host, else None.

    ``bare`` also refuses user info, a query and a fragment.
    """
    try:
        url = parse_url(text)
    except InvalidUrlError:
        return None
    if url.scheme not in HTTP_SCHEMES or not url.host:
        return None
    if bare and (has_user_info(url) or url.query_string or url.fragment):
        return None
    return url


def parse_origin(text: str) -> str | None:
    """The origin ``text`` names (``scheme://host[:port]``, ``/`` allowed), else None."""
    if (url := http_url(text, bare=True)) is None or url.path not in ("", "/"):
        return None
    return origin_of(url)


def is_loopback(host: str | None) -> bool:
    """Whether host is localhost or a loopback address."""
    if host is None:
        return False
    if host.lower() == "localhost" or host.lower().endswith(".localhost"):
        return True
    try:
        return ip_address(host).is_loopback
    except ValueError:
        return False


def is_secure_transport(url: URL) -> bool:
    """Whether ``url`` may carry a secret or be shown as a link.

    https, or http to a loopback host (a local provider); no other scheme.
    """
    return url.scheme == "https" or (url.scheme == "http" and is_loopback(url.host))
