"""Properties of the one request path's rendering and of the one value renderer.

Whatever an endpoint or a notification holds (any text as URL, parameters, headers, body, with or
without template syntax), rendering its request either gives what is sent or
fails with its translation key, never another exception; a header value never
carries a line break. Whatever a value's templates are, the preview shows a
line (a value, ``unavailable`` or an error) with no secret of the account in it.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from homeassistant.core import HomeAssistant
from hypothesis import given, strategies as st

from custom_components.oauth2_rest.control import (
    KIND_NOTIFY,
    SEND,
    SEND_AS,
    SEND_AS_FORM,
    SEND_AS_QUERY,
    ControlConfig,
    RequestConfig,
)
from custom_components.oauth2_rest.controls import Commands
from custom_components.oauth2_rest.endpoint import EndpointConfig, ValueConfig
from custom_components.oauth2_rest.errors import RequestFailed
from custom_components.oauth2_rest.flow.preview import VALUE_MAX_CHARS, shown_value
from custom_components.oauth2_rest.redact import Secrets
from custom_components.oauth2_rest.request import StoredRequest

from ..common import ACCOUNT_SECRETS, leaked
from .common import count, json_values, nasty_text

# Text that is often a template: plain, broken or working Jinja around nasty text.
template_text = st.one_of(
    nasty_text,
    st.builds(lambda inner: "{{ " + inner + " }}", nasty_text),
    st.builds(lambda inner: "{% if " + inner + " %}x{% endif %}", nasty_text),
    st.sampled_from(
        [
            "{{ value_json }}",
            "{{ 1 / 0 }}",
            "{{ 'a\\nb' }}",
            "{{ this.state }}",
            "{{ this.entity_id }}",
            "{{ value }}",
            "{{ true }}",
            "{{ none }}",
            "{{ value_json.access_token }}",
            "stored-access-token",
        ]
    ),
)
text_maps = st.dictionaries(nasty_text, template_text, max_size=3)


@given(
    url=template_text,
    params=text_maps,
    headers=text_maps,
    body=st.none() | template_text,
)
async def test_rendering_gives_a_request_or_its_key(
    hass: HomeAssistant,
    url: str,
    params: dict[str, str],
    headers: dict[str, str],
    body: str | None,
) -> None:
    """A request renders, or fails with ``invalid_request_template``/``invalid_body``."""
    count("request_path")
    endpoint = EndpointConfig(
        name="Fuzz", url=url, params=params, headers=headers, body=body
    )
    try:
        sent = StoredRequest(hass, endpoint).render()
    except RequestFailed as err:
        assert err.failure.key in ("invalid_request_template", "invalid_body")
        assert err.error is None
        return
    assert sent.method == endpoint.method
    assert set(sent.target.params) == set(params)
    for name, value in sent.target.headers.items():
        if value != headers[name]:  # rendered from a template
            assert "\r" not in value
            assert "\n" not in value
    assert sent.json is None or sent.data is None


@given(
    value_template=template_text,
    availability=st.none() | template_text,
    data=json_values,
)
async def test_preview_line_never_leaks(
    hass: HomeAssistant, value_template: str, availability: str | None, data: Any
) -> None:
    """The preview's line of a value: bounded, no account secret, never a crash."""
    count("value_renderer")
    value = ValueConfig(
        key="v",
        name="V",
        value_template=value_template,
        availability_template=availability,
    )
    echoed = {"echo": data, "token": ACCOUNT_SECRETS[0]}
    shown = shown_value(
        hass,
        value,
        (echoed, str(echoed)),
        "sensor.fuzz_v",
        Secrets(*ACCOUNT_SECRETS),
    )
    assert len(shown) <= VALUE_MAX_CHARS
    assert not leaked(shown)


@given(
    message=nasty_text,
    title=st.none() | nasty_text,
    data=text_maps,
    send_as=st.sampled_from(SEND_AS),
    title_param=st.none() | nasty_text,
)
async def test_notification_renders_its_message_or_its_key(
    hass: HomeAssistant,
    message: str,
    title: str | None,
    data: dict[str, str],
    send_as: str,
    title_param: str | None,
) -> None:
    """Any message, title and extra fields: the request carries them, or fails with a key.

    The message and title are data, never templates: text that looks like Jinja
    is sent as typed.
    """
    count("notification")
    control = ControlConfig(
        name="Fuzz",
        kind=KIND_NOTIFY,
        requests={SEND: RequestConfig(url="/messages")},
        send_as=send_as,
        message_param="m",
        title_param=title_param,
        data=data,
    )
    try:
        sent = (
            Commands(hass, control).source(SEND, message=message, title=title).render()
        )
    except RequestFailed as err:
        assert err.failure.key in ("invalid_request_template", "invalid_body")
        return
    fields: dict[str, Any]
    if send_as == SEND_AS_QUERY:
        fields = sent.target.params
    elif send_as == SEND_AS_FORM:
        assert sent.data is not None
        fields = dict(parse_qsl(sent.data, keep_blank_values=True))
    else:
        fields = sent.json
    title_sent = bool(title_param) and title is not None
    # An extra field may replace either, as core's data_template; so may the title
    # the message when both have the same name.
    if "m" not in data and not (title_sent and title_param == "m"):
        assert fields["m"] == message
    if title_param and title_sent and title_param not in data:
        assert fields[title_param] == title
