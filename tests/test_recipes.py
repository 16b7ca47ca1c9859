"""The recipe catalog (recipes.json): checked at load, every value against its sample.

Every value of every recipe is rendered with Home Assistant's template engine (the
integration's one renderer, ``values.ValueRenderer``) over the recipe's sample
response and typed as its entity would type it; every request is rendered as a
poll would render it. Every control's requests are rendered as its commands are
(``controls.Commands``), a notification's message found where it goes, and a
switch's ``is_on`` template read over its documented state answer. Broken catalogs
are refused with the recipe (and the control) named.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
import json
import re
from typing import Any
from urllib.parse import parse_qs

from homeassistant.components.binary_sensor import BinarySensorDeviceClass  # type: ignore[attr-defined]
from homeassistant.components.sensor import SensorDeviceClass, SensorStateClass
from homeassistant.components.sensor.const import (
    DEVICE_CLASS_STATE_CLASSES,
    DEVICE_CLASS_UNITS,
)
from homeassistant.core import HomeAssistant
from homeassistant.helpers.json import json_dumps
import pytest

from custom_components.oauth2_rest.client.auth import OriginPolicy
from custom_components.oauth2_rest.client.headers import check_headers
from custom_components.oauth2_rest.control import (
    COMMAND_METHODS,
    KIND_BUTTON,
    KIND_NOTIFY,
    KIND_SWITCH,
    SEND,
    SEND_AS_FORM,
    SEND_AS_JSON,
    STATE,
    STATE_FROM_REQUEST,
    ControlConfig,
)
from custom_components.oauth2_rest.controls import Commands
from custom_components.oauth2_rest.endpoint import (
    PLATFORM_BINARY_SENSOR,
    EndpointConfig,
    ValueConfig,
)
from custom_components.oauth2_rest.oauth.discovery import DISCOVERY_KEY
from custom_components.oauth2_rest.oauth.identity import AccountIdentity
from custom_components.oauth2_rest.oauth.provider import load_presets
from custom_components.oauth2_rest.recipes import (
    ACCOUNT_FIELDS,
    ANY_PROVIDER,
    RECIPES_FILE,
    VALUE_SCHEMA,
    Recipe,
    RecipeCatalogError,
    RecipeControl,
    RecipePlaceholderError,
    RecipePlaceholderInvalidError,
    account_fields,
    async_load_recipes,
    load_recipes,
    missing_scopes,
    parse_catalog,
)
from custom_components.oauth2_rest.redact import NO_SECRETS
from custom_components.oauth2_rest.request import (
    Outgoing,
    RequestTemplates,
    render_body,
)
from custom_components.oauth2_rest.values import (
    ValueRenderer,
    ValueTemplate,
    to_on_off,
    to_sensor_value,
)

CATALOG = load_recipes()
RAW: dict[str, Any] = json.loads(RECIPES_FILE.read_text(encoding="utf-8"))
PRESETS = load_presets()
RECIPES = {recipe.id: recipe for recipe in CATALOG.recipes}
CONTROLS_BY_ID = {
    control.id: (recipe, control)
    for recipe in CATALOG.recipes
    for control in recipe.controls
}
VALUES = [
    pytest.param(recipe, value, id=f"{recipe.id}.{value.key}")
    for recipe in CATALOG.recipes
    for value in recipe.endpoint.values
]
RAW_VALUES = [
    pytest.param(raw["provider"], value, id=f"{raw['id']}.{value['key']}")
    for raw in RAW["recipes"]
    for value in raw["endpoint"]["values"]
]
CONTROLS = [
    pytest.param(recipe, control, id=f"{recipe.id}.{control.id}")
    for recipe in CATALOG.recipes
    for control in recipe.controls
]
STATE_SWITCHES = [
    param
    for param in CONTROLS
    if param.values[1].control.state_source == STATE_FROM_REQUEST
]
RAW_CONTROLS = [
    pytest.param(raw, control, id=f"{raw['id']}.{control['id']}")
    for raw in RAW["recipes"]
    for control in raw.get("controls", [])
]
# What a notification is sent with in the tests: found where it must land.
MESSAGE = "Washing machine done"
TITLE = "Laundry"
# What a binary sensor's template may render to: a word core rest reads as on or off.
ON_OFF_WORDS = {"true", "false", "on", "off", "yes", "no", "open", "closed"}
# Account fields as an account would give them.
FIELDS = {
    "subject": "134815",
    "client_id": "wbmytr93xzw8zbg0p1izqyzzc5mbiz",
    "userinfo_url": "https://id.example.com/userinfo",
}
# Where a recipe's path is joined for a provider without an API base of its own.
API_BASES = {
    ANY_PROVIDER: "https://id.example.com",
    DISCOVERY_KEY: "http://127.0.0.1:8765",
}


def _recipe_params() -> list[Any]:
    return [pytest.param(recipe, id=recipe.id) for recipe in CATALOG.recipes]


# -- the shipped catalog -------------------------------------------------------------------


def test_catalog_size() -> None:
    """At least 25 recipes across at least 10 presets, two or more for each."""
    assert len(CATALOG.recipes) >= 25
    per_preset: dict[str, int] = {}
    for recipe in CATALOG.recipes:
        if recipe.provider in PRESETS:
            per_preset[recipe.provider] = per_preset.get(recipe.provider, 0) + 1
    assert len(per_preset) >= 10
    assert min(per_preset.values()) >= 2, per_preset


def test_neutral_and_demo_recipes() -> None:
    """OpenID userinfo for every account; the demo's resources for discovered ones."""
    neutral = {r.id for r in CATALOG.recipes if r.provider == ANY_PROVIDER}
    assert "openid_userinfo" in neutral
    demo = {r.endpoint.url for r in CATALOG.recipes if r.provider == DISCOVERY_KEY}
    assert {"/api/weather", "/api/status", "/api/counter"} <= demo


