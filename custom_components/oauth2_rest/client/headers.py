"""Which request headers a caller may set: the one rule, for every request path.

A header is refused before anything is sent when it could split the request (a
name that is not a token, RFC 9110 5.1; a control character but tab in a value,
RFC 9110 5.5: CR/LF would inject headers), or when the integration or the
transport owns it. Owned, matched case-insensitively:

- ``Authorization``: carries the account's token, which the client alone sets,
  and only for the origins the token may go to. Anything starting ``Proxy-``
  (``Proxy-Authorization``, ``Proxy-Connection``...) is for the proxy between
  Home Assistant and the API, which is Home Assistant's, not an endpoint's.
- ``Host`` and the headers shared front ends (CDNs, reverse proxies, load
  balancers) route by when they name a host: ``Forwarded`` (RFC 7239),
  ``X-Forwarded-Host``, ``X-Forwarded-Server``, ``X-Host``,
  ``X-HTTP-Host-Override``. One front end serving several sites would send the
  request, token and all, to the site they name instead of the allowed origin.
- What frames the message or manages the connection, which aiohttp writes from
  the body and its pool: ``Content-Length``, ``Transfer-Encoding``, ``TE``,
  ``Trailer``, ``Expect``, ``Connection``, ``Keep-Alive``, ``Upgrade``. A wrong
  one desynchronises the connection (a smuggled second request) or changes
  the protocol spoken.

Not owned, because they change neither where a request goes nor how it is
carried: ``Cookie`` (an API credential like any ``X-Api-Key``; it goes where the
token goes and is dropped with the caller's other headers on a redirect to
another origin), ``Content-Type``, ``Accept*``, conditional headers
(``If-None-Match``... which the client's own conditional polls replace), and
``X-Forwarded-For``/``-Proto``/``-Port``, which name no host.
"""

from __future__ import annotations

from collections.abc import Mapping
import re

from .errors import InvalidHeaderError, OwnedHeaderError

# Lower-case; see the module's docstring for why each is owned.
OWNED_HEADERS = frozenset(
    {
        "authorization",
        "host",
        "forwarded",
        "x-forwarded-host",
        "x-forwarded-server",
        "x-host",
        "x-http-host-override",
        "content-length",
        "transfer-encoding",
        "te",
        "trailer",
        "expect",
        "connection",
        "keep-alive",
        "upgrade",
    }
)
OWNED_PREFIXES = ("proxy-",)
# RFC 9110 section 5.1: a field name is a token.
_HEADER_NAME = re.compile(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
# RFC 9110 section 5.5: no control characters but horizontal tab in a field value.
_HEADER_VALUE_FORBIDDEN = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")


def is_owned_header(name: str) -> bool:
    """Whether the integration or the transport owns the header ``name``."""
    lowered = name.lower()
    return lowered in OWNED_HEADERS or lowered.startswith(OWNED_PREFIXES)


def check_headers(headers: Mapping[str, str]) -> None:
    """Raise InvalidHeaderError for a header a caller may not send.

    OwnedHeaderError (an InvalidHeaderError) names an owned header; the
    InvalidHeaderError itself one that could split the request.
    """
    for name, value in headers.items():
        if not _HEADER_NAME.fullmatch(name):
            raise InvalidHeaderError("invalid header name")
        if _HEADER_VALUE_FORBIDDEN.search(value):
            raise InvalidHeaderError("control character in a header value")
        if is_owned_header(name):
            raise OwnedHeaderError(name)
