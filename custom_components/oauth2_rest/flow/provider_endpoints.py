"""The endpoints a user adds to a provider: after discovery, and on reconfigure.

Discovery shows what it found (a summary); the user may add or correct the
revocation and device endpoints and the client credentials grant, which
metadata documents leave out at times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import voluptuous as vol

from ..client.urls import http_url
from ..oauth.discovery import insecure_for_issuer
from ..oauth.provider import ProviderProfile
from .account_forms import (
    CONF_CLIENT_CREDENTIALS,
    CONF_DEVICE_URL,
    CONF_REVOCATION_URL,
    URL_SELECTOR,
)

# The discovery summary's marks: found / offered, and not found / not offered.
OFFERED = "✓"
NOT_FOUND = "—"

# What discovery may leave out: endpoints its documents don't name, a grant the
# server has but does not list.
ENDPOINTS_SCHEMA = vol.Schema(
    {
        vol.Optional(CONF_REVOCATION_URL): URL_SELECTOR,
        vol.Optional(CONF_DEVICE_URL): URL_SELECTOR,
        vol.Optional(CONF_CLIENT_CREDENTIALS, default=False): bool,
    }
)


def endpoints_suggested(profile: ProviderProfile) -> dict[str, Any]:
    """The endpoints and grant of the endpoints form, as the profile has them."""
    return {
        CONF_REVOCATION_URL: profile.revocation_url or "",
        CONF_DEVICE_URL: profile.device_authorization_url or "",
        CONF_CLIENT_CREDENTIALS: profile.client_credentials,
    }


def read_endpoints(
    profile: ProviderProfile,
    user_input: Mapping[str, Any],
    shown: tuple[str, ...] = (CONF_REVOCATION_URL, CONF_DEVICE_URL),
) -> tuple[ProviderProfile | None, dict[str, str]]:
    """The profile with the endpoints (and grant) entered, or the form's errors.

    Of the endpoint fields the form has (``shown``), an empty or absent one
    removes the endpoint (a cleared field is not sent); the client credentials
    grant is changed only by a form that has its field. Endpoints that carry
    secrets follow the transport rule of discovery (no plain http under an
    https issuer).
    """
    errors: dict[str, str] = {}
    urls: dict[str, str | None] = {
        CONF_REVOCATION_URL: profile.revocation_url,
        CONF_DEVICE_URL: profile.device_authorization_url,
    }
    for key in shown:
        urls[key] = str(user_input.get(key) or "").strip() or None
        if (url := urls[key]) is None:
            continue
        if http_url(url) is None:
            errors[key] = "invalid_url"
        elif insecure_for_issuer(url, profile.issuer):
            errors[key] = "insecure_endpoint"
    changed = replace(
        profile,
        revocation_url=urls[CONF_REVOCATION_URL],
        device_authorization_url=urls[CONF_DEVICE_URL],
        client_credentials=bool(
            user_input.get(CONF_CLIENT_CREDENTIALS, profile.client_credentials)
        ),
    )
    if not errors and not changed.offers_a_grant:
        errors["base"] = "no_grant"
    return (None, errors) if errors else (changed, {})


def discovered_placeholders(profile: ProviderProfile) -> dict[str, str]:
    """What discovery found, as the summary shows it: endpoints, and grants offered.

    The endpoints come from the server's document: shown as code, so that
    nothing in them renders as a link or as formatting.
    """

    def shown(url: str | None) -> str:
        return f"`{url.replace('`', '%60')}`" if url else NOT_FOUND

    def offered(grant: bool) -> str:
        return OFFERED if grant else NOT_FOUND

    return {
        "provider": profile.name,
        "authorize_url": shown(profile.authorize_url),
        "token_url": shown(profile.token_url),
        CONF_REVOCATION_URL: shown(profile.revocation_url),
        CONF_DEVICE_URL: shown(profile.device_authorization_url),
        "grant_auth": offered(bool(profile.authorize_url)),
        "grant_device": offered(bool(profile.device_authorization_url)),
        "grant_client_credentials": offered(profile.client_credentials),
    }