def test_catalog_file_has_unique_ids_and_no_stored_defaults() -> None:
    """Ids are unique; a recipe never sets TLS or encoding (the user's)."""
    ids = [raw["id"] for raw in RAW["recipes"]]
    assert len(ids) == len(set(ids))
    control_ids = [c["id"] for raw in RAW["recipes"] for c in raw.get("controls", [])]
    assert len(control_ids) == len(set(control_ids))
    for raw in RAW["recipes"]:
        assert not {"verify_ssl", "ca_file", "encoding"} & set(raw["endpoint"]), raw[
            "id"
        ]
        for control in raw.get("controls", []):
            stored = set(control["control"])
            assert not {"verify_ssl", "ca_file", "state_endpoint"} & stored


def test_catalog_controls() -> None:
    """At least 8 controls, for at least 4 presets and the demo provider."""
    controls = [(r.provider, c) for r in CATALOG.recipes for c in r.controls]
    assert len(controls) >= 8
    assert len({provider for provider, _ in controls if provider in PRESETS}) >= 4
    kinds = {c.control.kind for provider, c in controls if provider in PRESETS}
    assert kinds == {KIND_SWITCH, KIND_BUTTON, KIND_NOTIFY}


def test_demo_controls_act_on_the_demo_api() -> None:
    """The demo's lamp switch and toggle button, and its message box's notify entity."""
    demo = {c.id: c.control for _, c in CATALOG.controls_for(DISCOVERY_KEY)}
    lamp = demo["demo_lamp_switch"]
    assert lamp.kind == KIND_SWITCH
    on, off, state = (lamp.requests[w] for w in ("turn_on", "turn_off", STATE))
    assert (on.method, on.url, json.loads(on.body or "")) == (
        "POST",
        "/api/lamp",
        {"on": True},
    )
    assert (off.method, off.url, json.loads(off.body or "")) == (
        "POST",
        "/api/lamp",
        {"on": False},
    )
    assert (state.method, state.url, lamp.state_source) == (
        "GET",
        "/api/lamp",
        STATE_FROM_REQUEST,
    )
    assert lamp.is_on_template == "{{ value_json.on }}"
    toggle = demo["demo_lamp_toggle"]
    assert toggle.kind == KIND_BUTTON
    assert (toggle.requests["press"].method, toggle.requests["press"].url) == (
        "POST",
        "/api/lamp/toggle",
    )
    message = demo["demo_message"]
    assert (message.kind, message.send_as) == (KIND_NOTIFY, SEND_AS_JSON)
    assert (message.requests[SEND].method, message.requests[SEND].url) == (
        "POST",
        "/api/messages",
    )
    assert (message.message_param, message.title_param) == ("message", "title")


def test_value_schema_is_the_stored_value_shape() -> None:
    """A recipe's value takes exactly the keys ValueConfig stores."""
    stored = ValueConfig(key="k", name="N", value_template="{{ 1 }}").to_dict()
    assert {str(key) for key in VALUE_SCHEMA.schema} == set(stored)


async def test_async_load_is_the_cached_catalog(hass: HomeAssistant) -> None:
    """The flow's loader reads the file once, in the executor."""
    assert await async_load_recipes(hass) is load_recipes()


# -- every value against its sample ------------------------------------------------------


@pytest.mark.parametrize(("recipe", "value"), VALUES)
async def test_value_renders_against_the_sample(
    hass: HomeAssistant, recipe: Recipe, value: ValueConfig
) -> None:
    """The value renders over the sample, and its entity gets the right kind of state."""
    renderer = ValueRenderer(hass, value)
    text = json_dumps(recipe.sample)
    rendered = renderer.value(recipe.sample, text, NO_SECRETS)
    extras = renderer.extras(recipe.sample, text, "sensor.recipe", NO_SECRETS)
    assert all(error is None for error in extras.outcomes.values()), extras.outcomes
    assert extras.available
    if value.platform == PLATFORM_BINARY_SENSOR:
        word = rendered.strip().lower()
        assert word in ON_OFF_WORDS or word.lstrip("-").isdigit(), rendered
        return
    numeric = bool(value.unit_of_measurement or value.state_class or value.device_class)
    typed = to_sensor_value(rendered, value.device_class, numeric)
    if value.device_class == SensorDeviceClass.TIMESTAMP:
        assert isinstance(typed, datetime), rendered
        assert typed.tzinfo is not None
    elif value.device_class == SensorDeviceClass.DATE:
        assert isinstance(typed, date), rendered
    elif numeric:
        assert isinstance(typed, int | float), rendered
        assert not isinstance(typed, bool)
    else:
        assert isinstance(typed, str), rendered
        assert typed


@pytest.mark.parametrize(("provider", "value"), RAW_VALUES)
def test_value_classes_and_units_are_home_assistants(
    provider: str, value: dict[str, Any]
) -> None:
    """Device classes, units and state classes Home Assistant accepts together."""
    device_class = value.get("device_class")
    unit = value.get("unit_of_measurement")
    state_class = value.get("state_class")
    if value.get("platform") == PLATFORM_BINARY_SENSOR:
        assert device_class is None or BinarySensorDeviceClass(device_class)
        assert unit is None
        assert state_class is None
        return
    if state_class is not None:
        SensorStateClass(state_class)
    if device_class is None:
        return
    sensor_class = SensorDeviceClass(device_class)
    assert sensor_class is not SensorDeviceClass.ENUM  # needs options recipes lack
    if sensor_class in (SensorDeviceClass.TIMESTAMP, SensorDeviceClass.DATE):
        assert unit is None
        assert state_class is None
        return
    assert unit in DEVICE_CLASS_UNITS.get(sensor_class, {unit})
    if state_class is not None:
        assert state_class in DEVICE_CLASS_STATE_CLASSES.get(
            sensor_class, {state_class}
        )


