"""The real-peers suite: third-party authorization servers, a real Home Assistant, real flows.

    .venv/bin/python tests/peers/run.py [--servers dot,glewlwyd] [--keep]

(``scripts/test --peers`` installs the servers first.) For each server: link an account by
discovery (code + PKCE), an endpoint on its protected resource / userinfo, refreshes across
>= 3 short token lifetimes with the value never unavailable, revocation at the server with short
and with hour-long tokens (a reauth flow within a minute, no retry storm), the device grant,
client credentials, and removal of the entry (the grant revoked at the server).

Environment: PEERS_HA_PORT (28123), PEERS_DOT_PORT (28801), PEERS_GLEWLWYD_PORT (28802),
PEERS_ACCESS_TTL (short access token lifetime, 20 s),
PEERS_GLEWLWYD_LOG_LEVEL (DEBUG: Glewlwyd's log says why it refuses a client). State and logs: artifacts/peers/.
Exit status non-zero when any scenario failed. The summary goes to artifacts/peers/summary.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from pathlib import Path
import shutil
import sys
import time

sys.path.insert(0, str(Path(__file__).resolve().parent))

from dot_peer import DotPeer, PeerError
from ha import ROOT, FlowError, HomeAssistant
from scenarios import Result, Run

ART = Path(os.environ.get("PEERS_ARTIFACTS", ROOT / "artifacts" / "peers"))
HOUR = 3600


def log(message: str) -> None:
    """Progress on stderr."""
    print(f"[peers {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


async def run_peer(run: Run) -> None:
    """Every scenario against one server, in order (later ones use the linked entry)."""
    peer = run.peer
    run.value_name = f"{peer.key} value"

    async def link() -> str:
        result = await run.link(peer.code_client, "auth")
        run.entry_id = result["result"]["entry_id"]
        return f"entry {result['title']!r} ({' -> '.join(result['seen'])})"

    linked = await run.scenario("link by discovery (code + PKCE)", link)
    if not linked and peer.authorize_params:

        async def link_workaround() -> str:
            result = await run.link(
                peer.code_client, "auth", params=peer.authorize_params
            )
            run.entry_id = result["result"]["entry_id"]
            return f"linked with authorize params {peer.authorize_params!r}: {result['title']!r}"

        linked = await run.scenario(
            "link by discovery with the user's workaround (extra authorize params)",
            link_workaround,
        )

    async def needs_entry() -> None:
        if not run.entry_id:
            raise FlowError("not run: no linked entry")

    async def endpoint() -> str:
        await needs_entry()
        await run.add_endpoint(run.entry_id, run.value_name)
        return f"value {await run.wait_value()!r}"

    await run.scenario("endpoint on the protected resource", endpoint)

    async def refreshes() -> str:
        await needs_entry()
        await run.wait_value()
        lifetimes = 3
        start_tokens = await peer.token_requests("refresh_token")
        started = time.monotonic()
        values: list[str] = []
        unavailable = 0
        while True:
            state = await run.ha.state(run.value_name)
            value = state["state"] if state else "missing"
            if value in ("unavailable", "unknown", "missing"):
                unavailable += 1
            elif not values or values[-1] != value:
                values.append(value)
            refreshed = await peer.token_requests("refresh_token") - start_tokens
            elapsed = time.monotonic() - started
            if refreshed >= lifetimes and elapsed >= lifetimes * run.short_ttl:
                break
            if elapsed > lifetimes * run.short_ttl + 60:
                raise FlowError(f"only {refreshed} refreshes in {elapsed:.0f} s")
            await asyncio.sleep(1)
        if unavailable:
            raise FlowError(
                f"value unavailable {unavailable} times over {refreshed} refreshes"
            )
        if peer.numeric and len(values) < lifetimes:
            raise FlowError(f"value changed only {len(values)} times: {values}")
        return f"{refreshed} refreshes in {elapsed:.0f} s, never unavailable, values {values[:3]}...{values[-1:]}"

    await run.scenario(
        f"refreshes across 3 lifetimes of {run.short_ttl} s tokens", refreshes
    )

    async def revoke(ttl_after: int, lifetime: int) -> str:
        await needs_entry()
        await run.wait_value()
        # HA writes .storage a moment after the reauth that got this token: wait for it.
        for _ in range(20):
            token = run.ha.stored_token(run.entry_id) or {}
            if abs(int(token.get("expires_in", 0)) - lifetime) <= 1:
                break
            await asyncio.sleep(0.5)
        else:
            raise FlowError(
                f"set-up: the entry's token lives {token.get('expires_in')} s, not {lifetime} s"
            )
        tokens = await peer.token_requests("refresh_token")
        denials = await peer.api_denials()
        await peer.revoke_all()
        detail = await run.wait_reauth(tokens, denials)
        await peer.set_access_ttl(ttl_after)
        await run.reauth()
        value = await run.wait_value(30)
        return f"{detail}; re-linked through it, value {value!r}"

    await run.scenario(
        f"revocation at the server with {run.short_ttl} s tokens -> reauth",
        lambda: revoke(HOUR, run.short_ttl),
    )
    # The entry now holds an hour-long token (re-linked above with the server at 1 h).
    long_ok = await run.scenario(
        "revocation at the server with hour-long tokens -> reauth",
        lambda: revoke(run.short_ttl, HOUR),
    )
    if not long_ok and run.entry_id:
        # Start over so that removal can run: delete the entry, link again.
        await peer.set_access_ttl(run.short_ttl)
        await run.ha.api("DELETE", f"/api/config/config_entries/entry/{run.entry_id}")
        run.entry_id = ""
        try:
            result = await run.link(
                peer.code_client, "auth", params=peer.authorize_params
            )
            run.entry_id = result["result"]["entry_id"]
        except (FlowError, PeerError) as err:
            log(f"{peer.key}: could not link again for the removal scenario: {err}")

    async def removal() -> str:
        await needs_entry()
        live = await peer.live_grants()
        revocations = await peer.revocations()
        if not live:
            raise FlowError("the server has no live grant of the entry before removal")
        await run.ha.api("DELETE", f"/api/config/config_entries/entry/{run.entry_id}")
        run.entry_id = ""
        for _ in range(20):
            if not await peer.live_grants():
                return f"grant revoked ({await peer.revocations() - revocations} revocation requests)"
            await asyncio.sleep(0.5)
        raise FlowError(
            f"{await peer.live_grants()} refresh tokens still live after removal, "
            f"{await peer.revocations() - revocations} revocation requests"
        )

    await run.scenario("removal of the entry -> grant revoked at the server", removal)

    async def device() -> str:
        result = await run.link(peer.device_client, "device")
        await run.ha.api(
            "DELETE", f"/api/config/config_entries/entry/{result['result']['entry_id']}"
        )
        return f"entry {result['title']!r} ({' -> '.join(result['seen'])})"

    await run.scenario("device grant by discovery", device)

    async def client_credentials() -> str:
        before = await peer.token_requests("client_credentials")
        result = await run.link(peer.cc_client, "client_credentials")
        entry_id = result["result"]["entry_id"]
        detail = f"entry {result['title']!r}"
        if peer.cc_endpoint:
            run.value_name, saved = f"{peer.key} cc value", run.value_name
            try:
                await run.add_endpoint(entry_id, run.value_name)
                detail += f", endpoint value {await run.wait_value()!r}"
            finally:
                run.value_name = saved
        made = await peer.token_requests("client_credentials") - before
        await run.ha.api("DELETE", f"/api/config/config_entries/entry/{entry_id}")
        return f"{detail}; {made} client credentials token requests"

    await run.scenario("client credentials by discovery", client_credentials)


def summary(results: list[Result], versions: dict[str, str], seconds: float) -> str:
    """The Markdown table that ends the run."""
    lines = [
        f"# Peer suite, {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} ({seconds:.0f} s)",
        "",
        *[f"- {name}: {version}" for name, version in versions.items()],
        "",
        "| server | scenario | result | s | detail |",
        "| --- | --- | --- | --- | --- |",
    ]
    for r in results:
        detail = r.detail.replace("|", "\\|").replace("\n", " ")
        lines.append(
            f"| {r.server} | {r.name} | {'PASSED' if r.ok else 'FAILED'} | {r.seconds:.0f} | {detail} |"
        )
    failed = sum(not r.ok for r in results)
    lines += ["", f"{len(results) - failed} passed, {failed} failed"]
    return "\n".join(lines) + "\n"


async def main(args: argparse.Namespace) -> int:
    """Start HA and the servers, run the scenarios of each server side by side."""
    started = time.monotonic()
    if ART.exists() and not args.keep:
        shutil.rmtree(ART)
    ART.mkdir(parents=True, exist_ok=True)
    ha_port = int(os.environ.get("PEERS_HA_PORT", "28123"))
    ttl = int(os.environ.get("PEERS_ACCESS_TTL", "20"))
    ha = HomeAssistant(ART / "ha-work", ha_port)
    redirect_uri = f"{ha.url}/auth/external/callback"
    peers = []
    for key in args.servers.split(","):
        if key == "dot":
            port = int(os.environ.get("PEERS_DOT_PORT", "28801"))
            peers.append(DotPeer(ART / "dot", port, redirect_uri))
        elif key == "glewlwyd":
            from glewlwyd_peer import GlewlwydPeer

            port = int(os.environ.get("PEERS_GLEWLWYD_PORT", "28802"))
            peers.append(GlewlwydPeer(ART / "glewlwyd", port, redirect_uri))
        else:
            sys.exit(f"unknown server {key!r} (dot, glewlwyd)")
    versions: dict[str, str] = {}
    runs = [Run(ha, peer, ttl, log) for peer in peers]
    try:
        for peer in peers:
            await peer.start(ttl)
            versions[peer.name] = await peer.version()
            log(f"{peer.name} up at {peer.issuer} ({versions[peer.name]})")
        took = await ha.start()
        from homeassistant.const import __version__ as ha_version

        versions["Home Assistant"] = ha_version
        log(f"Home Assistant {ha_version} up at {ha.url} in {took:.0f} s")
        await asyncio.gather(*(run_peer(run) for run in runs))
    except (FlowError, PeerError, OSError) as err:
        log(f"FAILED to run: {err}")
        results = [r for run in runs for r in run.results]
        results.append(
            Result("suite", "start the servers and Home Assistant", False, str(err), 0)
        )
    else:
        results = [r for run in runs for r in run.results]
    finally:
        await ha.stop()
        for peer in peers:
            await peer.stop()
        if (ha.config / "home-assistant.log").exists():
            shutil.copy(ha.config / "home-assistant.log", ART / "home-assistant.log")
    text = summary(results, versions, time.monotonic() - started)
    (ART / "summary.md").write_text(text)
    (ART / "results.json").write_text(
        json.dumps([r.__dict__ for r in results], indent=1)
    )
    print(text)
    return 0 if results and all(r.ok for r in results) else 1


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--servers", default="dot,glewlwyd")
    parser.add_argument(
        "--keep", action="store_true", help="keep artifacts/peers from before"
    )
    sys.exit(asyncio.run(main(parser.parse_args())))
