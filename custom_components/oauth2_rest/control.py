"""A control subentry's settings, typed: switches, buttons and notifications.

Endpoints read an API; controls act on it. A control is a subentry of the account
(``control``), as endpoints are, and a device of its own with one entity:

- a **switch**: a *turn on* and a *turn off* request; its state read from one of
  the account's endpoints (an ``is_on`` template over that endpoint's answer: no
  extra polling), from a state request of its own (polled as an endpoint is), or
  not known at all (``assumed_state``, what was last sent);
- a **button**: a *press* request;
- a **notify** entity: a *send* request carrying the message and title, as core
  ``rest`` notify sends them: under the parameter names given, in a JSON body, a
  form body or the query, with extra ``data`` fields (templates that see
  ``message`` and ``title``).

Every request is a :class:`RequestConfig`: method, URL or path, query
parameters, headers and body, templates allowed as in an endpoint; the control's
timeout and TLS choice apply to all of its requests (:meth:`ControlConfig.command`). Stored shape::

    {
      "kind": "switch" | "button" | "notify",
      "requests": {"turn_on": {...}, "turn_off": {...}, "state": {...},
                   "press": {...}, "send": {...}},
      # each: {"method": "POST", "url": "/path", "params": {}, "headers": {},
      #        "body": "<JSON or template>" | None}
      "timeout": 30, "verify_ssl": true, "ca_file": None,
      # switch
      "state_source": "endpoint" | "request" | "none",
      "state_endpoint": "<endpoint subentry id>" | None,
      "is_on_template": "{{ value_json.on }}" | None, "scan_interval": 60,
      # notify
      "message_param": "message", "title_param": "title" | None,
      "send_as": "json" | "form" | "query", "data": {"priority": "{{ 1 }}"}
    }
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Self

from homeassistant.config_entries import ConfigSubentry
from homeassistant.const import (
    CONF_HEADERS,
    CONF_METHOD,
    CONF_PARAMS,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_URL,
    CONF_VERIFY_SSL,
)

from .endpoint import (
    CONF_BODY,
    CONF_CA_FILE,
    DEFAULT_SCAN_INTERVAL,
    DEFAULT_TIMEOUT,
    EndpointConfig,
    stored_interval,
)

SUBENTRY_TYPE_CONTROL = "control"

KIND_SWITCH = "switch"
KIND_BUTTON = "button"
KIND_NOTIFY = "notify"
KINDS = (KIND_SWITCH, KIND_BUTTON, KIND_NOTIFY)

# The requests of each kind.
TURN_ON = "turn_on"
TURN_OFF = "turn_off"
STATE = "state"
PRESS = "press"
SEND = "send"

# Where a switch's state comes from.
STATE_FROM_ENDPOINT = "endpoint"
STATE_FROM_REQUEST = "request"
STATE_UNKNOWN = "none"
STATE_SOURCES = (STATE_FROM_ENDPOINT, STATE_FROM_REQUEST, STATE_UNKNOWN)

# How a notification carries its message: core rest notify's POST_JSON, POST, GET.
SEND_AS_JSON = "json"
SEND_AS_FORM = "form"
SEND_AS_QUERY = "query"
SEND_AS = (SEND_AS_JSON, SEND_AS_FORM, SEND_AS_QUERY)
DEFAULT_MESSAGE_PARAM = "message"  # as core rest notify's

COMMAND_METHODS = ("POST", "PUT", "PATCH", "DELETE", "GET")
DEFAULT_COMMAND_METHOD = "POST"

CONF_KIND = "kind"
CONF_REQUESTS = "requests"
CONF_STATE_SOURCE = "state_source"
CONF_STATE_ENDPOINT = "state_endpoint"
CONF_IS_ON_TEMPLATE = "is_on_template"  # as core rest switch's
CONF_MESSAGE_PARAM = "message_param"
CONF_TITLE_PARAM = "title_param"
CONF_SEND_AS = "send_as"
CONF_DATA = "data"


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestConfig:
    """One request of a control, as stored: what to send and where."""

    method: str = DEFAULT_COMMAND_METHOD
    url: str
    params: Mapping[str, str] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: str | None = None

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build from a stored request."""
        return cls(
            method=data.get(CONF_METHOD) or DEFAULT_COMMAND_METHOD,
            url=data[CONF_URL],
            params=dict(data.get(CONF_PARAMS) or {}),
            headers=dict(data.get(CONF_HEADERS) or {}),
            body=data.get(CONF_BODY) or None,
        )

    def to_dict(self) -> dict[str, Any]:
        """The stored request."""
        return {
            CONF_METHOD: self.method,
            CONF_URL: self.url,
            CONF_PARAMS: dict(self.params),
            CONF_HEADERS: dict(self.headers),
            CONF_BODY: self.body,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class CommandConfig:
    """A control's request with the control's timeout and TLS choice.

    It has the fields ``request.py`` sends an endpoint's request with.
    """

    method: str
    url: str
    params: Mapping[str, str]
    headers: Mapping[str, str]
    body: str | None
    timeout: float
    verify_ssl: bool
    ca_file: str | None


@dataclass(frozen=True, kw_only=True, slots=True)
class ControlConfig:
    """A switch, a button or a notify entity acting on the account's API."""

    name: str
    kind: str
    requests: Mapping[str, RequestConfig] = field(default_factory=dict)
    timeout: float = DEFAULT_TIMEOUT
    verify_ssl: bool = True
    ca_file: str | None = None
    # A switch's state.
    state_source: str = STATE_UNKNOWN
    state_endpoint: str | None = None
    is_on_template: str | None = None
    scan_interval: timedelta = timedelta(seconds=DEFAULT_SCAN_INTERVAL)
    # A notification's message.
    message_param: str = DEFAULT_MESSAGE_PARAM
    title_param: str | None = None
    send_as: str = SEND_AS_JSON
    data: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_subentry(cls, subentry: ConfigSubentry) -> Self:
        """Build from a ``control`` subentry."""
        return cls.from_data(subentry.title, subentry.data)

    @classmethod
    def from_data(cls, name: str, data: Mapping[str, Any]) -> Self:
        """Build from a control's stored data."""
        return cls(
            name=name,
            kind=data[CONF_KIND],
            requests={
                which: RequestConfig.from_dict(request)
                for which, request in (data.get(CONF_REQUESTS) or {}).items()
            },
            timeout=float(data.get(CONF_TIMEOUT, DEFAULT_TIMEOUT)),
            verify_ssl=data.get(CONF_VERIFY_SSL) is not False,
            ca_file=data.get(CONF_CA_FILE) or None,
            state_source=data.get(CONF_STATE_SOURCE) or STATE_UNKNOWN,
            state_endpoint=data.get(CONF_STATE_ENDPOINT) or None,
            is_on_template=data.get(CONF_IS_ON_TEMPLATE) or None,
            scan_interval=stored_interval(data),
            message_param=data.get(CONF_MESSAGE_PARAM) or DEFAULT_MESSAGE_PARAM,
            title_param=data.get(CONF_TITLE_PARAM) or None,
            send_as=data.get(CONF_SEND_AS) or SEND_AS_JSON,
            data=dict(data.get(CONF_DATA) or {}),
        )

    def to_data(self) -> dict[str, Any]:
        """The subentry's stored data (its name is the subentry's title)."""
        timeout = self.timeout
        return {
            CONF_KIND: self.kind,
            CONF_REQUESTS: {
                which: request.to_dict() for which, request in self.requests.items()
            },
            CONF_TIMEOUT: int(timeout) if timeout.is_integer() else timeout,
            CONF_VERIFY_SSL: self.verify_ssl,
            CONF_CA_FILE: self.ca_file,
            CONF_STATE_SOURCE: self.state_source,
            CONF_STATE_ENDPOINT: self.state_endpoint,
            CONF_IS_ON_TEMPLATE: self.is_on_template,
            CONF_SCAN_INTERVAL: int(self.scan_interval.total_seconds()),
            CONF_MESSAGE_PARAM: self.message_param,
            CONF_TITLE_PARAM: self.title_param,
            CONF_SEND_AS: self.send_as,
            CONF_DATA: dict(self.data),
        }

    @property
    def commands(self) -> tuple[str, ...]:
        """The requests that act (not the state request), in the order shown."""
        return {
            KIND_SWITCH: (TURN_ON, TURN_OFF),
            KIND_BUTTON: (PRESS,),
            KIND_NOTIFY: (SEND,),
        }[self.kind]

    def command(self, which: str) -> CommandConfig:
        """The request ``which`` as it is sent: with the control's timeout and TLS."""
        request = self.requests[which]
        return CommandConfig(
            method=request.method,
            url=request.url,
            params=request.params,
            headers=request.headers,
            body=request.body,
            timeout=self.timeout,
            verify_ssl=self.verify_ssl,
            ca_file=self.ca_file,
        )

    def state_poll(self) -> EndpointConfig | None:
        """A switch's own state request, polled as an endpoint is; else None."""
        request = self.requests.get(STATE)
        if self.state_source != STATE_FROM_REQUEST or request is None:
            return None
        return EndpointConfig(
            name=self.name,
            method=request.method,
            url=request.url,
            params=request.params,
            headers=request.headers,
            body=request.body,
            scan_interval=self.scan_interval,
            timeout=self.timeout,
            verify_ssl=self.verify_ssl,
            ca_file=self.ca_file,
        )
