"""Recipes: ready-made endpoints for known APIs, as data (``recipes.json``).

A recipe is an endpoint with its values, as the endpoint flow would store it
(``endpoint.py``'s shape), for one provider: the account's preset (its key in
``oauth/presets.json``), ``"discovery"`` (any account linked by discovery: the
demo provider is linked that way, so its recipes are offered there), or ``"*"``
(provider-neutral, offered for every account: OpenID Connect userinfo). It
carries what the endpoint flow shows before the user picks it: a title, a
description, the provider's API reference, the scopes it needs, and a sample
response written from that reference (with invented values), which the tests
render every value against.

The catalog file::

    {
      "scopes": {"<provider>": {"<scope>": ["<broader scope>", ...]}},
      "recipes": [
        {"id": "strava_year_to_date", "provider": "strava", "title": "...",
         "description": "...", "docs_url": "https://...", "scopes": ["read"],
         "endpoint": {"method": "GET", "url": "/athletes/{subject}/stats",
                      "params": {}, "headers": {}, "body": null, "scan_interval": 1800,
                      "values": [<ValueConfig.to_dict keys, defaults left out>]},
         "sample": <the response's JSON>,
         "controls": [
           {"id": "spotify_pause", "title": "...", "description": "...",
            "docs_url": "https://...", "scopes": ["user-modify-playback-state"],
            "control": <ControlConfig.to_data keys but TLS and state_endpoint,
                        defaults left out>,
            "sample_state": <a state answer's JSON: a switch with a state request>}
         ]}
      ]
    }

A recipe's **controls** (optional) act on the API its endpoint reads: switches,
buttons and notify entities (``control.py``'s stored shape). A switch's state
comes from a state request of its own (``"state_source": "request"``, with its
``is_on_template`` and a documented ``sample_state``, showing it on, that the
tests render it over) or is not known (``"none"``): a recipe cannot name one of
the account's endpoints. The flow offers them with :meth:`RecipeCatalog.controls_for`
and stores :meth:`RecipeControl.control_data`.

``scopes`` documents, per provider, the scopes recipes may need beyond the
preset's default scopes (every scope of a neutral or discovery recipe), each
with the broader scopes that include it (GitHub's ``repo`` gives what
``notifications`` gives): a recipe names only its preset's default scopes or
these.

Placeholders: the URL, each query parameter value and each header value (of the
endpoint, and of each request of a control) may hold ``{name}`` (letters, digits,
underscore; Jinja's ``{{ }}``/``{% %}`` are left to the request's templates),
filled from the account's fields (:func:`account_fields`, never its tokens) when
a recipe becomes an endpoint or a control. A value placed in the URL is quoted as
one path segment; one in a parameter or header may not hold braces or control
characters (they would be template syntax or split the request). Bodies and a
notification's ``data`` are not filled.
A field whose name ends in ``_url`` is a whole URL: it can only be the entire
``url`` (``"{userinfo_url}"``).

The catalog is checked when loaded (:func:`load_recipes`, blocking, or
:func:`async_load_recipes`): a bad catalog raises :class:`RecipeCatalogError`
naming the recipe.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from functools import cache
import json
from pathlib import Path
import re
from typing import Any, ClassVar, Final, Protocol
from urllib.parse import quote

from homeassistant.components.sensor import (
    CONF_STATE_CLASS,
    SensorDeviceClass,
    SensorStateClass,
)
from homeassistant.components.sensor.const import (
    DEVICE_CLASS_STATE_CLASSES,
    DEVICE_CLASS_UNITS,
)
from homeassistant.const import (
    CONF_DEVICE_CLASS,
    CONF_ENTITY_CATEGORY,
    CONF_FORCE_UPDATE,
    CONF_HEADERS,
    CONF_ICON,
    CONF_METHOD,
    CONF_NAME,
    CONF_PARAMS,
    CONF_PLATFORM,
    CONF_SCAN_INTERVAL,
    CONF_TIMEOUT,
    CONF_UNIT_OF_MEASUREMENT,
    CONF_URL,
    CONF_VALUE_TEMPLATE,
    EntityCategory,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.trigger_template_entity import (
    CONF_AVAILABILITY,
    CONF_PICTURE,
)
import voluptuous as vol

from .client.errors import InvalidHeaderError
from .client.headers import check_headers
from .client.urls import http_url
from .control import (
    COMMAND_METHODS,
    CONF_DATA,
    CONF_IS_ON_TEMPLATE,
    CONF_KIND,
    CONF_MESSAGE_PARAM,
    CONF_REQUESTS,
    CONF_SEND_AS,
    CONF_STATE_SOURCE,
    CONF_TITLE_PARAM,
    DEFAULT_COMMAND_METHOD,
    KIND_NOTIFY,
    KIND_SWITCH,
    KINDS,
    PRESS,
    SEND,
    SEND_AS,
    STATE,
    STATE_FROM_REQUEST,
    STATE_UNKNOWN,
    TURN_OFF,
    TURN_ON,
    ControlConfig,
    RequestConfig,
)
from .endpoint import (
    CONF_BODY,
    CONF_ENABLED_BY_DEFAULT,
    CONF_JSON_ATTRS,
    CONF_JSON_ATTRS_PATH,
    CONF_KEY,
    CONF_VALUES,
    DEFAULT_METHOD,
    DEFAULT_SCAN_INTERVAL,
    MAX_SCAN_INTERVAL,
    MAX_TIMEOUT,
    METHODS,
    MIN_SCAN_INTERVAL,
    MIN_TIMEOUT,
    PLATFORM_BINARY_SENSOR,
    PLATFORM_SENSOR,
    VALUE_PLATFORMS,
    EndpointConfig,
)
from .oauth.discovery import DISCOVERY_KEY
from .oauth.identity import AccountIdentity
from .oauth.provider import ProviderProfile, load_presets
from .values import BINARY_SENSOR_DEVICE_CLASSES, SENSOR_DEVICE_CLASSES

RECIPES_FILE: Final = Path(__file__).with_name("recipes.json")

# A recipe for every account, whatever its provider.
ANY_PROVIDER: Final = "*"

# The account fields a recipe may use (see account_fields).
FIELD_SUBJECT: Final = "subject"
FIELD_CLIENT_ID: Final = "client_id"
FIELD_USERINFO_URL: Final = "userinfo_url"
ACCOUNT_FIELDS: Final = frozenset({FIELD_SUBJECT, FIELD_CLIENT_ID, FIELD_USERINFO_URL})
_URL_FIELD_SUFFIX: Final = "_url"

# A Jinja construct (left alone), a {placeholder}, or a stray brace.
_TOKEN: Final = re.compile(
    r"(\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\})|\{([A-Za-z0-9_]+)\}|[{}]", re.DOTALL
)
# What a parameter or header value from the account may not hold: template
# syntax, or what would split the request.
_UNSAFE_VALUE: Final = re.compile(r"[{}\x00-\x1f\x7f]")
_ID_PATTERN: Final = r"^[a-z0-9]+(?:_[a-z0-9]+)*$"
# A switch's state in a recipe: its own request, or not known (a recipe cannot
# name one of the account's endpoints).
RECIPE_STATE_SOURCES: Final = (STATE_FROM_REQUEST, STATE_UNKNOWN)
# A switch's state request is a GET, as the control flow makes it.
STATE_METHOD: Final = "GET"
# What only a switch, or only a notification, has.
_SWITCH_KEYS: Final = frozenset(
    {CONF_STATE_SOURCE, CONF_IS_ON_TEMPLATE, CONF_SCAN_INTERVAL}
)
_NOTIFY_KEYS: Final = frozenset(
    {CONF_MESSAGE_PARAM, CONF_TITLE_PARAM, CONF_SEND_AS, CONF_DATA}
)
# Timestamps and dates carry neither a unit nor a state class.
_NO_UNIT_CLASSES: Final = frozenset(
    {SensorDeviceClass.TIMESTAMP, SensorDeviceClass.DATE}
)


class RecipeCatalogError(ValueError):
    """The recipe catalog is not valid; the message names the recipe and why."""


class RecipePlaceholderError(Exception):
    """A recipe needs an account field the account does not have.

    ``translation_key`` names the endpoint flow's message, ``field`` the missing
    field. The message never holds a field's value.
    """

    translation_key: ClassVar[str] = "recipe_placeholder_missing"
    _message: ClassVar[str] = "the account has no {field}"

    def __init__(self, field: str) -> None:
        """Remember which field."""
        super().__init__(self._message.format(field=field))
        self.field = field

    @property
    def translation_placeholders(self) -> dict[str, str]:
        """The field's name."""
        return {"field": self.field}


