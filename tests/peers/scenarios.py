"""The scenarios run against each peer, through a real Home Assistant and the real flows.

Each scenario ends PASSED or FAILED with the reason; a failure never stops the ones after it
unless they cannot run at all (then they fail too, saying why).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
import re
import time
from typing import Any, Protocol

from aiohttp import ClientSession, ClientTimeout

from ha import DOMAIN, FlowError, HomeAssistant

FLOW = "/api/config/config_entries/flow"
SUBFLOW = "/api/config/config_entries/subentries/flow"
REAUTH_WITHIN = 60.0  # seconds from the revocation to a reauth flow in progress
STORM = 3  # at most this many token requests from revocation to 15 s after the reauth prompt


# Forms whose pre-filled (suggested) values the frontend submits along with the user's.
PREFILLED_STEPS = frozenset({"adjust_discovered"})


class Peer(Protocol):
    """What the scenarios need from a server (dot_peer.DotPeer, glewlwyd_peer.GlewlwydPeer)."""

    name: str
    key: str
    issuer: str
    api_base: str
    scopes: str
    code_client: tuple[str, str]
    cc_client: tuple[str, str]
    device_client: tuple[str, str]
    endpoint_url: str
    endpoint_template: str
    numeric: bool
    cc_endpoint: bool
    authorize_params: (
        str  # lines added to the authorize request (the user's workaround)
    )

    async def authorize(self, url: str) -> str: ...
    async def approve_device(self, verification_uri: str, user_code: str) -> None: ...
    async def token_requests(self, grant: str) -> int: ...
    async def api_denials(self) -> int: ...
    async def revoke_all(self) -> None: ...
    async def set_access_ttl(self, seconds: int) -> None: ...
    async def live_grants(self) -> int: ...
    async def revocations(self) -> int: ...


@dataclass
class Result:
    """How one scenario went."""

    server: str
    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class Run:
    """One peer's scenarios and what they share (the linked entry)."""

    ha: HomeAssistant
    peer: Any
    short_ttl: int
    log: Callable[[str], None]
    results: list[Result] = field(default_factory=list)
    entry_id: str = ""
    value_name: str = ""

    async def scenario(self, name: str, body: Callable[[], Awaitable[str]]) -> bool:
        """Run one scenario; record PASSED/FAILED with the reason."""
        started = time.monotonic()
        self.log(f"{self.peer.key}: {name} ...")
        try:
            detail = await body()
            ok = True
        except (
            FlowError,
            AssertionError,
            TimeoutError,
            OSError,
            KeyError,
            ValueError,
        ) as err:
            detail = str(err) or type(err).__name__
            ok = False
        seconds = time.monotonic() - started
        self.results.append(Result(self.peer.name, name, ok, detail, seconds))
        self.log(
            f"{self.peer.key}: {'PASSED' if ok else 'FAILED'} {name} ({seconds:.0f} s): {detail}"
        )
        return ok

    # -- flows --------------------------------------------------------------------------
    async def drive(
        self,
        base: str,
        result: dict[str, Any],
        answers: dict[str, dict[str, Any]],
        menu: dict[str, Any],
        *,
        device: bool = False,
    ) -> tuple[dict[str, Any], list[str]]:
        """Answer forms and menus until the flow ends; the user logs in at external steps."""
        seen: list[str] = []
        for _ in range(25):
            kind = result["type"]
            if kind in ("create_entry", "abort"):
                return result, seen
            step = str(result.get("step_id"))
            seen.append(step)
            flow = f"{base}/{result['flow_id']}"
            if result.get("errors"):
                placeholders = result.get("description_placeholders") or {}
                raise FlowError(
                    f"step {step} shows errors {result['errors']}"
                    + (
                        f" ({placeholders['error']})"
                        if placeholders.get("error")
                        else ""
                    )
                )
            if kind == "menu":
                options = list(result["menu_options"])
                choice = menu.get(step)
                if isinstance(choice, list):  # the same menu again: the next choice
                    choice = choice.pop(0) if choice else None
                if choice not in options:
                    raise FlowError(f"menu {step} offers {options}, not {choice!r}")
                result = await self.ha.api("POST", flow, {"next_step_id": choice})
            elif kind == "external":
                back = await self.peer.authorize(result["url"])
                await self.follow_back(back)
                result = await self.ha.api("GET", flow)
            elif kind == "form" and device and step == "device":
                placeholders = result["description_placeholders"]
                await self.peer.approve_device(
                    placeholders["verification_uri"], placeholders["user_code"]
                )
                result = await self.ha.api("POST", flow, {})
            elif kind == "form":
                known = answers.get(step)
                if known is None:
                    raise FlowError(f"unexpected form {step} after {' -> '.join(seen)}")
                fields = result.get("data_schema") or []
                names = {f["name"] for f in fields}
                # What the frontend submits: the values it pre-filled, and the user's.
                prefilled = {
                    f["name"]: f["description"]["suggested_value"]
                    for f in fields
                    if step in PREFILLED_STEPS
                    and "suggested_value" in (f.get("description") or {})
                }
                result = await self.ha.api(
                    "POST",
                    flow,
                    prefilled | {k: v for k, v in known.items() if k in names},
                )
            elif kind in ("progress", "progress_done", "external_done"):
                await asyncio.sleep(1 if kind == "progress" else 0)
                result = await self.ha.api("GET", flow)
            else:
                raise FlowError(f"unexpected flow result {kind} at {step}")
        raise FlowError(f"the flow did not end: {' -> '.join(seen)}")

    async def follow_back(self, location: str) -> None:
        """The browser follows the server's redirect back to HA's callback."""
        if not location.startswith(f"{self.ha.url}/auth/external/callback"):
            raise FlowError(f"the server redirected elsewhere: {location[:200]}")
        error = re.search(r"[?&]error=([^&]+)", location)
        description = re.search(r"[?&]error_description=([^&]+)", location)
        async with (
            ClientSession(timeout=ClientTimeout(total=30)) as http,
            http.get(location) as resp,
        ):
            if resp.status != 200:
                raise FlowError(f"HA's callback answered HTTP {resp.status}")
        if error:
            self.server_error = f"{error.group(1)}" + (
                f" ({description.group(1).replace('+', ' ')})" if description else ""
            )
        else:
            self.server_error = ""

    server_error: str = ""

    def credentials(
        self, client: tuple[str, str], *, params: str = ""
    ) -> dict[str, Any]:
        """The credentials form as the user fills it."""
        answer: dict[str, Any] = {
            "client_id": client[0],
            "client_secret": client[1],
            "scopes": self.peer.scopes,
            "api_base_url": self.peer.api_base,
        }
        if params:
            answer["extra_authorize_params"] = params
        return answer

    async def link(
        self, client: tuple[str, str], grant: str, *, params: str = ""
    ) -> dict[str, Any]:
        """Discovery -> credentials -> the grant -> the entry; returns the flow's end."""
        self.server_error = ""
        start = await self.ha.api(
            "POST", FLOW, {"handler": DOMAIN, "show_advanced_options": True}
        )
        answers = {
            "discovery": {"issuer_url": self.peer.issuer},
            "credentials": self.credentials(client, params=params),
            "account_name": {"account_name": f"{self.peer.key} {grant}"},
            "reauth_confirm": {},
        }
        # What discovery left out, added on the discovery summary (as a user would).
        adds = self.peer.discovery_adds(grant)
        menu: dict[str, Any] = {
            "user": "discovery",
            "login": grant,
            "discovered": ["adjust_discovered", "credentials"]
            if adds
            else "credentials",
        }
        if adds:
            answers["adjust_discovered"] = adds
        result, seen = await self.drive(
            FLOW, start, answers, menu, device=grant == "device"
        )
        if result["type"] != "create_entry":
            extra = (
                f"; the server answered {self.server_error}"
                if self.server_error
                else ""
            )
            raise FlowError(
                f"flow ended with {result['type']} {result.get('reason')!r} after "
                f"{' -> '.join(seen)}{extra}"
            )
        result["seen"] = seen
        return result

    async def reauth(self) -> str:
        """Complete the reauth flow in progress for the entry."""
        flows = await self.ha.reauth_flows(self.entry_id)
        if not flows:
            raise FlowError("no reauth flow in progress")
        result = await self.ha.api("GET", f"{FLOW}/{flows[0]['flow_id']}")
        answers = {
            "reauth_confirm": {},
            "credentials": self.credentials(
                self.peer.code_client, params=self.peer.authorize_params
            ),
        }
        result, seen = await self.drive(FLOW, result, answers, {"login": "auth"})
        if result.get("reason") != "reauth_successful":
            raise FlowError(
                f"reauth ended with {result['type']} {result.get('reason')!r}"
            )
        return " -> ".join(seen)

    async def add_endpoint(self, entry_id: str, value_name: str) -> None:
        """The endpoint subentry flow: request -> preview -> values -> a sensor -> save."""
        request = {
            "name": f"{self.peer.key} endpoint",
            "url": self.peer.endpoint_url,
            "scan_interval": 10,
        }
        value = {"name": value_name, "value_template": self.peer.endpoint_template}
        result = await self.ha.api(
            "POST",
            SUBFLOW,
            {"handler": [entry_id, "endpoint"], "show_advanced_options": False},
        )
        added = False
        for _ in range(12):
            if result["type"] == "create_entry":
                return
            step = result.get("step_id")
            flow = f"{SUBFLOW}/{result['flow_id']}"
            if result.get("errors"):
                raise FlowError(f"endpoint step {step}: {result['errors']}")
            if result["type"] == "menu":
                options = list(result["menu_options"])
                choice = "finish" if added and "finish" in options else "add_sensor"
                if step == "user":  # where it starts: typed in (not a recipe or YAML)
                    choice = "request"
                result = await self.ha.api("POST", flow, {"next_step_id": choice})
                continue
            if result["type"] != "form":
                raise FlowError(
                    f"endpoint flow: {result['type']} {result.get('reason')!r} at {step}"
                )
            known = value if str(step).endswith("_value") else request
            body = {
                f["name"]: known[f["name"]]
                for f in result.get("data_schema") or []
                if f["name"] in known
            }
            added = added or "value_template" in body
            result = await self.ha.api("POST", flow, body)
        raise FlowError("the endpoint flow did not end")

    async def wait_value(self, timeout: float = 40) -> str:
        """The endpoint sensor's value once it has one."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            state = await self.ha.state(self.value_name)
            if state and state["state"] not in ("unknown", "unavailable"):
                return str(state["state"])
            await asyncio.sleep(1)
        state = await self.ha.state(self.value_name)
        raise FlowError(
            f"no value after {timeout:.0f} s (state {state and state['state']!r})"
        )

    async def wait_reauth(self, since_tokens: int, since_denials: int) -> str:
        """A reauth flow within REAUTH_WITHIN s and no retry storm; raises with what happened."""
        started = time.monotonic()
        while time.monotonic() - started < REAUTH_WITHIN:
            if await self.ha.reauth_flows(self.entry_id):
                break
            await asyncio.sleep(1)
        else:
            tokens = await self.peer.token_requests("refresh_token") - since_tokens
            denials = await self.peer.api_denials() - since_denials
            repairs = [
                i["translation_key"] or i["issue_id"] for i in await self.ha.repairs()
            ]
            state = await self.ha.state(self.value_name)
            raise FlowError(
                f"no reauth flow {REAUTH_WITHIN:.0f} s after the revocation: {denials} denied API "
                f"answers, {tokens} refresh requests, repairs {repairs}, value "
                f"{state and state['state']!r}"
            )
        took = time.monotonic() - started
        await asyncio.sleep(15)
        tokens = await self.peer.token_requests("refresh_token") - since_tokens
        denials = await self.peer.api_denials() - since_denials
        if tokens > STORM:
            raise FlowError(
                f"reauth after {took:.0f} s but {tokens} refresh requests (retry storm)"
            )
        return f"reauth flow after {took:.0f} s; {tokens} refresh requests, {denials} denied API answers"
