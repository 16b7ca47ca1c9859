"""Properties of the core ``rest`` YAML import over any pasted text.

Random YAML-ish text (keys, indentation, tags, anchors, templates, flow
collections, broken scalars, all mixed) never raises anything but
RestImportError, whose placeholders are numbers only; whatever is imported is
in the stored shape. Random but well-formed configurations with credentials
where core puts them (``username``/``password``, a static ``Authorization``
header) never show those credentials anywhere in the result.
"""

from __future__ import annotations

import json
from typing import Any

from homeassistant.core import HomeAssistant
from hypothesis import given, strategies as st
import yaml

from custom_components.oauth2_rest.control import ControlConfig
from custom_components.oauth2_rest.endpoint import EndpointConfig
from custom_components.oauth2_rest.rest_import import (
    COMMAND_FIELDS,
    NOTIFY_FIELDS,
    SWITCH_FIELDS,
    ImportResult,
    RestImportError,
    command_control,
    notify_control,
    parse_rest_yaml,
    switch_control,
)

from ..common import ACCOUNT_SECRETS, leaked
from .common import count, nasty_text

ERROR_KEYS = {"yaml_invalid", "yaml_too_large", "yaml_nothing_to_import"}
TEMPLATES = [
    "{{ value_json.x }}",
    "{{ value_json['a'][0] | round(1) }}",
    "{{ value }}",
    "{% if value_json.on %}on{% else %}off{% endif %}",
    "{{ oops",
    "{% for %}",
    "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
    "{# note #}",
    "{% raw %}{{ x }}{% endraw %}",
]
URLS = [
    "https://api.example.com/v1/x",
    "/relative/path?x=1",
    "http://user:pw@host.example/a",
    "https://api.example.com/{{ now().day }}",
    "http://[::1",
    "",
]
KEYS = [
    "rest",
    "sensor",
    "binary_sensor",
    "switch",
    "notify",
    "rest_command",
    "sensor 2",
    "homeassistant",
    "resource",
    "resource_template",
    "platform",
    "name",
    "unique_id",
    "value_template",
    "json_attributes",
    "json_attributes_path",
    "availability",
    "icon",
    "picture",
    "device_class",
    "state_class",
    "unit_of_measurement",
    "force_update",
    "method",
    "payload",
    "payload_template",
    "params",
    "headers",
    "Authorization",
    "Host",
    "X-Api-Key",
    "authentication",
    "username",
    "password",
    "verify_ssl",
    "ssl_cipher_list",
    "timeout",
    "encoding",
    "scan_interval",
    "url",
    "content_type",
    "body_on",
    "body_off",
    "is_on_template",
    "state_resource",
    "message_param_name",
    "title_param_name",
    "target_param_name",
    "data",
    "data_template",
]
SCALARS = [
    "rest",
    "template",
    "GET",
    "post",
    "PATCH",
    "POST_JSON",
    "true",
    "no",
    "maybe",
    "~",
    "null",
    "0",
    "-5",
    "10.5",
    "1e400",
    ".nan",
    ".inf",
    "0x1F",
    "0o17",
    "12:30",
    "00:05:00",
    "2024-13-45",
    "2024-02-29",
    "9" * 50,
    "temperature",
    "measurement",
    "door",
    "°C",
    "$.a.b",
    "a, b, c",
    "base64",
    "ISO-8859-1",
    *TEMPLATES,
    *URLS,
]
TAGS = [
    "!secret ",
    "!include ",
    "!include_dir_named ",
    "!env_var ",
    "!input ",
    "!!bool ",
    "!!int ",
    "!!float ",
    "!!binary ",
    "!!set ",
    "!!omap ",
    "!!python/object ",
    "!custom ",
    "&a ",
    "&b ",
    "*a",
    "*b",
    "<<: ",
]
PUNCTUATION = [
    "\n",
    "\n  ",
    "\n    ",
    "\n      ",
    "- ",
    ": ",
    ":",
    "? ",
    "[",
    "]",
    "{",
    "}",
    ", ",
    "'",
    '"',
    "|\n",
    ">\n",
    "# c\n",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "\t",
    "\\",
    "\\n",
    "\x00",
    "\u2028",
    "\ufeff",
]

fragments = st.one_of(
    st.sampled_from(KEYS),
    st.sampled_from(SCALARS),
    st.sampled_from(TAGS),
    st.sampled_from(PUNCTUATION),
    nasty_text,
)
yamlish = st.lists(fragments, max_size=80).map("".join)
# Lines of ``key: value`` at random indents: mostly well-formed, often importable.
lines = st.lists(
    st.builds(
        lambda indent, dash, key, tag, value: (
            f"{' ' * indent}{'- ' if dash else ''}{key}: {tag}{value}"
        ),
        st.sampled_from([0, 2, 4, 6, 8]),
        st.booleans(),
        st.sampled_from(KEYS),
        st.sampled_from(["", "", "", *TAGS]),
        st.sampled_from(SCALARS) | nasty_text,
    ),
    max_size=40,
).map("\n".join)