class RecipePlaceholderInvalidError(RecipePlaceholderError):
    """The account's field cannot be placed where the recipe puts it.

    A URL field that is not an http(s) URL, or a parameter or header value with a
    brace or a control character.
    """

    translation_key = "recipe_placeholder_invalid"
    _message = "the account's {field} cannot be used where the recipe puts it"


class NeedsScopes(Protocol):
    """A recipe or a recipe's control: the scopes it needs."""

    @property
    def scopes(self) -> tuple[str, ...]:
        """The scopes it needs."""

    @property
    def broader_scopes(self) -> Mapping[str, tuple[str, ...]]:
        """For a scope of ``scopes``: broader scopes that include it."""


@dataclass(frozen=True, kw_only=True, slots=True)
class RecipeControl:
    """A switch, button or notification of a recipe, ready to adjust."""

    id: str
    title: str
    description: str
    docs_url: str
    scopes: tuple[str, ...]
    # For a scope of ``scopes``: broader scopes that include it.
    broader_scopes: Mapping[str, tuple[str, ...]]
    # The control, named by the title; its requests' URLs, parameters and
    # headers may still hold {placeholders}.
    control: ControlConfig
    # The account fields the placeholders name.
    placeholders: frozenset[str]
    # A switch's state answer as the provider documents it (invented values),
    # when it has a state request; else None.
    sample_state: Any = None

    def control_data(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The control's stored data, its placeholders filled from ``fields``.

        ``ControlConfig.from_data(control.title, data)`` builds the control.
        Raises RecipePlaceholderError for a field ``fields`` lacks (or has empty),
        RecipePlaceholderInvalidError for one that cannot go where it is used.
        """
        control = self.control
        return replace(
            control,
            requests={
                which: _filled(request, fields)
                for which, request in control.requests.items()
            },
        ).to_data()


@dataclass(frozen=True, kw_only=True, slots=True)
class Recipe:
    """One recipe of the catalog: an endpoint for a provider, ready to adjust."""

    id: str
    # A preset key, DISCOVERY_KEY, or ANY_PROVIDER.
    provider: str
    title: str
    description: str
    docs_url: str
    scopes: tuple[str, ...]
    # For a scope of ``scopes``: broader scopes that include it.
    broader_scopes: Mapping[str, tuple[str, ...]]
    # The endpoint, named by the title; its URL, parameters and headers may still
    # hold {placeholders}.
    endpoint: EndpointConfig
    # The account fields the placeholders name.
    placeholders: frozenset[str]
    # A response as the provider documents it (invented values).
    sample: Any
    # Switches, buttons and notifications acting on the same API.
    controls: tuple[RecipeControl, ...] = ()

    def endpoint_data(self, fields: Mapping[str, str]) -> dict[str, Any]:
        """The endpoint's stored data, its placeholders filled from ``fields``.

        ``EndpointConfig.from_data(recipe.title, data)`` builds the endpoint.
        Raises RecipePlaceholderError for a field ``fields`` lacks (or has empty),
        RecipePlaceholderInvalidError for one that cannot go where it is used.
        """
        return _filled(self.endpoint, fields).to_data()


@dataclass(frozen=True, slots=True)
class RecipeCatalog:
    """Every recipe, in catalog order."""

    recipes: tuple[Recipe, ...]

    def recipes_for(self, provider_id: str | None) -> list[Recipe]:
        """What an account of ``provider_id`` (its profile's key) is offered.

        Its provider's recipes, then the neutral ones; only the neutral ones for
        ``None`` (or a provider without recipes).
        """
        own = [
            r
            for r in self.recipes
            if provider_id not in (None, ANY_PROVIDER) and r.provider == provider_id
        ]
        return own + [r for r in self.recipes if r.provider == ANY_PROVIDER]

    def controls_for(
        self, provider_id: str | None
    ) -> list[tuple[Recipe, RecipeControl]]:
        """The controls an account of ``provider_id`` is offered, with their recipe.

        Those of the recipes :meth:`recipes_for` offers, in the same order.
        """
        return [
            (recipe, control)
            for recipe in self.recipes_for(provider_id)
            for control in recipe.controls
        ]

    def get(self, recipe_id: str) -> Recipe | None:
        """The recipe ``recipe_id``, if the catalog has it."""
        return next((r for r in self.recipes if r.id == recipe_id), None)


def missing_scopes(recipe: NeedsScopes, granted_scopes: Iterable[str]) -> list[str]:
    """The scopes ``recipe`` (or a recipe's control) needs that were not granted.

    A scope counts as granted when it, or one of its broader scopes, was.
    """
    granted = set(granted_scopes)
    return [
        scope
        for scope in recipe.scopes
        if scope not in granted
        and granted.isdisjoint(recipe.broader_scopes.get(scope, ()))
    ]


def account_fields(
    profile: ProviderProfile, identity: AccountIdentity, client_id: str | None
) -> dict[str, str]:
    """The fields an account offers recipes (never a token, nor the secret).

    ``subject``: the account's id at the provider (Strava's athlete id from the
    token answer, Twitch's user id...), unless the user named the account (the
    provider could not say who it is). ``client_id``: the client the account
    uses (Twitch wants it in a header). ``userinfo_url``: the provider's OpenID
    Connect userinfo endpoint (one that names the account by ``sub``).
    """
    fields: dict[str, str] = {}
    if identity.subject and not identity.from_user:
        fields[FIELD_SUBJECT] = identity.subject
    if client_id:
        fields[FIELD_CLIENT_ID] = client_id
    if profile.userinfo_url and profile.userinfo_subject == "sub":
        fields[FIELD_USERINFO_URL] = profile.userinfo_url
    return fields


# -- filling placeholders ------------------------------------------------------------------


def _placeholder_names(text: str) -> list[str]:
    """The placeholders of ``text``. Raises ValueError for a stray brace."""
    names: list[str] = []
    for match in _TOKEN.finditer(text):
        if match.group(1) is not None:
            continue
        if (name := match.group(2)) is None:
            raise ValueError(
                f"{text!r} has a brace that is neither a {{name}} placeholder nor "
                "a template"
            )
        names.append(name)
    return names


def _substitute(text: str, replace_field: Callable[[str], str]) -> str:
    def one(match: re.Match[str]) -> str:
        if (name := match.group(2)) is None:  # a template: left to the request
            return match.group(0)
        return replace_field(name)

    return _TOKEN.sub(one, text)


def _field(fields: Mapping[str, str], name: str) -> str:
    if not (value := fields.get(name)):
        raise RecipePlaceholderError(name)
    return value


def _fill_url(url: str, fields: Mapping[str, str]) -> str:
    if (whole := _whole_url_field(url)) is not None:
        value = _field(fields, whole)
        if http_url(value) is None:
            raise RecipePlaceholderInvalidError(whole)
        # Braces are not URL characters (RFC 3986): encoded, they cannot start a
        # template.
        return value.replace("{", "%7B").replace("}", "%7D")
    return _substitute(url, lambda name: quote(_field(fields, name), safe=""))


def _filled[T: (EndpointConfig, RequestConfig)](
    request: T, fields: Mapping[str, str]
) -> T:
    """An endpoint or a control's request with its placeholders filled."""
    return replace(
        request,
        url=_fill_url(request.url, fields),
        params={k: _fill_value(v, fields) for k, v in request.params.items()},
        headers={k: _fill_value(v, fields) for k, v in request.headers.items()},
    )


def _fill_value(text: str, fields: Mapping[str, str]) -> str:
    def one(name: str) -> str:
        value = _field(fields, name)
        if _UNSAFE_VALUE.search(value):
            raise RecipePlaceholderInvalidError(name)
        return value

    return _substitute(text, one)


def _whole_url_field(url: str) -> str | None:
    """The field a URL is made of entirely (``{userinfo_url}``), else None."""
    match = _TOKEN.fullmatch(url)
    if match is None or (name := match.group(2)) is None:
        return None
    return name if name.endswith(_URL_FIELD_SUFFIX) else None


# -- the catalog's schema -----------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise vol.Invalid("expected a non-empty string")
    return value


def _https_url(value: Any) -> str:
    url = http_url(_text(value))
    if url is None or url.scheme != "https":
        raise vol.Invalid("expected an https URL")
    return str(value)


def _optional(validator: Any) -> Any:
    return vol.Any(None, validator)


_IDENTIFIER = vol.All(str, vol.Match(_ID_PATTERN))

VALUE_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_KEY): _IDENTIFIER,
        vol.Required(CONF_NAME): _text,
        vol.Optional(CONF_PLATFORM): vol.In(VALUE_PLATFORMS),
        vol.Required(CONF_VALUE_TEMPLATE): _text,
        vol.Optional(CONF_JSON_ATTRS): [_text],
        vol.Optional(CONF_JSON_ATTRS_PATH): _optional(vol.All(str, vol.Match(r"^\$"))),
        vol.Optional(CONF_UNIT_OF_MEASUREMENT): _optional(_text),
        vol.Optional(CONF_DEVICE_CLASS): _optional(
            vol.In(sorted({*SENSOR_DEVICE_CLASSES, *BINARY_SENSOR_DEVICE_CLASSES}))
        ),
        vol.Optional(CONF_STATE_CLASS): _optional(
            vol.In([c.value for c in SensorStateClass])
        ),
        vol.Optional(CONF_ENTITY_CATEGORY): _optional(
            vol.In([EntityCategory.DIAGNOSTIC.value])
        ),
        vol.Optional(CONF_ENABLED_BY_DEFAULT): bool,
        vol.Optional(CONF_FORCE_UPDATE): bool,
        vol.Optional(CONF_AVAILABILITY): _optional(_text),
        vol.Optional(CONF_ICON): _optional(_text),
        vol.Optional(CONF_PICTURE): _optional(_text),
    }
)


