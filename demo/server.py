"""Build and run the demo provider's aiohttp application."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
from pathlib import Path
import sys

from aiohttp import web

from . import state
from .admin import AdminViews
from .api import ApiViews
from .authserver import DemoAuthorizationServer
from .config import DEFAULT_PORT, DemoConfig
from .oauth_routes import OAuthViews
from .store import (
    CONFIDENTIAL_CLIENT_ID,
    CONFIDENTIAL_CLIENT_SECRET,
    DEMO_USER,
    PUBLIC_CLIENT_ID,
    Store,
)
from .tokens import LocalTokenCheck, UserinfoTokenCheck

_LOGGER = logging.getLogger(__name__)
STORE_KEY = web.AppKey("store", Store)
API_KEY = web.AppKey("api", ApiViews)


def create_app(config: DemoConfig) -> web.Application:
    """The provider (or, with ``api_only``, just the API) as an aiohttp app."""
    app = web.Application()
    if config.api_only:
        assert config.validate_with_userinfo
        checker = UserinfoTokenCheck(config.validate_with_userinfo)
        api = ApiViews(config, checker)

        async def close(_: web.Application) -> None:
            await checker.close()

        app.on_cleanup.append(close)
        app.add_routes(api.routes())
        app[API_KEY] = api
        return app
    store = Store(config)
    if config.state_file:
        path = Path(config.state_file)
        _LOGGER.info("%d tokens read from %s", state.load(store, path), path)

        async def keep(_: web.Application) -> None:
            state.save(store, path)

        app.on_cleanup.append(keep)
    server = DemoAuthorizationServer(config, store)
    api = ApiViews(config, LocalTokenCheck(store))
    api.events = store.events
    api.faults = store.api_faults
    app.add_routes(OAuthViews(config, store, server).routes())
    app.add_routes(api.routes())
    app.add_routes(AdminViews(config, store, api).routes())
    app[STORE_KEY] = store
    app[API_KEY] = api
    return app


def banner(config: DemoConfig) -> str:
    """What a developer needs to know, printed at start."""
    api = config.url("/api")
    if config.api_only:
        return (
            f"OAuth2 REST demo API (API only) on http://{config.host}:{config.port}\n"
            f"  API base:    {api}  (/weather /status /counter /lamp /messages /me)\n"
            f"  tokens checked at: {config.validate_with_userinfo}\n"
        )
    return (
        f"OAuth2 REST demo provider on http://{config.host}:{config.port}\n"
        f"  issuer:      {config.issuer}\n"
        f"  discovery:   {config.url('/.well-known/openid-configuration')}\n"
        f"  API base:    {api}  (/weather /status /counter /lamp /messages /me)\n"
        f"  user:        {DEMO_USER.username} / {DEMO_USER.password}\n"
        f"  client:      {CONFIDENTIAL_CLIENT_ID} / {CONFIDENTIAL_CLIENT_SECRET}"
        " (confidential: client_secret_basic or client_secret_post)\n"
        f"  client:      {PUBLIC_CLIENT_ID} (public, PKCE S256)\n"
        f"  access token lifetime: {config.token_ttl} s; refresh tokens rotate\n"
        f"  revoke all grants: curl -X POST {config.url('/demo/revoke-all')}\n"
    )


def parse_args(argv: list[str] | None = None) -> DemoConfig:
    """Command line -> DemoConfig."""
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    parser.add_argument("--issuer", default="", help="default: http://HOST:PORT")
    parser.add_argument(
        "--token-ttl", type=int, default=3600, help="access token seconds"
    )
    parser.add_argument("--refresh-ttl", type=int, default=0, help="0: never expires")
    parser.add_argument("--device-interval", type=int, default=5)
    parser.add_argument(
        "--api-interval", type=float, default=10.0, help="seconds per value change"
    )
    parser.add_argument(
        "--rate-limit", type=int, default=600, help="API calls/min/token; 0: off"
    )
    parser.add_argument(
        "--no-reuse-detection",
        action="store_true",
        help="do not revoke a grant when a rotated refresh token is reused",
    )
    parser.add_argument(
        "--redirect-host",
        action="append",
        default=[],
        help="also accept redirect URIs on this host (loopback is always accepted)",
    )
    parser.add_argument(
        "--state-file",
        metavar="FILE",
        help="keep the grants in FILE across restarts (written on stop, read on start)",
    )
    parser.add_argument("--api-only", action="store_true", help="serve only /api")
    parser.add_argument(
        "--validate-with-userinfo",
        metavar="URL",
        help="accept tokens that this userinfo endpoint accepts (another issuer's)",
    )
    args = parser.parse_args(argv)
    if args.api_only and not args.validate_with_userinfo:
        parser.error("--api-only needs --validate-with-userinfo URL")
    return DemoConfig(
        host=args.host,
        port=args.port,
        issuer=args.issuer,
        token_ttl=args.token_ttl,
        refresh_ttl=args.refresh_ttl,
        device_interval=args.device_interval,
        api_interval=args.api_interval,
        rate_limit=args.rate_limit,
        reuse_detection=not args.no_reuse_detection,
        redirect_hosts=("localhost", "127.0.0.1", "::1", *args.redirect_host),
        api_only=args.api_only,
        validate_with_userinfo=args.validate_with_userinfo,
        state_file=args.state_file,
    )


def main(argv: list[str] | None = None) -> None:
    """Run until interrupted."""
    config = parse_args(argv)
    # Plain http is fine for this local demo, also for non-loopback issuer hosts.
    os.environ.setdefault("AUTHLIB_INSECURE_TRANSPORT", "1")
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logging.getLogger("authlib").setLevel(
        logging.WARNING
    )  # its debug logs print tokens
    print(banner(config), flush=True)
    with contextlib.suppress(KeyboardInterrupt, asyncio.CancelledError):
        web.run_app(
            create_app(config),
            host=config.host,
            port=config.port,
            print=None,
            access_log_format='%a "%r" %s %b',
        )
    sys.exit(0)