def _check(result: ImportResult) -> None:
    """Whatever is imported is in the stored shape, in plain JSON."""
    for endpoint in result.endpoints:
        assert json.loads(json.dumps(endpoint.data)) == endpoint.data
        config = EndpointConfig.from_data(endpoint.name, endpoint.data)
        assert config.to_data() == endpoint.data
        assert len({value.key for value in config.values}) == len(config.values)
    assert all(tuple(c) == SWITCH_FIELDS for c in result.switches)
    assert all(tuple(c) == NOTIFY_FIELDS for c in result.notifications)
    assert all(tuple(c) == COMMAND_FIELDS for c in result.commands)
    json.dumps([result.switches, result.notifications, result.commands])
    controls = [
        *(switch_control(c) for c in result.switches),
        *(notify_control(c) for c in result.notifications),
        *(command_control(c) for c in result.commands),
    ]
    for control in controls:
        data = control.to_data()
        assert json.loads(json.dumps(data)) == data
        assert ControlConfig.from_data(control.name, data) == control


@given(text=st.one_of(yamlish, lines))
async def test_any_text(hass: HomeAssistant, text: str) -> None:
    """Any text: an import in the stored shape, or a RestImportError."""
    count("rest_import_text")
    try:
        result = parse_rest_yaml(text)
    except RestImportError as err:
        assert err.translation_key in ERROR_KEYS
        assert all(v.isdigit() for v in err.translation_placeholders.values())
        return
    _check(result)


# -- well-formed configurations carrying credentials ----------------------------------

secrets = st.sampled_from(ACCOUNT_SECRETS)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**6), max_value=10**6),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(SCALARS),
    nasty_text,
)
mappings = st.dictionaries(st.sampled_from(KEYS) | nasty_text, scalars, max_size=4)
values = st.dictionaries(
    st.sampled_from(KEYS), scalars | st.lists(scalars, max_size=3), max_size=8
)
credentials = st.fixed_dictionaries(
    {},
    optional={
        "username": secrets,
        "password": secrets,
        "authentication": st.sampled_from(["basic", "digest"]),
        "headers": st.fixed_dictionaries(
            {"Authorization": secrets.map(lambda s: f"Bearer {s}")},
            optional={"X-Other": nasty_text},
        ),
    },
)


def _entry(
    request: dict[str, Any], creds: dict[str, Any], url: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {**request, **extra, **creds, "resource": url}


requests = st.dictionaries(st.sampled_from(KEYS), scalars | mappings, max_size=6).map(
    # Credentials go only where the strategy puts them.
    lambda d: {k: v for k, v in d.items() if k not in {"headers", "password"}}
)
resources = st.builds(
    lambda request, creds, url, sensors, binaries: _entry(
        request, creds, url, {"sensor": sensors, "binary_sensor": binaries}
    ),
    requests,
    credentials,
    st.sampled_from(URLS),
    st.lists(values, max_size=3),
    st.lists(values, max_size=2),
)
platform_entries = st.builds(
    lambda request, creds, url, value: _entry(
        request, creds, url, {**value, "platform": "rest"}
    ),
    requests,
    credentials,
    st.sampled_from(URLS),
    values,
)
commands = st.builds(
    lambda creds, url, method: {**creds, "url": url, "method": method},
    credentials,
    st.sampled_from(URLS),
    st.sampled_from(["get", "post", "PUT", "head", "nope"]),
)
configs = st.fixed_dictionaries(
    {},
    optional={
        "rest": st.lists(resources, max_size=3),
        "sensor": st.lists(platform_entries, max_size=3),
        "binary_sensor": st.lists(platform_entries, max_size=2),
        "switch": st.lists(platform_entries, max_size=2),
        "notify": st.lists(platform_entries, max_size=2),
        "rest_command": st.dictionaries(nasty_text, commands, max_size=3),
    },
)


@given(config=configs)
async def test_credentials_never_shown(
    hass: HomeAssistant, config: dict[str, Any]
) -> None:
    """Credentials where core has them are dropped: nowhere in what comes back."""
    count("rest_import_credentials")
    text = yaml.safe_dump(config, allow_unicode=True)
    try:
        result = parse_rest_yaml(text)
    except RestImportError as err:
        assert err.translation_key in ERROR_KEYS
        assert not leaked(f"{err!r} {err.translation_placeholders}")
        return
    _check(result)
    assert not leaked(repr(result))