def _seconds(minimum: int, maximum: int) -> Any:
    return vol.All(int, vol.Range(min=minimum, max=maximum))


ENDPOINT_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_METHOD, default=DEFAULT_METHOD): vol.In(METHODS),
        vol.Required(CONF_URL): _text,
        vol.Optional(CONF_PARAMS, default=dict): {_text: str},
        vol.Optional(CONF_HEADERS, default=dict): {_text: str},
        vol.Optional(CONF_BODY, default=None): _optional(_text),
        vol.Optional(CONF_SCAN_INTERVAL, default=DEFAULT_SCAN_INTERVAL): _seconds(
            MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
        ),
        vol.Optional(CONF_TIMEOUT): _seconds(MIN_TIMEOUT, MAX_TIMEOUT),
        vol.Required(CONF_VALUES): vol.All([VALUE_SCHEMA], vol.Length(min=1)),
    }
)

# A control's request (``RequestConfig.to_dict``).
REQUEST_SCHEMA: Final = vol.Schema(
    {
        vol.Optional(CONF_METHOD, default=DEFAULT_COMMAND_METHOD): vol.In(
            COMMAND_METHODS
        ),
        vol.Required(CONF_URL): _text,
        vol.Optional(CONF_PARAMS, default=dict): {_text: str},
        vol.Optional(CONF_HEADERS, default=dict): {_text: str},
        vol.Optional(CONF_BODY, default=None): _optional(_text),
    }
)

