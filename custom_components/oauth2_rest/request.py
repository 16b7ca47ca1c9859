"""The one way a request is made with an account's token.

An endpoint's poll (``coordinator.py``), the endpoint flow's preview (a test
request), a control's commands (``controls.py``) and the control flow's test, and
the ``oauth2_rest.request`` action all go through
:func:`async_send`: the request is rendered (its source's templates), its TLS
chosen (``tls.py``), and sent through the account's ``AbstractAuth``. Whatever
goes wrong on the way is a :class:`RequestFailed` carrying its translation key
(``errors.py``): ``invalid_request_template``, ``invalid_body``,
``invalid_action_template``, ``invalid_ca_file`` and its kin, or the client or
token error the request failed with. Each caller maps it to its own surface:
``update_failed`` (a poll), a form error (the preview), ``action_failed`` (the
action).

Three sources render a request: :class:`StoredRequest` (an endpoint's or a
control's stored request, its :class:`RequestTemplates` and body compiled once, as
core ``rest``), :class:`MessageRequest` (a notification: a stored request with the
message and title where core ``rest`` notify puts them) and :class:`ActionRequest`
(the action's fields, rendered with its variables, as core ``rest_command``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from ssl import SSLContext
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import hdrs
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import TemplateError
from homeassistant.helpers.template import Template, is_template_string

from .client.auth import AbstractAuth
from .client.errors import UndecodableBodyError
from .client.response import ApiResponse, ConditionalState, loads_json
from .control import SEND_AS_JSON, SEND_AS_QUERY
from .errors import REQUEST_ERRORS, Failure, RequestFailed, request_failed
from .tls import CaFileError, async_ssl_for
from .values import response_values

# Variables a stored request's templates see (a notification's message and title).
type Variables = Mapping[str, Any] | None


FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def _template(hass: HomeAssistant, text: str) -> Template | None:
    """A template for ``text`` when it is one; None for plain text."""
    return Template(text, hass) if is_template_string(text) else None


def _param_text(value: Any) -> str:
    """A rendered query parameter as core ``rest`` sends it (booleans lower-case)."""
    if isinstance(value, bool):
        return str(value).lower()
    return "" if value is None else str(value)


def _check_header(name: str, value: str) -> str:
    if "\r" in value or "\n" in value:
        raise TemplateError(ValueError(f"header {name} rendered a line break"))
    return value


@dataclass(frozen=True, slots=True)
class RenderedRequest:
    """An endpoint's URL, params and headers with their templates rendered."""

    url: str
    params: dict[str, str]
    headers: dict[str, str]


class RequestTemplates:
    """An endpoint's URL, query parameters and header values, any of them templates.

    Core ``rest``'s ``resource_template`` and templated params/headers: rendered
    at every request (parameters parsed as core does, so ``{{ true }}`` is sent
    as ``true``); text without a template is sent as it is.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        url: str,
        params: Mapping[str, str],
        headers: Mapping[str, str],
    ) -> None:
        """Compile what needs compiling once."""
        self._url = url
        self._url_template = _template(hass, url)
        self._params = {k: (v, _template(hass, v)) for k, v in params.items()}
        self._headers = {k: (v, _template(hass, v)) for k, v in headers.items()}
        # Nothing templated (the common case): the same request every time.
        self._static: RenderedRequest | None = None
        if self._url_template is None and not any(
            template
            for _, template in (*self._params.values(), *self._headers.values())
        ):
            self._static = RenderedRequest(url, dict(params), dict(headers))

    def render_url(self, variables: Variables = None) -> str:
        """The URL or path to request. Raises TemplateError."""
        if self._url_template is None:
            return self._url
        return str(
            self._url_template.async_render(variables, parse_result=False)
        ).strip()

    def render_params(self, variables: Variables = None) -> dict[str, str]:
        """The query parameters. Raises TemplateError."""
        return {
            name: value
            if template is None
            else _param_text(template.async_render(variables, parse_result=True))
            for name, (value, template) in self._params.items()
        }

    def render_headers(self, variables: Variables = None) -> dict[str, str]:
        """The header values. Raises TemplateError (a line break is one too)."""
        return {
            name: value
            if template is None
            else _check_header(
                name, str(template.async_render(variables, parse_result=False))
            )
            for name, (value, template) in self._headers.items()
        }

    def render(self, variables: Variables = None) -> RenderedRequest:
        """Everything, rendered now. Raises TemplateError."""
        if self._static is not None:
            return self._static
        return RenderedRequest(
            self.render_url(variables),
            self.render_params(variables),
            self.render_headers(variables),
        )


def render_body(
    hass: HomeAssistant, body: str | None, variables: Variables = None
) -> tuple[Any, str | None]:
    """Render a stored body template: ``(json, None)`` or ``(None, text)``.

    A body that renders to JSON is sent as JSON, anything else as text.
    Raises TemplateError when the template fails.
    """
    if not body:
        return None, None
    rendered = Template(body, hass).async_render(variables, parse_result=False)
    try:
        return loads_json(rendered), None  # bounded depth: else sent as text
    except ValueError:
        return None, rendered


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A request as it is sent: its templates rendered."""

    method: str
    # URL, params and headers: what a conditional request's validators belong to.
    target: RenderedRequest
    json: Any = None
    data: str | None = None