@pytest.mark.parametrize("raw", RAW["recipes"], ids=lambda raw: raw["id"])
def test_scopes_are_the_presets_or_documented(raw: dict[str, Any]) -> None:
    """Each scope is in the preset's default scopes or the catalog's documented list."""
    provider = raw["provider"]
    defaults = PRESETS[provider].default_scopes if provider in PRESETS else ()
    documented = RAW["scopes"].get(provider, {})
    for scope in raw["scopes"]:
        assert scope in defaults or scope in documented, (raw["id"], scope)


def test_documented_broader_scopes_are_for_recipes() -> None:
    """Every documented scope is one a recipe or a control of its provider needs."""
    needed = {(r.provider, s) for r in CATALOG.recipes for s in r.scopes}
    needed |= {
        (r.provider, s) for r in CATALOG.recipes for c in r.controls for s in c.scopes
    }
    for provider, scopes in RAW["scopes"].items():
        for scope in scopes:
            assert (provider, scope) in needed, (provider, scope)


@pytest.mark.parametrize("recipe", _recipe_params())
async def test_request_renders_as_a_poll_would(
    hass: HomeAssistant, recipe: Recipe
) -> None:
    """URL, parameters, headers and body render; the URL lands on the API's origin."""
    data = recipe.endpoint_data(FIELDS)
    assert EndpointConfig.from_data(recipe.title, data).to_data() == data
    rendered = RequestTemplates(
        hass, data["url"], data["params"], data["headers"]
    ).render()
    check_headers(rendered.headers)
    render_body(hass, data["body"])
    if recipe.provider in PRESETS:
        base = PRESETS[recipe.provider].api_base
    else:
        base = API_BASES[recipe.provider]
    url = OriginPolicy(base).resolve(rendered.url)
    assert str(url).startswith(base.rstrip("/") + "/")
    assert "{" not in str(url)
    assert recipe.placeholders <= ACCOUNT_FIELDS


@pytest.mark.parametrize("recipe", _recipe_params())
def test_docs_link_and_texts(recipe: Recipe) -> None:
    """A public https reference, a title and a description for the pick list."""
    assert recipe.docs_url.startswith("https://")
    assert recipe.title.strip()
    assert len(recipe.description) > len(recipe.title)


# -- every control's requests --------------------------------------------------------


def _api_base(recipe: Recipe) -> str:
    if recipe.provider in PRESETS:
        return PRESETS[recipe.provider].api_base
    return API_BASES[recipe.provider]


def _texts(value: Any) -> list[str]:
    """Every string in a JSON document (keys left out)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [t for v in value.values() for t in _texts(v)]
    if isinstance(value, list):
        return [t for v in value for t in _texts(v)]
    return []


def _carried(outgoing: Outgoing, send_as: str) -> list[str]:
    """What a notification's request carries where ``send_as`` puts it."""
    if send_as == SEND_AS_JSON:
        assert outgoing.data is None
        return _texts(outgoing.json)
    if send_as == SEND_AS_FORM:
        assert outgoing.json is None
        assert outgoing.data is not None
        return [v for values in parse_qs(outgoing.data).values() for v in values]
    assert outgoing.json is None
    return list(outgoing.target.params.values())


@pytest.mark.parametrize(("recipe", "control"), CONTROLS)
async def test_control_requests_render_as_its_commands_do(
    hass: HomeAssistant, recipe: Recipe, control: RecipeControl
) -> None:
    """Each request renders on the API's origin; a notification carries its message."""
    data = control.control_data(FIELDS)
    config = ControlConfig.from_data(control.title, data)
    assert config.to_data() == data
    assert config.name == control.title
    commands = Commands(hass, config)
    base = _api_base(recipe).rstrip("/") + "/"
    for which, request in config.requests.items():
        assert request.method in COMMAND_METHODS
        outgoing = commands.source(which, message=MESSAGE, title=TITLE).render()
        target = outgoing.target
        check_headers(target.headers)
        url = str(OriginPolicy(base).resolve(target.url))
        assert url.startswith(base), url
        for text in (url, *target.params.values(), *target.headers.values()):
            assert "{" not in text and "}" not in text, text
        if which == SEND:
            carried = _carried(outgoing, config.send_as)
            assert MESSAGE in carried
            assert (TITLE in carried) is (config.title_param is not None)
    assert control.placeholders <= ACCOUNT_FIELDS


@pytest.mark.parametrize(("recipe", "control"), STATE_SWITCHES)
async def test_switch_state_reads_its_sample(
    hass: HomeAssistant, recipe: Recipe, control: RecipeControl
) -> None:
    """The is_on template over the documented state answer: on (samples show it on)."""
    config = control.control
    poll = config.state_poll()
    assert poll is not None
    assert poll.method == "GET"
    assert config.is_on_template is not None
    sample = control.sample_state
    rendered = ValueTemplate(config.is_on_template, hass).render(
        sample, json_dumps(sample)
    )
    word = rendered.strip().lower()
    assert word in ON_OFF_WORDS or word.lstrip("-").isdigit(), rendered
    assert to_on_off(rendered) is True


def test_every_switch_with_a_state_request_is_tested() -> None:
    """Switches reading their own state are the ones with a sample state."""
    with_sample = {c.id for _, c in CONTROLS_BY_ID.values() if c.sample_state}
    assert {p.values[1].id for p in STATE_SWITCHES} == with_sample
    assert with_sample


