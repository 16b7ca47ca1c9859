"""AbstractAuth: authenticated requests to an OAuth 2.0-protected API.

Shaped as Home Assistant's API-library guide describes it: the caller supplies the
aiohttp session and how to get a valid access token; this class makes the requests.
On top of the guide it enforces what keeps the token safe and the API happy:

- the token goes only to the API base origin and origins explicitly allowed;
  anything else is refused before a connection is made;
- redirects are followed by hand: same origin keeps the Authorization header,
  another origin gets neither it nor the caller's headers, and never the body
  (301/302/303 continue as GET without one, as browsers do; a 307/308 that would
  resend a body to another origin is refused);
- an answer that refuses the token (a 401, a 403 saying ``invalid_token``, a
  provider's own shape; ``refusal.py`` says which) forces one refresh and one
  retry; so does a bare 403, which is a missing scope when the fresh token gets
  it too;
- 429/503 carry Retry-After to the caller; 403 is its own error, naming the
  scope the resource needs when it said so;
- conditional requests (ETag / Last-Modified) and a response size cap (a HEAD
  response has no body: never too large).

Untrusted input is refused before anything is sent: a URL with user info
(``user:pass@``) or a scheme-relative one (``//host/x``, never resolved against the
base), and a header that could split the request or that the integration or the
transport owns (``Authorization``, ``Host``, ``Content-Length``...: the rule is
``headers.py``'s). A redirect to a URL that is not http(s) or that carries user
info is not followed.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Sequence
from functools import lru_cache
from hashlib import sha256
from http import HTTPStatus
import logging
from ssl import SSLContext
from typing import Any

from aiohttp import (
    ClientConnectorCertificateError,
    ClientError,
    ClientResponse,
    ClientSession,
    ClientTimeout,
    hdrs,
)
from multidict import CIMultiDict
from yarl import URL

from .errors import (
    ApiAuthError,
    ApiCertificateError,
    ApiConnectionError,
    ApiForbiddenError,
    ApiNotFoundError,
    ApiRateLimitedError,
    ApiResponseError,
    ApiTimeoutError,
    InvalidBodyError,
    InvalidUrlError,
    OriginNotAllowedError,
    RedirectRefusedError,
    TooManyRedirectsError,
    UnsafeRedirectError,
)
from .headers import check_headers
from .refusal import DeadTokenAnswer, Refusal, Verdict, judge
from .response import ApiResponse, ConditionalState, read_capped, retry_after_seconds
from .urls import HTTP_SCHEMES, check_request_url, has_user_info, origin_of, parse_url

_LOGGER = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 30.0
DEFAULT_MAX_RESPONSE_BYTES = 5 * 1024 * 1024
MAX_REDIRECTS = 5
_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_SAFE_METHODS = frozenset({"GET", "HEAD"})
# Headers describing a body: dropped with the body when a redirect switches to GET.
_BODY_HEADERS = (
    hdrs.CONTENT_TYPE,
    hdrs.CONTENT_LENGTH,
    hdrs.CONTENT_ENCODING,
    hdrs.CONTENT_LANGUAGE,
    hdrs.CONTENT_LOCATION,
)


# URLs an OriginPolicy remembers as resolved (templated URLs may vary endlessly).
_RESOLVED_MAX = 512


@lru_cache(maxsize=64)
def _timeout(total: float) -> ClientTimeout:
    """The aiohttp timeout of ``total`` seconds (immutable: one per value)."""
    return ClientTimeout(total=total)


def _fingerprint(token: str) -> bytes:
    """What is remembered of a token: never the token itself."""
    return sha256(token.encode()).digest()


class OriginPolicy:
    """Where requests may go with the token: the one place that decides.

    A path is joined to the API base URL; an absolute URL must be http(s) and on
    the API base URL's origin or on an origin the user allowed.
    """

    def __init__(self, api_base_url: str, allowed_origins: Iterable[str] = ()) -> None:
        """Initialise with the API base URL and the extra allowed origins."""
        self.api_base_url = URL(api_base_url)
        self.allowed_origins = frozenset(
            {
                origin_of(self.api_base_url),
                *(origin_of(URL(o)) for o in allowed_origins),
            }
        )
        # What was resolved and allowed before (a poll asks for the same URL every
        # time); refusals are never remembered, they raise again.
        self._resolved: dict[str, URL] = {}

    def resolve(self, url_or_path: str) -> URL:
        """Return the absolute URL of a URL or path, checked against the policy.

        Raises InvalidUrlError for a malformed URL or path (empty, white space, a
        scheme other than http(s), scheme-relative ``//host/x``, user info, control
        characters) and OriginNotAllowedError for an origin that may not receive
        the token; either before any connection.
        """
        if (known := self._resolved.get(url_or_path)) is not None:
            return known
        url = self._resolve(url_or_path)
        if len(self._resolved) >= _RESOLVED_MAX:
            self._resolved.clear()
        self._resolved[url_or_path] = url
        return url

    def _resolve(self, url_or_path: str) -> URL:
        url = parse_url(url_or_path)
        if url.is_absolute():
            if not url.scheme:  # never resolved against the base URL
                raise InvalidUrlError("scheme-relative URL")
            if url.scheme not in HTTP_SCHEMES:
                raise InvalidUrlError("not an http(s) URL")
            check_request_url(url)
            self.check(url)
            return url
        if not url_or_path or url.scheme or any(c.isspace() for c in url_or_path):
            raise InvalidUrlError("not a path")
        base = str(self.api_base_url).rstrip("/")
        joined = URL(f"{base}/{url_or_path.lstrip('/')}", encoded="%" in url_or_path)
        check_request_url(joined)
        return joined

    def check(self, url: URL) -> None:
        """Raise OriginNotAllowedError unless the token may go to ``url``."""
        if url.scheme not in HTTP_SCHEMES or origin_of(url) not in self.allowed_origins:
            raise OriginNotAllowedError(origin_of(url) if url.host else str(url))


class AbstractAuth(ABC):
    """Make authenticated requests; subclasses say how to get the access token."""

    def __init__(
        self,
        websession: ClientSession,
        policy: OriginPolicy,
        *,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        on_response: Callable[[ApiResponse], None] | None = None,
        dead_token_answers: Sequence[DeadTokenAnswer] = (),
    ) -> None:
        """Initialise with the session, the origin policy and the body size cap.

        ``on_response`` hears about every response read (rate-limit headers…);
        ``dead_token_answers`` are the provider's own shapes of a dead token.
        """
        self._websession = websession
        self.policy = policy
        self.max_response_bytes = max_response_bytes
        self._on_response = on_response
        self.dead_token_answers = tuple(dead_token_answers)
        # URL -> fingerprint of a fresh token that got a bare 403 there.
        self._forbidden: dict[str, bytes] = {}

    @abstractmethod
    async def async_get_access_token(self) -> str:
        """Return a valid access token, refreshing it when needed."""

    async def async_force_refresh(self, rejected_token: str) -> str:
        """Return a new access token after the API rejected ``rejected_token``.

        The default cannot refresh and returns the current token; subclasses that
        can refresh on demand override this.
        """
        return await self.async_get_access_token()

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        data: Any = None,
        timeout: float = DEFAULT_TIMEOUT,
        conditional: ConditionalState | None = None,
        raise_for_status: bool = True,
        ssl: SSLContext | bool = True,
    ) -> ApiResponse:
        """Make an authenticated request and return the response, body read.

        Raises an ApiError subclass for refused origins, failed connections,
        oversized bodies, a refused token that survives a refresh, and (unless
        ``raise_for_status`` is False) other error statuses. 304 is returned
        (``not_modified``), not raised. ``ssl`` is aiohttp's: True verifies with
        the session's context, False does not verify, a context verifies with it.
        """
        target = self.policy.resolve(url)
        if params:
            target = target.update_query(params)
        check_headers(headers or {})
        if json is not None:
            try:  # the session's serialiser (Home Assistant's refuses big ints)
                self._websession.json_serialize(json)
            except (TypeError, ValueError, OverflowError) as err:
                raise InvalidBodyError(
                    f"the JSON body cannot be serialised: {type(err).__name__}"
                ) from None
        request_headers: CIMultiDict[str] = CIMultiDict(headers or {})
        if conditional is not None:
            request_headers.update(conditional.headers())

        token = await self.async_get_access_token()
        response = await self._send(
            method, target, request_headers, token, json, data, timeout, ssl
        )
        verdict = self._judge(response)
        if verdict is not None and self._refresh_for(verdict, target, token):
            _LOGGER.debug(
                "%s from %s refuses the token; refreshing it once",
                response.status,
                origin_of(target),
            )
            token = await self.async_force_refresh(token)
            response = await self._send(
                method, target, request_headers, token, json, data, timeout, ssl
            )
            verdict = self._judge(response)
            if verdict is not None and verdict.refusal is Refusal.DEAD_TOKEN:
                raise ApiAuthError(response.status, "unauthorized after refresh")
            if verdict is not None and verdict.refusal is Refusal.MAYBE_DEAD:
                # A fresh token refused alike: this endpoint lacks a scope.
                self._remember_forbidden(target, token)
        if not raise_for_status:
            return response
        return self._checked(response, verdict)

    def _judge(self, response: ApiResponse) -> Verdict | None:
        """What the answer says of the token it carried (None when it carried none).

        A 401 from another origin (reached by a redirect, which never carries the
        token) says nothing about the token.
        """
        if not response.token_sent:
            return None
        return judge(response, self.dead_token_answers)

    def _refresh_for(self, verdict: Verdict, target: URL, token: str) -> bool:
        """Whether the refusal calls for the one forced refresh of the request.

        A dead token does. A bare 403 does unless the token was just refreshed or
        a fresh token was refused alike at this URL before: then it is a missing
        scope, and asking for new tokens at every poll would change nothing.
        """
        if verdict.refusal is Refusal.DEAD_TOKEN:
            return True
        if verdict.refusal is Refusal.FORBIDDEN:
            return False
        return not self.just_refreshed(token) and self._forbidden.get(
            str(target)
        ) != _fingerprint(token)

    def _remember_forbidden(self, target: URL, token: str) -> None:
        if len(self._forbidden) >= _RESOLVED_MAX:
            self._forbidden.clear()
        self._forbidden[str(target)] = _fingerprint(token)

    def just_refreshed(self, token: str) -> bool:
        """Whether ``token`` came from a refresh moments ago (default: never known)."""
        return False

    async def _send(
        self,
        method: str,
        url: URL,
        headers: CIMultiDict[str],
        token: str,
        json: Any,
        data: Any,
        timeout: float,
        ssl: SSLContext | bool = True,
    ) -> ApiResponse:
        """Send with the token, following redirects by the origin policy.

        Same origin: the token and the caller's headers are kept. Once a redirect
        leaves the origin, neither is sent again, nor is a body (a 307/308 that
        would resend one is refused). 303, and 301/302 of a method other than
        GET/HEAD, continue as GET without a body.
        """
        headers = CIMultiDict(headers)  # a switch to GET drops body headers
        cross_origin = False
        for _ in range(MAX_REDIRECTS + 1):
            # Never carry the token, or the caller's headers, to another origin.
            if cross_origin:
                send_headers = CIMultiDict[str]()
            else:
                send_headers = headers.copy()
                send_headers[hdrs.AUTHORIZATION] = f"Bearer {token}"
            try:
                async with self._websession.request(
                    method,
                    url,
                    headers=send_headers,
                    json=json,
                    data=data,
                    allow_redirects=False,
                    timeout=_timeout(timeout),
                    ssl=ssl,
                ) as resp:
                    if (
                        resp.status not in _REDIRECTS
                        or hdrs.LOCATION not in resp.headers
                    ):
                        return await self._read(
                            resp, url, method, token_sent=not cross_origin
                        )
                    status = resp.status
                    location = resp.headers[hdrs.LOCATION]
            except TimeoutError:
                raise ApiTimeoutError(
                    f"{method} {origin_of(url)}{url.path}: timed out"
                ) from None
            except ClientConnectorCertificateError:
                raise ApiCertificateError(
                    f"{method} {origin_of(url)}{url.path}: certificate not verified"
                ) from None
            except ClientError as err:
                raise ApiConnectionError(
                    f"{method} {origin_of(url)}{url.path}: {type(err).__name__}"
                ) from None
            try:
                next_url = url.join(parse_url(location))
            except InvalidUrlError:
                raise ApiResponseError(status, "redirect to an invalid URL") from None
            if next_url.scheme not in HTTP_SCHEMES:
                raise UnsafeRedirectError(
                    f"{status} redirect to a {next_url.scheme or 'relative'}: URL"
                )
            if has_user_info(next_url):
                raise UnsafeRedirectError(f"{status} redirect to a URL with user info")
            leaves_origin = origin_of(next_url) != origin_of(url)
            if status == HTTPStatus.SEE_OTHER or (
                status in (HTTPStatus.MOVED_PERMANENTLY, HTTPStatus.FOUND)
                and method not in _SAFE_METHODS
            ):
                method = "HEAD" if method == "HEAD" else "GET"
                json = data = None
                for name in _BODY_HEADERS:
                    headers.popall(name, None)
            elif leaves_origin and (json is not None or data is not None):
                raise RedirectRefusedError(
                    f"{status} redirect to another origin would resend the body"
                )
            cross_origin = cross_origin or leaves_origin
            url = next_url
        raise TooManyRedirectsError(f"more than {MAX_REDIRECTS} redirects")

    async def _read(
        self, resp: ClientResponse, url: URL, method: str, *, token_sent: bool
    ) -> ApiResponse:
        """Read the body, stopping as soon as it exceeds the cap.

        A HEAD response's Content-Length describes a body that is not sent.
        """
        response = ApiResponse(
            status=resp.status,
            headers=resp.headers,  # already a read-only copy of what was received
            body=await read_capped(
                resp, self.max_response_bytes, body_expected=method != "HEAD"
            ),
            url=str(url),
            content_type=resp.content_type or "",
            charset=resp.charset,
            token_sent=token_sent,
        )
        if self._on_response is not None:
            self._on_response(response)
        return response

    @staticmethod
    def _checked(response: ApiResponse, verdict: Verdict | None) -> ApiResponse:
        """Raise the typed error for an error status."""
        status = response.status
        if status < HTTPStatus.BAD_REQUEST:
            return response
        if status == HTTPStatus.FORBIDDEN:
            raise ApiForbiddenError(
                status, "forbidden", scope=verdict.scope if verdict else None
            )
        if status == HTTPStatus.NOT_FOUND:
            raise ApiNotFoundError(status, "not found")
        if status in (HTTPStatus.TOO_MANY_REQUESTS, HTTPStatus.SERVICE_UNAVAILABLE):
            raise ApiRateLimitedError(
                status, retry_after_seconds(response.headers.get("Retry-After"))
            )
        raise ApiResponseError(status)