# A control as stored (``ControlConfig.to_data``) less what is the user's (TLS)
# or the account's (the endpoint a switch reads its state from).
CONTROL_SCHEMA: Final = vol.Schema(
    {
        vol.Required(CONF_KIND): vol.In(KINDS),
        vol.Required(CONF_REQUESTS): vol.All(
            {vol.In((TURN_ON, TURN_OFF, STATE, PRESS, SEND)): REQUEST_SCHEMA},
            vol.Length(min=1),
        ),
        vol.Optional(CONF_TIMEOUT): _seconds(MIN_TIMEOUT, MAX_TIMEOUT),
        vol.Optional(CONF_STATE_SOURCE): vol.In(RECIPE_STATE_SOURCES),
        vol.Optional(CONF_IS_ON_TEMPLATE): _text,
        vol.Optional(CONF_SCAN_INTERVAL): _seconds(
            MIN_SCAN_INTERVAL, MAX_SCAN_INTERVAL
        ),
        vol.Optional(CONF_MESSAGE_PARAM): _text,
        vol.Optional(CONF_TITLE_PARAM): _optional(_text),
        vol.Optional(CONF_SEND_AS): vol.In(SEND_AS),
        vol.Optional(CONF_DATA): {_text: _text},
    }
)

RECIPE_CONTROL_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _IDENTIFIER,
        vol.Required("title"): _text,
        vol.Required("description"): _text,
        vol.Optional("docs_url"): _https_url,
        vol.Required("scopes"): [_text],
        vol.Required("control"): CONTROL_SCHEMA,
        vol.Optional("sample_state"): vol.Any(dict, list),
    }
)