@pytest.mark.parametrize(("raw", "control"), RAW_CONTROLS)
def test_control_scopes_are_the_presets_or_documented(
    raw: dict[str, Any], control: dict[str, Any]
) -> None:
    """A control's scopes, as a recipe's: the preset's defaults or documented."""
    provider = raw["provider"]
    defaults = PRESETS[provider].default_scopes if provider in PRESETS else ()
    documented = RAW["scopes"].get(provider, {})
    assert control["scopes"]
    for scope in control["scopes"]:
        assert scope in defaults or scope in documented, (control["id"], scope)


@pytest.mark.parametrize(("recipe", "control"), CONTROLS)
def test_control_docs_link_and_texts(recipe: Recipe, control: RecipeControl) -> None:
    """A public https reference, a title and a description for the pick list."""
    assert control.docs_url.startswith("https://")
    assert control.title.strip()
    assert len(control.description) > len(control.title)


# -- what the flow calls ---------------------------------------------------------------


def test_recipes_for_offers_the_providers_and_the_neutral_ones() -> None:
    """The account's provider's recipes first, then the neutral ones; never twice."""
    neutral = [r for r in CATALOG.recipes if r.provider == ANY_PROVIDER]
    google = CATALOG.recipes_for("google")
    assert [r.provider for r in google[: -len(neutral)]] == ["google"] * (
        len(google) - len(neutral)
    )
    assert google[-len(neutral) :] == neutral
    assert CATALOG.recipes_for(None) == neutral
    assert CATALOG.recipes_for("okta") == neutral
    assert CATALOG.recipes_for(ANY_PROVIDER) == neutral
    demo = CATALOG.recipes_for(DISCOVERY_KEY)
    assert {r.id for r in demo} >= {"demo_weather", "demo_status", "demo_counter"}
    assert CATALOG.get("demo_weather") is RECIPES["demo_weather"]
    assert CATALOG.get("nope") is None


def test_controls_for_follows_recipes_for() -> None:
    """The controls of the recipes an account is offered, each with its recipe."""
    spotify = CATALOG.controls_for("spotify")
    assert {c.id for _, c in spotify} >= {
        "spotify_pause",
        "spotify_play",
        "spotify_next",
        "spotify_previous",
        "spotify_shuffle",
    }
    for recipe, control in spotify:
        assert recipe.provider == "spotify"
        assert control in recipe.controls
    expected = [(r, c) for r in CATALOG.recipes_for(DISCOVERY_KEY) for c in r.controls]
    assert CATALOG.controls_for(DISCOVERY_KEY) == expected
    assert {c.id for _, c in expected} >= {
        "demo_lamp_switch",
        "demo_lamp_toggle",
        "demo_message",
    }
    neutral = [
        (r, c)
        for r in CATALOG.recipes
        if r.provider == ANY_PROVIDER
        for c in r.controls
    ]
    assert CATALOG.controls_for(None) == neutral
    assert CATALOG.controls_for("okta") == neutral


def test_missing_scopes_of_a_control() -> None:
    """A control's scopes are checked as a recipe's, broader scopes included."""
    _, shuffle = CONTROLS_BY_ID["spotify_shuffle"]
    defaults = PRESETS["spotify"].default_scopes
    assert missing_scopes(shuffle, defaults) == ["user-modify-playback-state"]
    assert missing_scopes(shuffle, [*defaults, "user-modify-playback-state"]) == []
    _, mark_read = CONTROLS_BY_ID["github_mark_notifications_read"]
    assert missing_scopes(mark_read, ["read:user"]) == ["notifications"]
    assert missing_scopes(mark_read, ["repo"]) == []
    # A read-write scope gives what a recipe's read scope needs.
    assert missing_scopes(RECIPES["microsoft_presence"], ["Presence.ReadWrite"]) == []


def test_missing_scopes_counts_broader_scopes() -> None:
    """A scope, or one that includes it, is enough; otherwise it is named."""
    notifications = RECIPES["github_notifications"]
    assert missing_scopes(notifications, ["read:user"]) == ["notifications"]
    assert missing_scopes(notifications, ["notifications"]) == []
    assert missing_scopes(notifications, ["read:user", "repo"]) == []
    calendar = RECIPES["google_calendar_next_event"]
    assert missing_scopes(calendar, ["openid"]) == list(calendar.scopes)
    assert missing_scopes(calendar, ["https://www.googleapis.com/auth/calendar"]) == []
    userinfo = RECIPES["openid_userinfo"]
    assert missing_scopes(userinfo, ["openid", "email"]) == ["profile"]


def test_placeholders_are_filled_and_quoted() -> None:
    """A field in the path is one quoted segment; templates are left alone."""
    stats = RECIPES["strava_year_to_date"]
    assert stats.placeholders == {"subject"}
    data = stats.endpoint_data({"subject": "12 3/4?x={{ 1 }}"})
    assert data["url"] == "/athletes/12%203%2F4%3Fx%3D%7B%7B%201%20%7D%7D/stats"
    live = RECIPES["twitch_followed_live"]
    data = live.endpoint_data({"subject": "141981764", "client_id": "abc123"})
    assert data["params"] == {"user_id": "141981764", "first": "100"}
    assert data["headers"] == {"Client-Id": "abc123"}
    calendar = RECIPES["google_calendar_next_event"]
    # Its parameters are templates of their own: rendered at each request, not here.
    assert calendar.endpoint_data({})["params"]["timeMin"].startswith("{{ utcnow()")