class RequestSource(Protocol):
    """What renders a request and knows its TLS choice."""

    @property
    def timeout(self) -> float:
        """Seconds the request may take."""

    def render(self) -> Outgoing:
        """The request, rendered now. Raises RequestFailed."""

    async def async_ssl(self) -> SSLContext | bool:
        """The ``ssl`` argument of aiohttp for it. Raises RequestFailed."""


@dataclass(frozen=True, slots=True)
class Sent:
    """A request that was answered."""

    request: Outgoing
    response: ApiResponse


async def async_send(
    auth: AbstractAuth,
    source: RequestSource,
    *,
    conditional: Callable[[RenderedRequest], ConditionalState | None] | None = None,
    raise_for_status: bool = True,
) -> Sent:
    """Render ``source``, choose its TLS, send it with the account's token.

    ``conditional`` gives the validators of an earlier answer to the same
    rendered request (a 304 is then returned, not raised). Raises RequestFailed.
    """
    request = source.render()
    ssl = await source.async_ssl()
    target = request.target
    try:
        response = await auth.request(
            request.method,
            target.url,
            params=target.params or None,
            headers=target.headers or None,
            json=request.json,
            data=request.data,
            timeout=source.timeout,
            conditional=conditional(target) if conditional else None,
            raise_for_status=raise_for_status,
            ssl=ssl,
        )
    except REQUEST_ERRORS as err:
        failed = request_failed(err)
        failed.url = target.url
        raise failed from err
    return Sent(request, response)


def read_values(response: ApiResponse, encoding: str | None) -> tuple[Any, str]:
    """What templates see of an answer (``response_values``). Raises RequestFailed.

    An encoding that is not a text encoding cannot decode it.
    """
    try:
        return response_values(response, encoding)
    except UndecodableBodyError as err:
        raise request_failed(err) from err


async def _async_tls(
    hass: HomeAssistant, verify_ssl: bool, ca_file: str | None
) -> SSLContext | bool:
    """The TLS choice; an unusable CA file is a failure with its own key."""
    try:
        return await async_ssl_for(hass, verify_ssl, ca_file)
    except CaFileError as err:
        raise RequestFailed(Failure(err.translation_key, {})) from err


class RequestFields(Protocol):
    """A stored request: an endpoint's (``EndpointConfig``) or a control's."""

    @property
    def method(self) -> str:
        """The HTTP method."""

    @property
    def url(self) -> str:
        """The URL or path (a template or not)."""

    @property
    def params(self) -> Mapping[str, str]:
        """Query parameters (values may be templates)."""

    @property
    def headers(self) -> Mapping[str, str]:
        """Extra headers (values may be templates)."""

    @property
    def body(self) -> str | None:
        """The body: JSON or a template."""

    @property
    def timeout(self) -> float:
        """Seconds the request may take."""

    @property
    def verify_ssl(self) -> bool:
        """Whether the server's certificate is verified."""

    @property
    def ca_file(self) -> str | None:
        """A CA file to verify it with."""


class StoredRequest:
    """A stored request: templates compiled once, rendered at every send.

    An endpoint's poll and preview, a control's commands and its state poll.
    Its CA file is read once (in the executor), at the first send that works.
    """

    def __init__(self, hass: HomeAssistant, config: RequestFields) -> None:
        """Compile the request's templates."""
        self._hass = hass
        self.config = config
        self._templates = RequestTemplates(
            hass, config.url, config.params, config.headers
        )
        self._ssl: SSLContext | bool | None = None

    @property
    def timeout(self) -> float:
        """The request's timeout."""
        return self.config.timeout

    def render(self, variables: Variables = None) -> Outgoing:
        """URL, params, headers, then the body. Raises RequestFailed."""
        try:
            target = self._templates.render(variables)
        except TemplateError as err:
            raise RequestFailed(Failure("invalid_request_template", {})) from err
        try:
            json_body, text_body = render_body(self._hass, self.config.body, variables)
        except TemplateError as err:
            raise RequestFailed(Failure("invalid_body", {})) from err
        return Outgoing(self.config.method, target, json_body, text_body)

    async def async_ssl(self) -> SSLContext | bool:
        """The request's TLS choice. Raises RequestFailed."""
        if self._ssl is None:
            self._ssl = await _async_tls(
                self._hass, self.config.verify_ssl, self.config.ca_file
            )
        return self._ssl


class MessageFields(Protocol):
    """Where a notification puts its message (a control's settings)."""

    @property
    def message_param(self) -> str:
        """The name the message is sent under."""

    @property
    def title_param(self) -> str | None:
        """The name the title is sent under, if it is sent."""

    @property
    def send_as(self) -> str:
        """``json``, ``form`` or ``query``."""

    @property
    def data(self) -> Mapping[str, str]:
        """Extra fields (values may be templates seeing ``message`` and ``title``)."""