RECIPE_SCHEMA: Final = vol.Schema(
    {
        vol.Required("id"): _IDENTIFIER,
        vol.Required("provider"): _text,
        vol.Required("title"): _text,
        vol.Required("description"): _text,
        vol.Required("docs_url"): _https_url,
        vol.Required("scopes"): [_text],
        vol.Required("endpoint"): ENDPOINT_SCHEMA,
        vol.Required("sample"): vol.Any(dict, list),
        vol.Optional("controls", default=list): [dict],
    }
)

CATALOG_SCHEMA: Final = vol.Schema(
    {
        vol.Required("scopes"): {_text: {_text: [_text]}},
        vol.Required("recipes"): vol.All([dict], vol.Length(min=1)),
    }
)


def _check_value_classes(value: Mapping[str, Any]) -> None:
    """A value's device class, unit and state class, as Home Assistant wants them."""
    platform = value.get(CONF_PLATFORM) or PLATFORM_SENSOR
    device_class = value.get(CONF_DEVICE_CLASS)
    unit = value.get(CONF_UNIT_OF_MEASUREMENT)
    state_class = value.get(CONF_STATE_CLASS)
    where = f"value {value[CONF_KEY]!r}"
    if platform == PLATFORM_BINARY_SENSOR:
        if (
            device_class is not None
            and device_class not in BINARY_SENSOR_DEVICE_CLASSES
        ):
            raise ValueError(f"{where}: {device_class!r} is no binary sensor class")
        if unit is not None or state_class is not None:
            raise ValueError(f"{where}: a binary sensor has no unit or state class")
        return
    if device_class is None:
        return
    if device_class not in SENSOR_DEVICE_CLASSES:
        raise ValueError(f"{where}: {device_class!r} is no sensor device class")
    sensor_class = SensorDeviceClass(device_class)
    if sensor_class in _NO_UNIT_CLASSES:
        if unit is not None or state_class is not None:
            raise ValueError(f"{where}: a {device_class} has no unit or state class")
        return
    units = DEVICE_CLASS_UNITS.get(sensor_class)
    if units is not None and unit not in units:
        raise ValueError(f"{where}: {unit!r} is no unit of {device_class}")
    state_classes = DEVICE_CLASS_STATE_CLASSES.get(sensor_class)
    if (
        state_class is not None
        and state_classes is not None
        and state_class not in state_classes
    ):
        raise ValueError(f"{where}: {device_class} cannot be {state_class}")