def test_control_placeholders_are_filled() -> None:
    """A control's parameters and headers get the account's fields; nothing else."""
    _, announce = CONTROLS_BY_ID["twitch_chat_announcement"]
    assert announce.placeholders == {"subject", "client_id"}
    data = announce.control_data({"subject": "141981764", "client_id": "abc123"})
    send = data["requests"][SEND]
    assert send["url"] == "/chat/announcements"
    assert send["params"] == {
        "broadcaster_id": "141981764",
        "moderator_id": "141981764",
    }
    assert send["headers"] == {"Client-Id": "abc123"}
    assert data["data"] == {"color": "primary"}
    # The recipe's own control is left as it was.
    assert announce.control.requests[SEND].params["broadcaster_id"] == "{subject}"
    # Templates are the request's, rendered at each send.
    _, water = CONTROLS_BY_ID["fitbit_log_water"]
    assert water.control_data({})["requests"]["press"]["params"]["date"].startswith(
        "{{ now()"
    )


def test_a_control_url_placeholder_is_one_quoted_segment() -> None:
    """In a control's path, a field is quoted as one segment, as in an endpoint's."""
    catalog = _catalog()
    press = catalog["recipes"][0]["controls"][0]["control"]["requests"]["press"]
    press["url"] = "/users/{subject}/notifications"
    (control,) = parse_catalog(catalog, PRESETS).recipes[0].controls
    assert control.placeholders == {"subject"}
    data = control.control_data({"subject": "12 3/4?x={{ 1 }}"})
    assert (
        data["requests"]["press"]["url"]
        == "/users/12%203%2F4%3Fx%3D%7B%7B%201%20%7D%7D/notifications"
    )


@pytest.mark.parametrize(
    ("fields", "error", "field"),
    [
        ({"client_id": "abc"}, RecipePlaceholderError, "subject"),
        ({"subject": "", "client_id": "abc"}, RecipePlaceholderError, "subject"),
        (
            {"subject": "1\r\nX: y", "client_id": "abc"},
            RecipePlaceholderInvalidError,
            "subject",
        ),
        (
            {"subject": "1", "client_id": "{{ states }}"},
            RecipePlaceholderInvalidError,
            "client_id",
        ),
    ],
)
def test_a_control_field_missing_or_unusable_is_a_typed_error(
    fields: dict[str, str], error: type[RecipePlaceholderError], field: str
) -> None:
    """The flow can say which field the account lacks or cannot give."""
    _, clip = CONTROLS_BY_ID["twitch_create_clip"]
    with pytest.raises(RecipePlaceholderError) as caught:
        clip.control_data(fields)
    assert type(caught.value) is error
    assert caught.value.translation_placeholders == {"field": field}


def test_a_missing_or_empty_field_is_a_typed_error() -> None:
    """The flow can say which field the account lacks."""
    stats = RECIPES["strava_year_to_date"]
    for fields in ({}, {"subject": ""}):
        with pytest.raises(RecipePlaceholderError) as caught:
            stats.endpoint_data(fields)
        assert type(caught.value) is RecipePlaceholderError
        assert caught.value.translation_key == "recipe_placeholder_missing"
        assert caught.value.translation_placeholders == {"field": "subject"}


@pytest.mark.parametrize(
    ("recipe_id", "fields", "field"),
    [
        (
            "twitch_followed_live",
            {"subject": "1", "client_id": "{{ states }}"},
            "client_id",
        ),
        ("twitch_followed_live", {"subject": "1\r\nX: y", "client_id": "c"}, "subject"),
        ("openid_userinfo", {"userinfo_url": "not a url"}, "userinfo_url"),
        ("openid_userinfo", {"userinfo_url": "ftp://id.example.com/u"}, "userinfo_url"),
    ],
)
def test_a_field_that_cannot_go_there_is_refused(
    recipe_id: str, fields: dict[str, str], field: str
) -> None:
    """No template syntax or line break from the account; a URL field is a URL."""
    with pytest.raises(RecipePlaceholderInvalidError) as caught:
        RECIPES[recipe_id].endpoint_data(fields)
    assert caught.value.translation_key == "recipe_placeholder_invalid"
    assert caught.value.translation_placeholders == {"field": field}
    assert fields[field] not in str(caught.value)


def test_a_url_field_is_the_whole_url_with_braces_encoded() -> None:
    """The userinfo endpoint is used as it is, but can never start a template."""
    userinfo = RECIPES["openid_userinfo"]
    assert userinfo.endpoint_data(FIELDS)["url"] == FIELDS["userinfo_url"]
    data = userinfo.endpoint_data({"userinfo_url": "https://id.example.com/{{x}}"})
    assert data["url"] == "https://id.example.com/%7B%7Bx%7D%7D"


def test_account_fields() -> None:
    """Subject, client id and an OpenID userinfo endpoint; never what the user typed."""
    google = PRESETS["google"]
    assert account_fields(google, AccountIdentity("1089"), "client") == {
        "subject": "1089",
        "client_id": "client",
        "userinfo_url": "https://openidconnect.googleapis.com/v1/userinfo",
    }
    named = AccountIdentity("My account", "My account", from_user=True)
    assert account_fields(google, named, None) == {
        "userinfo_url": "https://openidconnect.googleapis.com/v1/userinfo"
    }
    # Strava's userinfo is its athlete resource, not OpenID Connect's.
    assert account_fields(PRESETS["strava"], AccountIdentity("134815"), "7") == {
        "subject": "134815",
        "client_id": "7",
    }


# -- broken catalogs ------------------------------------------------------------------


def _catalog() -> dict[str, Any]:
    """A small valid catalog to break.

    0: GitHub notifications (a button), 1: Strava, 2: demo weather, 3: demo lamp
    (a switch with its state request, a button), 4: demo messages (a notification).
    """
    return {
        "scopes": {
            "github": {"notifications": ["repo"]},
            DISCOVERY_KEY: {"api:read": [], "api:write": []},
        },
        "recipes": [
            copy.deepcopy(next(r for r in RAW["recipes"] if r["id"] == rid))
            for rid in (
                "github_notifications",
                "strava_year_to_date",
                "demo_weather",
                "demo_lamp",
                "demo_messages",
            )
        ],
    }


