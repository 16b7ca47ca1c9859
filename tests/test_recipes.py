"""The recipe catalog (recipes.json): checked at load, every value against its sample.

Every value of every recipe is rendered with Home Assistant's template engine (the
integration's one renderer, ``values.ValueRenderer``) over the recipe's sample
response and typed as its entity would type it; every request is rendered as a
poll would render it. Broken catalogs are refused with the recipe named.
"""

from __future__ import annotations

import copy
from datetime import date, datetime
import json
from typing import Any

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
    RecipePlaceholderError,
    RecipePlaceholderInvalidError,
    account_fields,
    async_load_recipes,
    load_recipes,
    missing_scopes,
    parse_catalog,
)
from custom_components.oauth2_rest.redact import NO_SECRETS
from custom_components.oauth2_rest.request import RequestTemplates, render_body
from custom_components.oauth2_rest.values import ValueRenderer, to_sensor_value

CATALOG = load_recipes()
RAW: dict[str, Any] = json.loads(RECIPES_FILE.read_text(encoding="utf-8"))
PRESETS = load_presets()
RECIPES = {recipe.id: recipe for recipe in CATALOG.recipes}
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
    """Ids are unique; a recipe's endpoint never sets TLS or encoding (the user's)."""
    ids = [raw["id"] for raw in RAW["recipes"]]
    assert len(ids) == len(set(ids))
    for raw in RAW["recipes"]:
        assert not {"verify_ssl", "ca_file", "encoding"} & set(raw["endpoint"]), raw[
            "id"
        ]


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
    """Every documented scope is one a recipe of its provider needs."""
    needed = {(r.provider, s) for r in CATALOG.recipes for s in r.scopes}
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
    """A small valid catalog to break."""
    return {
        "scopes": {
            "github": {"notifications": ["repo"]},
            DISCOVERY_KEY: {"api:read": []},
        },
        "recipes": [
            copy.deepcopy(next(r for r in RAW["recipes"] if r["id"] == rid))
            for rid in ("github_notifications", "strava_year_to_date", "demo_weather")
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
]


@pytest.mark.parametrize(("change", "named"), BROKEN)
def test_a_broken_catalog_is_refused_naming_the_recipe(change: Any, named: str) -> None:
    """Each breakage is refused at load, with the recipe (or the catalog) named."""
    catalog = _catalog()
    change(catalog)
    with pytest.raises(RecipeCatalogError, match=f"^recipe {named}[: ]"):
        parse_catalog(catalog, PRESETS)