def _check_endpoint(endpoint: Mapping[str, Any]) -> frozenset[str]:
    """The placeholders of an endpoint. Raises ValueError for a misplaced one."""
    names = _check_request(
        endpoint[CONF_URL], endpoint[CONF_PARAMS], endpoint[CONF_HEADERS]
    )
    _check_values(endpoint[CONF_VALUES])
    return names


def _check_request(
    url: str, params: Mapping[str, str], headers: Mapping[str, str]
) -> frozenset[str]:
    """The placeholders of a request. Raises ValueError for a misplaced one."""
    names: set[str] = set()
    if (whole := _whole_url_field(url)) is not None:
        names.add(whole)
    elif not url.startswith("/"):
        raise ValueError(
            f"url {url!r} is neither a path (joined to the API base URL) nor a "
            "{..._url} field"
        )
    else:
        names.update(_placeholder_names(url))
    try:
        check_headers(headers)
    except InvalidHeaderError as err:
        raise ValueError(f"headers: {err}") from err
    for kind, texts in ((CONF_PARAMS, params), (CONF_HEADERS, headers)):
        for name, text in texts.items():
            if "{" in name or "}" in name:
                raise ValueError(f"{kind}: {name!r} is a name, not a template")
            names.update(_placeholder_names(text))
    if unknown := names - ACCOUNT_FIELDS:
        raise ValueError(f"unknown account fields {sorted(unknown)}")
    if misplaced := {n for n in names if n.endswith(_URL_FIELD_SUFFIX)} - {whole}:
        raise ValueError(f"{sorted(misplaced)} can only be the whole url")
    return frozenset(names)