def _value(catalog: dict[str, Any]) -> dict[str, Any]:
    value: dict[str, Any] = catalog["recipes"][2]["endpoint"]["values"][0]
    return value


def test_the_small_catalog_is_valid() -> None:
    """The catalog the cases below break is valid as it is."""
    catalog = parse_catalog(_catalog(), PRESETS)
    assert [r.id for r in catalog.recipes] == [
        "github_notifications",
        "strava_year_to_date",
        "demo_weather",
        "demo_lamp",
        "demo_messages",
    ]
    assert [c.id for _, c in catalog.controls_for(DISCOVERY_KEY)] == [
        "demo_lamp_switch",
        "demo_lamp_toggle",
        "demo_message",
    ]


def _set(path: str, value: Any) -> Any:
    """Set ``path`` (dotted, in recipe 0 unless it starts with a digit) to value."""

    def change(catalog: dict[str, Any]) -> None:
        parts = path.split(".")
        node: Any = catalog["recipes"]
        if not parts[0].isdigit():
            parts.insert(0, "0")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node[part]
        last = parts[-1]
        if value is KeyError:
            del node[last]
        else:
            node[int(last) if last.isdigit() else last] = value

    return change


def _set_value(key: str, value: Any) -> Any:
    def change(catalog: dict[str, Any]) -> None:
        _value(catalog)[key] = value

    return change


def _duplicate_id(catalog: dict[str, Any]) -> None:
    catalog["recipes"][2]["id"] = "github_notifications"


def _duplicate_value_key(catalog: dict[str, Any]) -> None:
    values = catalog["recipes"][2]["endpoint"]["values"]
    values[1]["key"] = values[0]["key"]


def _duplicate_value_name(catalog: dict[str, Any]) -> None:
    values = catalog["recipes"][2]["endpoint"]["values"]
    values[1]["name"] = values[0]["name"].upper()


def _unknown_scope_provider(catalog: dict[str, Any]) -> None:
    catalog["scopes"]["myspace"] = {"read": []}


# Where the small catalog's controls are.
BUTTON = "0.controls.0"  # GitHub: mark notifications read
SWITCH = "3.controls.0"  # the demo lamp, its state from its own request
NOTIFY = "4.controls.0"  # the demo message box


def _control(path: str, key: str, value: Any) -> Any:
    """Set ``key`` of the control's stored data at ``path``."""
    return _set(f"{path}.control.{key}", value)


def _duplicate_control_id(catalog: dict[str, Any]) -> None:
    catalog["recipes"][4]["controls"][0]["id"] = "demo_lamp_toggle"


def _add_request(path: str, which: str) -> Any:
    return _set(f"{path}.control.requests.{which}", {"method": "POST", "url": "/x"})


def _state_source_none_keeping_state(catalog: dict[str, Any]) -> None:
    control = catalog["recipes"][3]["controls"][0]
    control["control"]["state_source"] = "none"
    del control["control"]["is_on_template"]
    del control["sample_state"]


def _state_source_none_keeping_template(catalog: dict[str, Any]) -> None:
    control = catalog["recipes"][3]["controls"][0]
    control["control"]["state_source"] = "none"
    del control["control"]["requests"]["state"]
    del control["sample_state"]


def _state_source_none_keeping_sample(catalog: dict[str, Any]) -> None:
    control = catalog["recipes"][3]["controls"][0]
    control["control"]["state_source"] = "none"
    del control["control"]["requests"]["state"]
    del control["control"]["is_on_template"]


