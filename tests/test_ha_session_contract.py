"""HA's OAuth2 methods the integration replaces are the ones it was reviewed against.

``AccountSession`` (api.py) replaces ``OAuth2Session.valid_token`` and
``async_ensure_token_valid`` without calling them, and ``OAuth2RestImplementation``
replaces HA's refresh and token request; HA's authorization code step stamps the
expiry of the first token. What a new Home Assistant version adds in these methods
(HA 2026.10 added starting reauth and checking the new token's fields to
``async_ensure_token_valid``) would be silently dropped. So their source is pinned
here, for every HA version the integration supports: when HA changes one, this
fails until the replacement has been reviewed against it (see the docstring of
``AccountSession``) and the new digest added.
"""

from __future__ import annotations

from collections.abc import Callable
import hashlib
import inspect
import textwrap
from typing import Any

from homeassistant.const import __version__ as ha_version
from homeassistant.helpers.config_entry_oauth2_flow import (
    AbstractOAuth2FlowHandler,
    AbstractOAuth2Implementation,
    LocalOAuth2Implementation,
    OAuth2Session,
)
import pytest

from custom_components.oauth2_rest.api import AccountSession
from custom_components.oauth2_rest.oauth.implementation import OAuth2RestImplementation

# What is replaced (or relied on), by name: the function, and the digests of its
# source in the HA versions it was reviewed against (2026.3.1 and 2026.10.4).
REVIEWED: dict[str, tuple[Callable[..., Any], frozenset[str]]] = {
    "OAuth2Session.token": (
        OAuth2Session.token.fget,
        frozenset({"8c5a3130bb80d9f0"}),
    ),
    "OAuth2Session.valid_token": (
        OAuth2Session.valid_token.fget,
        frozenset({"1db8e1ebfefa6657"}),
    ),
    "OAuth2Session.async_ensure_token_valid": (
        OAuth2Session.async_ensure_token_valid,
        frozenset({"8f8302d2b5799c70", "8e4709d9ea44d615"}),
    ),
    "AbstractOAuth2Implementation.async_refresh_token": (
        AbstractOAuth2Implementation.async_refresh_token,
        frozenset({"6e409f862e4e0336", "ee02e786f27b86a5"}),
    ),
    "LocalOAuth2Implementation._async_refresh_token": (
        LocalOAuth2Implementation._async_refresh_token,
        frozenset({"3f39d5c00a8323ee", "5acf2afb9dbdf96e"}),
    ),
    "LocalOAuth2Implementation._token_request": (
        LocalOAuth2Implementation._token_request,
        frozenset({"b5b7e24e4dcbe1b0", "39047260f335aa63"}),
    ),
    "AbstractOAuth2FlowHandler.async_step_creation": (
        AbstractOAuth2FlowHandler.async_step_creation,
        frozenset({"ddd55b722cefa966"}),
    ),
}


def source_digest(function: Callable[..., Any]) -> str:
    """A short digest of a function's source, indentation and outer blanks aside."""
    source = textwrap.dedent(inspect.getsource(function)).strip()
    return hashlib.sha256(source.encode()).hexdigest()[:16]


@pytest.mark.parametrize("name", sorted(REVIEWED))
def test_replaced_ha_method_is_the_reviewed_one(name: str) -> None:
    """HA's method is one of the versions the replacement was reviewed against."""
    function, digests = REVIEWED[name]
    assert source_digest(function) in digests, (
        f"Home Assistant {ha_version} changed {name}: review what it now does"
        " against AccountSession (api.py) and OAuth2RestImplementation"
        " (oauth/implementation.py), then add the new digest here"
    )


@pytest.mark.parametrize(
    ("ours", "name"),
    [
        (AccountSession.valid_token.fget, "valid_token"),
        (AccountSession.async_ensure_token_valid, "async_ensure_token_valid"),
        (OAuth2RestImplementation.async_refresh_token, "async_refresh_token"),
        (OAuth2RestImplementation._async_refresh_token, "_async_refresh_token"),
        (OAuth2RestImplementation._token_request, "_token_request"),
    ],
)
def test_replacements_do_not_call_the_base(ours: Callable[..., Any], name: str) -> None:
    """The replacements stand on their own: what HA's do is not half-inherited.

    A ``super()`` call would mean HA's refresh (or its lock and late save) runs
    beside ours; the review above assumes it does not.
    """
    assert "super()" not in inspect.getsource(ours), name