def _check_control(
    control: ControlConfig, stored: Mapping[str, Any], sample_state: Any
) -> frozenset[str]:
    """The placeholders of a control; raises ValueError for what does not fit.

    Its kind's requests and no others (a switch's state request with its
    ``is_on_template`` and ``sample_state``), and no setting of another kind.
    """
    kind = control.kind
    if kind != KIND_SWITCH and (other := set(stored) & _SWITCH_KEYS):
        raise ValueError(f"{sorted(other)} are a switch's, not a {kind}'s")
    if kind != KIND_NOTIFY and (other := set(stored) & _NOTIFY_KEYS):
        raise ValueError(f"{sorted(other)} are a notification's, not a {kind}'s")
    own_state = kind == KIND_SWITCH and control.state_source == STATE_FROM_REQUEST
    expected = {*control.commands, *([STATE] if own_state else [])}
    if missing := expected - set(control.requests):
        raise ValueError(f"a {kind} needs the requests {sorted(missing)}")
    if extra := set(control.requests) - expected:
        why = f" (state_source is not {STATE_FROM_REQUEST!r})" if STATE in extra else ""
        raise ValueError(f"a {kind} has no requests {sorted(extra)}{why}")
    if own_state:
        if control.requests[STATE].method != STATE_METHOD:
            raise ValueError(f"the state request is a {STATE_METHOD}")
        if control.is_on_template is None:
            raise ValueError("a state request needs an is_on_template")
        if sample_state is None:
            raise ValueError("a state request needs a sample_state")
    else:
        if control.is_on_template is not None:
            raise ValueError("an is_on_template needs a state request")
        if sample_state is not None:
            raise ValueError("a sample_state needs a state request")
    if kind == KIND_NOTIFY and control.requests[SEND].body is not None:
        raise ValueError("a notification's body is its message: send has no body")
    names: set[str] = set()
    for which, request in control.requests.items():
        try:
            names.update(_check_request(request.url, request.params, request.headers))
        except ValueError as err:
            raise ValueError(f"request {which}: {err}") from err
    return frozenset(names)


def _check_values(values: list[dict[str, Any]]) -> None:
    """Raise ValueError for a key or name used twice, or classes that do not fit."""
    keys = [value[CONF_KEY] for value in values]
    if len(set(keys)) != len(keys):
        raise ValueError(f"value keys {keys} are not unique")
    names = [value[CONF_NAME].casefold() for value in values]
    if len(set(names)) != len(names):
        raise ValueError("value names are not unique")
    for value in values:
        _check_value_classes(value)


def _check_scopes(
    provider: str,
    scopes: list[str],
    presets: Mapping[str, ProviderProfile],
    documented: Mapping[str, Mapping[str, list[str]]],
) -> None:
    """Raise ValueError for an unknown provider, or a scope it does not document."""
    if provider not in presets and provider not in (ANY_PROVIDER, DISCOVERY_KEY):
        raise ValueError(f"unknown provider {provider!r}")
    profile = presets.get(provider)
    known = {
        *(profile.default_scopes if profile else ()),
        *documented.get(provider, {}),
    }
    if unknown := [scope for scope in scopes if scope not in known]:
        raise ValueError(
            f"scopes {unknown} are neither {provider}'s default scopes nor "
            "documented in the catalog's scopes"
        )


def _name(raw: Mapping[str, Any], index: int) -> str:
    """A recipe's or a control's id, for a message (its place if it has none)."""
    return raw["id"] if isinstance(raw.get("id"), str) else f"#{index}"