CONTROL_BROKEN: list[Any] = [
    pytest.param(
        _control(BUTTON, "kind", "light"),
        "github_notifications",
        r"must be one of .* at 'control.kind'",
        id="kind",
    ),
    pytest.param(
        _control(BUTTON, "requests", {}),
        "github_notifications",
        r"at least 1 at 'control.requests'",
        id="no-requests",
    ),
    pytest.param(
        _control(BUTTON, "requests", {"send": {"url": "/x"}}),
        "github_notifications",
        r"a button needs the requests \['press'\]",
        id="button-without-press",
    ),
    pytest.param(
        _add_request(BUTTON, "turn_on"),
        "github_notifications",
        r"a button has no requests \['turn_on'\]$",
        id="button-with-turn-on",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.requests.turn_off", KeyError),
        "demo_lamp",
        r"a switch needs the requests \['turn_off'\]",
        id="switch-without-turn-off",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.requests.turn_on", KeyError),
        "demo_lamp",
        r"a switch needs the requests \['turn_on'\]",
        id="switch-without-turn-on",
    ),
    pytest.param(
        _add_request(SWITCH, "press"),
        "demo_lamp",
        r"a switch has no requests \['press'\]$",
        id="switch-with-press",
    ),
    pytest.param(
        _control(NOTIFY, "requests", {"press": {"url": "/x"}}),
        "demo_messages",
        r"a notify needs the requests \['send'\]",
        id="notify-without-send",
    ),
    pytest.param(
        _add_request(NOTIFY, "press"),
        "demo_messages",
        r"a notify has no requests \['press'\]$",
        id="notify-with-press",
    ),
    pytest.param(
        _add_request(NOTIFY, "poke"),
        "demo_messages",
        r"at 'control.requests.poke'",
        id="unknown-request-name",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.method", "HEAD"),
        "github_notifications",
        r"at 'control.requests.press.method'",
        id="command-method",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.url", "https://evil.example/x"),
        "github_notifications",
        r"request press: url .* is neither a path",
        id="command-url-not-a-path",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.url", "/x/{athlete_id}"),
        "github_notifications",
        r"request press: unknown account fields",
        id="command-unknown-field",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.params", {"q": "{userinfo_url}"}),
        "github_notifications",
        r"request press: .* can only be the whole url",
        id="command-url-field-in-param",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.headers", {"Authorization": "x"}),
        "github_notifications",
        r"request press: headers: the Authorization header",
        id="command-owned-header",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.headers", {"X-A": "{bad-name}"}),
        "github_notifications",
        r"request press: .* has a brace",
        id="command-stray-brace",
    ),
    pytest.param(
        _set(f"{BUTTON}.control.requests.press.surprise", 1),
        "github_notifications",
        r"at 'control.requests.press.surprise'",
        id="unknown-request-key",
    ),
    pytest.param(
        _control(SWITCH, "state_source", "endpoint"),
        "demo_lamp",
        r"at 'control.state_source'",
        id="state-endpoint",
    ),
    pytest.param(
        _control(SWITCH, "state_endpoint", "abc"),
        "demo_lamp",
        r"at 'control.state_endpoint'",
        id="state-endpoint-id",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.requests.state", KeyError),
        "demo_lamp",
        r"a switch needs the requests \['state'\]",
        id="state-request-missing",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.requests.state.method", "POST"),
        "demo_lamp",
        r"the state request is a GET",
        id="state-request-not-get",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.is_on_template", KeyError),
        "demo_lamp",
        r"a state request needs an is_on_template",
        id="state-request-without-template",
    ),
    pytest.param(
        _set(f"{SWITCH}.sample_state", KeyError),
        "demo_lamp",
        r"a state request needs a sample_state",
        id="state-request-without-sample",
    ),
    pytest.param(
        _set(f"{SWITCH}.sample_state", "on"),
        "demo_lamp",
        r"at 'sample_state'",
        id="sample-state-not-json",
    ),
    pytest.param(
        _state_source_none_keeping_state,
        "demo_lamp",
        r"no requests \['state'\] \(state_source is not",
        id="state-request-unused",
    ),
    pytest.param(
        _state_source_none_keeping_template,
        "demo_lamp",
        r"an is_on_template needs a state request",
        id="template-without-state",
    ),
    pytest.param(
        _state_source_none_keeping_sample,
        "demo_lamp",
        r"a sample_state needs a state request",
        id="sample-without-state",
    ),
    pytest.param(
        _set(f"{SWITCH}.control.state_source", KeyError),
        "demo_lamp",
        r"no requests \['state'\] \(state_source is not",
        id="state-source-defaults-to-none",
    ),
    pytest.param(
        _control(SWITCH, "scan_interval", 1),
        "demo_lamp",
        r"at 'control.scan_interval'",
        id="control-scan-interval",
    ),
    pytest.param(
        _control(BUTTON, "timeout", 0),
        "github_notifications",
        r"at 'control.timeout'",
        id="timeout",
    ),
    pytest.param(
        _control(BUTTON, "verify_ssl", False),
        "github_notifications",
        r"at 'control.verify_ssl'",
        id="control-tls",
    ),
    pytest.param(
        _control(BUTTON, "is_on_template", "{{ 1 }}"),
        "github_notifications",
        r"\['is_on_template'\] are a switch's",
        id="switch-key-on-button",
    ),
    pytest.param(
        _control(SWITCH, "message_param", "text"),
        "demo_lamp",
        r"\['message_param'\] are a notification's",
        id="notify-key-on-switch",
    ),
    pytest.param(
        _control(NOTIFY, "state_source", "none"),
        "demo_messages",
        r"\['state_source'\] are a switch's",
        id="switch-key-on-notify",
    ),
    pytest.param(
        _control(NOTIFY, "send_as", "xml"),
        "demo_messages",
        r"at 'control.send_as'",
        id="send-as",
    ),
    pytest.param(
        _control(NOTIFY, "message_param", ""),
        "demo_messages",
        r"at 'control.message_param'",
        id="message-param-empty",
    ),
    pytest.param(
        _control(NOTIFY, "data", {"priority": 1}),
        "demo_messages",
        r"at 'control.data.priority'",
        id="data-not-text",
    ),
    pytest.param(
        _set(f"{NOTIFY}.control.requests.send.body", '{"x": 1}'),
        "demo_messages",
        r"send has no body",
        id="notify-with-body",
    ),
    pytest.param(
        _set(f"{NOTIFY}.control.name", "Box"),
        "demo_messages",
        r"at 'control.name'",
        id="control-name",
    ),
    pytest.param(
        _set(f"{BUTTON}.scopes", ["repo:status"]),
        "github_notifications",
        r"scopes \['repo:status'\] are neither",
        id="control-undocumented-scope",
    ),
    pytest.param(
        _set(f"{BUTTON}.docs_url", "http://docs.github.com/x"),
        "github_notifications",
        r"at 'docs_url'",
        id="control-docs-not-https",
    ),
    pytest.param(
        _set(f"{BUTTON}.id", "Bad Id"),
        "github_notifications",
        r"at 'id'",
        id="control-bad-id",
    ),
    pytest.param(
        _set(f"{BUTTON}.title", ""),
        "github_notifications",
        r"at 'title'",
        id="control-no-title",
    ),
    pytest.param(
        _set(f"{BUTTON}.surprise", 1),
        "github_notifications",
        r"at 'surprise'",
        id="unknown-control-key",
    ),
    pytest.param(
        _duplicate_control_id,
        "demo_messages",
        r"the id is used twice",
        id="duplicate-control-id",
    ),
]