class MessageRequest:
    """A notification: a stored request carrying a message, as core ``rest`` notify.

    The message (and the title, when the control names a parameter for it) go
    under their parameter names, then the ``data`` fields rendered with the
    variables ``message`` and ``title`` (a field may replace them, as core's
    ``data_template`` does): a JSON body (values rendered as types), a form body,
    or query parameters. The stored request's own templates see the same
    variables.
    """

    def __init__(
        self,
        request: StoredRequest,
        fields: MessageFields,
        data: Mapping[str, Template | str],
        message: str,
        title: str | None,
    ) -> None:
        """Keep the request and the message; ``data``: the compiled fields."""
        self._request = request
        self._fields = fields
        self._data = data
        self._variables = {"message": message, "title": title}

    @staticmethod
    def compile(
        hass: HomeAssistant, fields: MessageFields
    ) -> dict[str, Template | str]:
        """The ``data`` fields, templates compiled (once per control)."""
        compiled: dict[str, Template | str] = {}
        for name, value in fields.data.items():
            template = _template(hass, value)
            compiled[name] = value if template is None else template
        return compiled

    @property
    def timeout(self) -> float:
        """The stored request's timeout."""
        return self._request.timeout

    async def async_ssl(self) -> SSLContext | bool:
        """The stored request's TLS choice. Raises RequestFailed."""
        return await self._request.async_ssl()

    def render(self) -> Outgoing:
        """The stored request with the message where it goes. Raises RequestFailed."""
        variables = self._variables
        outgoing = self._request.render(variables)
        fields = self._fields
        as_json = fields.send_as == SEND_AS_JSON
        payload: dict[str, Any] = {fields.message_param: variables["message"]}
        if fields.title_param and variables["title"] is not None:
            payload[fields.title_param] = variables["title"]
        try:
            for name, value in self._data.items():
                payload[name] = (
                    value
                    if isinstance(value, str)
                    else value.async_render(variables, parse_result=as_json)
                )
        except TemplateError as err:
            raise RequestFailed(Failure("invalid_body", {})) from err
        target = outgoing.target
        if fields.send_as == SEND_AS_QUERY:
            params = {
                **target.params,
                **{k: _param_text(v) for k, v in payload.items()},
            }
            return replace(outgoing, target=replace(target, params=params))
        if as_json:
            return replace(outgoing, json=payload, data=None)
        headers = {
            name: value
            for name, value in target.headers.items()
            if name.lower() != hdrs.CONTENT_TYPE.lower()
        }
        headers[hdrs.CONTENT_TYPE] = FORM_CONTENT_TYPE
        form = urlencode({k: _param_text(v) for k, v in payload.items()})
        return replace(
            outgoing, target=replace(target, headers=headers), json=None, data=form
        )


class ActionRequest:
    """The action's request: fields rendered as core ``rest_command`` renders them.

    The URL, header values and a text body are templates rendered as text with
    the call's variables; parameters and a JSON body are sent as given. A
    ``content_type`` replaces any Content-Type header.
    """

    def __init__(
        self,
        hass: HomeAssistant,
        method: str,
        url: Template,
        *,
        params: Mapping[str, str] | None,
        headers: Mapping[str, Template],
        json: Any,
        data: Template | None,
        content_type: str | None,
        variables: Mapping[str, Any],
        verify_ssl: bool,
        timeout: float,
    ) -> None:
        """Keep the call's fields."""
        self._hass = hass
        self._method = method
        self._url = url
        self._params = dict(params or {})
        self._headers = headers
        self._json = json
        self._data = data
        self._content_type = content_type
        self._variables = variables
        self._verify_ssl = verify_ssl
        self._timeout = timeout

    @property
    def timeout(self) -> float:
        """The call's timeout."""
        return self._timeout

    def _render(self, template: Template, field: str) -> str:
        try:
            return str(template.async_render(self._variables, parse_result=False))
        except TemplateError as err:
            raise RequestFailed(
                Failure("invalid_action_template", {"field": field, "error": str(err)}),
                caller_error=True,
            ) from err

    def render(self) -> Outgoing:
        """URL, headers, then a text body. Raises RequestFailed."""
        url = self._render(self._url, "url")
        headers = {
            name: self._render(template, "headers")
            for name, template in self._headers.items()
        }
        if self._content_type:
            headers = {
                name: value
                for name, value in headers.items()
                if name.lower() != hdrs.CONTENT_TYPE.lower()
            }
            headers[hdrs.CONTENT_TYPE] = self._content_type
        data = self._render(self._data, "data") if self._data is not None else None
        return Outgoing(
            self._method, RenderedRequest(url, self._params, headers), self._json, data
        )

    async def async_ssl(self) -> SSLContext | bool:
        """Verified, or not (the call's ``verify_ssl``)."""
        return await _async_tls(self._hass, self._verify_ssl, None)