def _recipe_control(
    raw: dict[str, Any],
    index: int,
    recipe: Mapping[str, Any],
    presets: Mapping[str, ProviderProfile],
    documented: Mapping[str, Mapping[str, list[str]]],
) -> RecipeControl:
    """One control of ``recipe`` (checked). Raises ValueError naming it."""
    provider = recipe["provider"]
    try:
        data = RECIPE_CONTROL_SCHEMA(raw)
        _check_scopes(provider, data["scopes"], presets, documented)
        control = ControlConfig.from_data(data["title"], data["control"])
        sample_state = data.get("sample_state")
        placeholders = _check_control(control, data["control"], sample_state)
    except (vol.Invalid, ValueError) as err:
        raise ValueError(f"control {_name(raw, index)}: {err}") from err
    broader = documented.get(provider, {})
    return RecipeControl(
        id=data["id"],
        title=data["title"],
        description=data["description"],
        docs_url=data.get("docs_url") or recipe["docs_url"],
        scopes=tuple(data["scopes"]),
        broader_scopes={s: tuple(broader.get(s, ())) for s in data["scopes"]},
        control=control,
        placeholders=placeholders,
        sample_state=sample_state,
    )


def _recipe(
    raw: dict[str, Any],
    index: int,
    presets: Mapping[str, ProviderProfile],
    documented: Mapping[str, Mapping[str, list[str]]],
) -> Recipe:
    try:
        data = RECIPE_SCHEMA(raw)
        _check_scopes(data["provider"], data["scopes"], presets, documented)
        placeholders = _check_endpoint(data["endpoint"])
        controls = tuple(
            _recipe_control(control, place, data, presets, documented)
            for place, control in enumerate(data["controls"])
        )
    except (vol.Invalid, ValueError) as err:
        raise RecipeCatalogError(f"recipe {_name(raw, index)}: {err}") from err
    broader = documented.get(data["provider"], {})
    return Recipe(
        id=data["id"],
        provider=data["provider"],
        title=data["title"],
        description=data["description"],
        docs_url=data["docs_url"],
        scopes=tuple(data["scopes"]),
        broader_scopes={s: tuple(broader.get(s, ())) for s in data["scopes"]},
        endpoint=EndpointConfig.from_data(data["title"], data["endpoint"]),
        placeholders=placeholders,
        sample=data["sample"],
        controls=controls,
    )


def parse_catalog(raw: Any, presets: Mapping[str, ProviderProfile]) -> RecipeCatalog:
    """The catalog from its JSON. Raises RecipeCatalogError naming what is wrong."""
    try:
        catalog = CATALOG_SCHEMA(raw)
    except vol.Invalid as err:
        raise RecipeCatalogError(f"recipe catalog: {err}") from err
    documented: Mapping[str, Mapping[str, list[str]]] = catalog["scopes"]
    if unknown := set(documented) - {*presets, ANY_PROVIDER, DISCOVERY_KEY}:
        raise RecipeCatalogError(f"recipe catalog: scopes of unknown {sorted(unknown)}")
    recipes = tuple(
        _recipe(raw_recipe, index, presets, documented)
        for index, raw_recipe in enumerate(catalog["recipes"])
    )
    counts = Counter(recipe.id for recipe in recipes)
    if duplicate := sorted(i for i, n in counts.items() if n > 1):
        raise RecipeCatalogError(f"recipe {duplicate[0]}: the id is used twice")
    seen: set[str] = set()
    for recipe in recipes:
        for control in recipe.controls:
            if control.id in seen:
                raise RecipeCatalogError(
                    f"recipe {recipe.id}: control {control.id}: the id is used twice"
                )
            seen.add(control.id)
    return RecipeCatalog(recipes)


@cache
def load_recipes() -> RecipeCatalog:
    """The shipped catalog, checked (blocking: run in the executor)."""
    raw = json.loads(RECIPES_FILE.read_text(encoding="utf-8"))
    return parse_catalog(raw, load_presets())


async def async_load_recipes(hass: HomeAssistant) -> RecipeCatalog:
    """The shipped catalog, read in the executor (once: later calls are cached)."""
    return await hass.async_add_executor_job(load_recipes)