BROKEN: list[Any] = [
    pytest.param(
        _set("provider", "myspace"), "github_notifications", id="unknown-provider"
    ),
    pytest.param(
        _set("scopes", ["repo:status"]), "github_notifications", id="undocumented-scope"
    ),
    pytest.param(
        _set("docs_url", "http://docs.github.com/x"),
        "github_notifications",
        id="docs-not-https",
    ),
    pytest.param(_set("sample", KeyError), "github_notifications", id="no-sample"),
    pytest.param(
        _set("sample", "text"), "github_notifications", id="sample-not-json-document"
    ),
    pytest.param(_set("id", "Bad Id"), "Bad Id", id="bad-id"),
    pytest.param(_set("surprise", 1), "github_notifications", id="unknown-recipe-key"),
    pytest.param(
        _set("endpoint.url", "https://evil.example/x"),
        "github_notifications",
        id="url-not-a-path",
    ),
    pytest.param(
        _set("endpoint.url", "/x/{athlete_id}"),
        "github_notifications",
        id="unknown-field",
    ),
    pytest.param(
        _set("endpoint.url", "/x/{bad-name}"), "github_notifications", id="stray-brace"
    ),
    pytest.param(
        _set("endpoint.url", "/x/{userinfo_url}"),
        "github_notifications",
        id="url-field-in-path",
    ),
    pytest.param(
        _set("endpoint.params", {"q": "{userinfo_url}"}),
        "github_notifications",
        id="url-field-in-param",
    ),
    pytest.param(
        _set("endpoint.params", {"{q}": "1"}),
        "github_notifications",
        id="placeholder-as-name",
    ),
    pytest.param(
        _set("endpoint.headers", {"Authorization": "Bearer x"}),
        "github_notifications",
        id="owned-header",
    ),
    pytest.param(
        _set("endpoint.headers", {"X-A": "a\r\nb"}),
        "github_notifications",
        id="header-split",
    ),
    pytest.param(_set("endpoint.method", "TRACE"), "github_notifications", id="method"),
    pytest.param(
        _set("endpoint.scan_interval", 1), "github_notifications", id="scan-interval"
    ),
    pytest.param(_set("endpoint.values", []), "github_notifications", id="no-values"),
    pytest.param(
        _set("endpoint.verify_ssl", False), "github_notifications", id="tls-off"
    ),
    pytest.param(
        _set_value("unit_of_measurement", "kg"),
        "demo_weather",
        id="unit-of-another-class",
    ),
    pytest.param(
        _set_value("state_class", "total_increasing"),
        "demo_weather",
        id="state-class-of-another-class",
    ),
    pytest.param(
        _set_value("device_class", "enum"), "demo_weather", id="enum-without-options"
    ),
    pytest.param(
        _set_value("device_class", "connectivity"),
        "demo_weather",
        id="binary-sensor-class-on-sensor",
    ),
    pytest.param(_set_value("platform", "switch"), "demo_weather", id="platform"),
    pytest.param(_set_value("surprise", 1), "demo_weather", id="unknown-value-key"),
    pytest.param(
        _set_value("json_attributes_path", "location"),
        "demo_weather",
        id="attributes-path",
    ),
    pytest.param(
        _set_value("value_template", " "), "demo_weather", id="blank-template"
    ),
    pytest.param(
        lambda c: _value(c).update(
            platform="binary_sensor", device_class="connectivity"
        ),
        "demo_weather",
        id="binary-sensor-with-unit",
    ),
    pytest.param(
        lambda c: _value(c).update(
            platform="binary_sensor",
            device_class="temperature",
            unit_of_measurement=None,
            state_class=None,
        ),
        "demo_weather",
        id="binary-sensor-with-sensor-class",
    ),
    pytest.param(
        lambda c: _value(c).update(device_class="timestamp", state_class=None),
        "demo_weather",
        id="timestamp-with-unit",
    ),
    pytest.param(_duplicate_id, "github_notifications", id="duplicate-id"),
    pytest.param(_duplicate_value_key, "demo_weather", id="duplicate-value-key"),
    pytest.param(_duplicate_value_name, "demo_weather", id="duplicate-value-name"),
    pytest.param(_unknown_scope_provider, "catalog", id="scopes-of-unknown-provider"),
    pytest.param(lambda c: c.pop("scopes"), "catalog", id="no-scopes-list"),
    pytest.param(lambda c: c.update(recipes=[]), "catalog", id="no-recipes"),
    pytest.param(
        _set("controls", {"id": "x"}),
        "github_notifications",
        id="controls-not-a-list",
    ),
]


@pytest.mark.parametrize(("change", "named"), BROKEN)
def test_a_broken_catalog_is_refused_naming_the_recipe(change: Any, named: str) -> None:
    """Each breakage is refused at load, with the recipe (or the catalog) named."""
    catalog = _catalog()
    change(catalog)
    with pytest.raises(RecipeCatalogError, match=f"^recipe {named}[: ]"):
        parse_catalog(catalog, PRESETS)


def voluptuous_path(message: str) -> str:
    """Where an error is, as newer voluptuous says it (``at 'a.b'``).

    The one of Home Assistant 2026.3 says ``for dictionary value @ data['a']['b']``.
    """

    def dotted(match: re.Match[str]) -> str:
        keys = re.findall(r"\[('?)([^\]']*)\1\]", match.group(1))
        return "at '" + ".".join(key for _, key in keys) + "'"

    return re.sub(r"(?:for dictionary value )?@ data((?:\[[^\]]*\])+)", dotted, message)


@pytest.mark.parametrize(("change", "named", "says"), CONTROL_BROKEN)
def test_a_broken_control_is_refused_naming_it(
    change: Any, named: str, says: str
) -> None:
    """Each broken control is refused at load, naming its recipe, itself and why."""
    catalog = _catalog()
    change(catalog)
    with pytest.raises(RecipeCatalogError, match=f"^recipe {named}: control ") as err:
        parse_catalog(catalog, PRESETS)
    assert re.search(says, voluptuous_path(str(err.value))), str(err.value)
