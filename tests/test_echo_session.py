"""A whole session against an API that echoes every request header and body.

Link an account (the echo server is the token endpoint too), add endpoints
through the preview, poll, call the action, fail templates, read diagnostics and
let a 403 raise a repair issue and a 401 a re-authentication. Nowhere (the DEBUG
log, states, attributes, flow results, diagnostics, repair issues, action
responses and errors) does a token or the client secret appear.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from homeassistant.config_entries import SOURCE_USER, ConfigEntryState
from homeassistant.core import HomeAssistant
from homeassistant.data_entry_flow import FlowResultType
from homeassistant.exceptions import HomeAssistantError
from homeassistant.helpers import issue_registry as ir
from homeassistant.setup import async_setup_component
import pytest
from pytest_homeassistant_custom_component.components.diagnostics import (
    get_diagnostics_for_config_entry,
)
from pytest_homeassistant_custom_component.typing import ClientSessionGenerator
from yarl import URL

from custom_components.oauth2_rest.const import DOMAIN

from .common import CLIENT_ID, CLIENT_SECRET, leaked, start_endpoint_flow
from .echo import REISSUED_TOKEN, EchoServers

pytestmark = pytest.mark.usefixtures("socket_enabled", "current_request_with_host")

SECRETS = (
    REISSUED_TOKEN["access_token"],
    REISSUED_TOKEN["refresh_token"],
    CLIENT_SECRET,
)


class Shown:
    """Everything the session showed, to search for secrets at the end."""

    def __init__(self) -> None:
        """Start empty."""
        self.items: list[Any] = []

    def add(self, item: Any) -> Any:
        """Remember item and return it."""
        self.items.append(item)
        return item


async def _link(
    hass: HomeAssistant,
    hass_client_no_auth: ClientSessionGenerator,
    servers: EchoServers,
    shown: Shown,
) -> Any:
    """The manual provider flow, the browser step, the token from the echo API."""
    flow = hass.config_entries.flow
    result = await flow.async_init(DOMAIN, context={"source": SOURCE_USER})
    result = shown.add(
        await flow.async_configure(result["flow_id"], {"next_step_id": "manual"})
    )
    result = shown.add(
        await flow.async_configure(
            result["flow_id"],
            {
                "name": "Echo",
                "authorize_url": f"{servers.api}/authorize",
                "token_url": f"{servers.api}/token",
                "api_base_url": f"{servers.api}/v1",
                "client_auth": "client_secret_basic",
                "pkce": "supported",
                "scopes": "read",
                "scope_separator": " ",
            },
        )
    )
    assert result["step_id"] == "credentials"
    result = shown.add(
        await flow.async_configure(
            result["flow_id"],
            {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET, "scopes": "read"},
        )
    )
    assert result["type"] is FlowResultType.EXTERNAL_STEP
    state = URL(result["url"]).query["state"]
    client = await hass_client_no_auth()
    callback = await client.get(
        "/auth/external/callback", params={"state": state, "code": "the-code"}
    )
    assert callback.status == 200
    result = shown.add(await flow.async_configure(result["flow_id"]))
    assert result["step_id"] == "account_name"
    result = await flow.async_configure(result["flow_id"], {"account_name": "Me"})
    assert result["type"] is FlowResultType.CREATE_ENTRY
    # What the frontend gets: HA's flow view leaves out the entry's data (the
    # token is stored, never shown) and the context.
    shown.add({k: v for k, v in result.items() if k not in ("data", "context")})
    await hass.async_block_till_done()
    return result["result"]


async def _add_endpoint(
    hass: HomeAssistant,
    entry: Any,
    shown: Shown,
    name: str,
    url: str,
    values: list[dict[str, Any]],
    method: str = "GET",
    body: str = "",
) -> None:
    """Add an endpoint through the preview, with its values, and finish."""
    subentries = hass.config_entries.subentries
    result = await start_endpoint_flow(hass, entry)
    result = shown.add(
        await subentries.async_configure(
            result["flow_id"],
            {
                "name": name,
                "method": method,
                "url": url,
                "body": body,
                "scan_interval": 60,
                "timeout": 10,
            },
        )
    )
    assert result["step_id"] == "preview"
    if method != "GET":
        result = shown.add(
            await subentries.async_configure(result["flow_id"], {"send": True})
        )
    result = shown.add(await subentries.async_configure(result["flow_id"], {}))
    for value in values:
        result = shown.add(
            await subentries.async_configure(
                result["flow_id"], {"next_step_id": "add_sensor"}
            )
        )
        result = shown.add(await subentries.async_configure(result["flow_id"], value))
        assert result["step_id"] == "values", result
    result = shown.add(
        await subentries.async_configure(result["flow_id"], {"next_step_id": "finish"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()


async def _pick_all(
    hass: HomeAssistant, entry: Any, shown: Shown, name: str, url: str
) -> list[str]:
    """Add an endpoint by ticking every value the pick list offers; its labels."""
    subentries = hass.config_entries.subentries
    result = await start_endpoint_flow(hass, entry)
    request = {"name": name, "method": "GET", "url": url}
    result = await subentries.async_configure(
        result["flow_id"], {**request, "scan_interval": 60, "timeout": 10}
    )
    result = shown.add(await subentries.async_configure(result["flow_id"], {}))
    assert "pick_values" in result["menu_options"]
    result = shown.add(
        await subentries.async_configure(
            result["flow_id"], {"next_step_id": "pick_values"}
        )
    )
    options = result["data_schema"].schema["picked"].config["options"]
    result = shown.add(
        await subentries.async_configure(
            result["flow_id"], {"picked": [option["value"] for option in options]}
        )
    )
    result = shown.add(
        await subentries.async_configure(result["flow_id"], {"next_step_id": "finish"})
    )
    assert result["type"] is FlowResultType.CREATE_ENTRY
    await hass.async_block_till_done()
    return [option["label"] for option in options]


async def _call(hass: HomeAssistant, entry: Any, shown: Shown, **data: Any) -> None:
    """Call the action; its response or its error is shown."""
    try:
        shown.add(
            await hass.services.async_call(
                DOMAIN,
                "request",
                {"config_entry_id": entry.entry_id, **data},
                blocking=True,
                return_response=True,
            )
        )
    except HomeAssistantError as err:
        shown.add([str(err), err.translation_key, err.translation_placeholders])


async def test_whole_session_against_an_echoing_api(
    hass: HomeAssistant,
    hass_client: ClientSessionGenerator,
    hass_client_no_auth: ClientSessionGenerator,
    echo_servers: EchoServers,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Link, preview, poll, action, template errors, diagnostics, repairs: no secret."""
    caplog.set_level(logging.DEBUG)
    assert await async_setup_component(hass, "application_credentials", {})
    # Before the first HTTP client freezes the router.
    assert await async_setup_component(hass, "diagnostics", {})
    shown = Shown()

    entry = await _link(hass, hass_client_no_auth, echo_servers, shown)
    assert entry.state is ConfigEntryState.LOADED

    await _add_endpoint(
        hass,
        entry,
        shown,
        "Echo",
        "/data",
        [
            {
                "name": "Auth",
                "value_template": "{{ value_json.headers.Authorization }}",
                "json_attributes": ["headers", "dump", "json", "body", "url"],
            },
            {
                "name": "Broken",
                "value_template": "{{ value_json.headers.Authorization | float }}",
            },
            {"name": "Raw", "value_template": "{{ value[:400] }}"},
        ],
    )
    await _add_endpoint(
        hass,
        entry,
        shown,
        "Posted",
        "/data",
        [{"name": "Body", "value_template": "{{ value_json.body }}"}],
        method="POST",
        body='{"accessToken": "{{ \'posted-secret-1\' }}", "n": 1}',
    )
    # The pick list of an answer quoting the credentials under ordinary keys.
    labels = await _pick_all(hass, entry, shown, "Who", "/whoami")
    assert 'session.bearer = "**REDACTED**"' in labels
    assert 'user = "me"' in labels
    # The templates it wrote read the values without quoting a secret.
    written = [dict(subentry.data) for subentry in entry.subentries.values()]
    assert not leaked(json.dumps(written), SECRETS)
    # Poll again: the values are rendered once more from a fresh echo.
    for coordinator in entry.runtime_data.endpoints.values():
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    auth = hass.states.get("sensor.echo_auth")
    assert auth is not None
    assert auth.state == "Bearer **REDACTED**"

    await _call(hass, entry, shown, url="/data")
    await _call(hass, entry, shown, url="/text")
    await _call(hass, entry, shown, url="/status/500")
    await _call(
        hass, entry, shown, url="/data", method="POST", json={"refresh_token": "x"}
    )
    await _call(hass, entry, shown, url="/redirect", params={"to": "file:///x"})

    # Repairs: a 403 raises an issue; a 401 (even after a refresh) a re-auth.
    await _add_endpoint(
        hass,
        entry,
        shown,
        "Forbidden",
        "/status/403",
        [{"name": "F", "value_template": "{{ value_json.headers }}"}],
    )
    await _add_endpoint(
        hass,
        entry,
        shown,
        "Unauthorized",
        "/status/401",
        [{"name": "U", "value_template": "{{ value_json.dump }}"}],
    )
    for coordinator in entry.runtime_data.endpoints.values():
        await coordinator.async_refresh()
    await hass.async_block_till_done()
    issues = [
        shown.add(
            {
                "id": issue.issue_id,
                "key": issue.translation_key,
                "placeholders": issue.translation_placeholders,
            }
        )
        for issue in ir.async_get(hass).issues.values()
        if issue.domain == DOMAIN
    ]
    assert any(issue["key"] == "endpoint_forbidden" for issue in issues)
    reauths = [
        shown.add(flow)
        for flow in hass.config_entries.flow.async_progress_by_handler(DOMAIN)
        if flow["context"].get("source") == "reauth"
    ]
    assert reauths

    diagnostics = shown.add(
        await get_diagnostics_for_config_entry(hass, hass_client, entry)
    )
    assert diagnostics

    states = [
        (state.entity_id, state.state, dict(state.attributes))
        for state in hass.states.async_all()
    ]
    shown.add(states)
    # Every record of every phase, as the handlers would have written them.
    log = "\n".join(
        record.getMessage() + (f"\n{record.exc_text}" if record.exc_text else "")
        for phase in ("setup", "call")
        for record in caplog.get_records(phase)  # type: ignore[arg-type]
    )
    assert "Template of sensor.echo_broken failed" in log
    assert entry.state is ConfigEntryState.LOADED

    everything = json.dumps(shown.items, default=repr)
    assert "**REDACTED**" in everything
    assert not leaked(everything, SECRETS)
    assert not leaked(log, SECRETS)
    # The user's own body template is in its subentry; the echo of it is not shown.
    assert "posted-secret" not in json.dumps(states)
    # And the API did receive the token each time: only what we show is clean.
    assert any(
        r.headers.get("Authorization") == f"Bearer {SECRETS[0]}"
        for r in echo_servers.received_by("api")
    )
