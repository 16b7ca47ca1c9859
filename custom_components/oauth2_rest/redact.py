"""The one place that knows secrets: by key name, and by value.

- By name: a key is secret when its name, lower-cased with every character but
  letters and digits dropped (``accessToken``, ``Refresh-Token``, ``client_secret``
  all normalise alike), is a known secret name or ends like one (``…token``,
  ``…secret``, ``…password``, ``…apikey``). Nested keys count too.
- By value: an account's ``Secrets`` hold its access, refresh and ID tokens (the
  current ones and a few before them) and its client secret; wherever one of them
  appears, in any string, it is replaced.

Flows (the endpoint preview), entities (attributes), diagnostics and the action use
these functions; no other module keeps a list of secret names. No Home Assistant
import, so the HA-agnostic parts may use it too.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping
import re
from typing import Any

from .oauth.token_set import SECRET_FIELDS

REDACTED = "**REDACTED**"

# Normalised names (see normalise_key) whose values are secrets.
_SECRET_NAMES = frozenset(
    {
        "accesstoken",
        "apikey",
        "authorization",
        "clientsecret",
        "codeverifier",
        "cookie",
        "devicecode",
        "idtoken",
        "passwd",
        "password",
        "privatekey",
        "proxyauthorization",
        "refreshtoken",
        "secret",
        "sessionid",
        "setcookie",
        "token",
        "xapikey",
    }
)
_SECRET_SUFFIXES = ("token", "secret", "password", "apikey")
# Keys that identify the account or its application rather than authenticate it:
# not secrets, but kept out of diagnostics, which users post in public.
ACCOUNT_IDENTIFYING_KEYS = frozenset(
    {
        "account_id",
        "athlete",
        # The application credential's auth domain is derived from the client id.
        "auth_implementation",
        "client_id",
        "email",
        "login",
        "login_hint",
        "preferred_username",
        "session_state",
        "sid",
        "sub",
        "subject",
        "uid",
        "unique_id",
        "user_id",
        "userid",
        "username",
    }
)
_NOT_ALNUM = re.compile(r"[^0-9a-z]")
# ``name=value``, ``name: value`` and ``"name": "value"`` in free text (query
# strings, form bodies, headers, JSON that did not parse).
#
# Linear in the text: a name starts only where a run of name characters starts
# (or after its opening quote), and every run is taken whole, never given back
# (possessive ``++``/``*+``), so no character is read more than a few times. Taken
# whole is also the only way such a run can match, so the pairs found are the
# same as with plain greedy runs and a name tried at each character of a run.
_KEY_VALUE_IN_TEXT = re.compile(
    r"""(?P<lead>(?:(?P<q>["'])|(?<![A-Za-z0-9_.\-]))"""
    r"""(?P<name>[A-Za-z0-9_.\-]++)(?(q)(?P=q))\s*+[:=]\s*+["']?+)"""
    # An authorization scheme goes with its credentials: ``Authorization: Bearer x``.
    r"""(?P<value>(?:(?i:bearer|basic|token|mac|digest)\s++)?[^"'&\s,;}]++)"""
)
# Values shorter than this are not scrubbed by value: they would match everywhere.
MIN_SECRET_LENGTH = 6
# How many earlier token sets an account's Secrets remember.
PREVIOUS_TOKENS_KEPT = 4


def normalise_key(key: str) -> str:
    """``Refresh-Token``, ``refresh_token`` and ``refreshToken`` → ``refreshtoken``."""
    return _NOT_ALNUM.sub("", key.lower())


def is_secret_key(key: object) -> bool:
    """Whether the value of ``key`` must never be shown."""
    if not isinstance(key, str):
        return False
    name = normalise_key(key)
    return name in _SECRET_NAMES or name.endswith(_SECRET_SUFFIXES)


class Secrets:
    """The values of one account that must never be shown.

    Tokens are added as they are issued; the last few token sets stay known, so a
    response made with a token that has been replaced since is still scrubbed.
    """

    def __init__(self, *values: str | None) -> None:
        """Start with fixed secrets (the client secret)."""
        self._fixed = {v for v in values if v and len(v) >= MIN_SECRET_LENGTH}
        self._tokens: deque[frozenset[str]] = deque(maxlen=PREVIOUS_TOKENS_KEPT + 1)
        self._ordered: tuple[str, ...] = ()
        self._refresh()

    def add_token(self, token: Mapping[str, Any]) -> None:
        """Know the values of a token set (access, refresh and ID token)."""
        values = frozenset(
            value
            for field in SECRET_FIELDS
            if isinstance(value := token.get(field), str)
            and len(value) >= MIN_SECRET_LENGTH
        )
        if values and (not self._tokens or self._tokens[-1] != values):
            self._tokens.append(values)
            self._refresh()

    def _refresh(self) -> None:
        known = set(self._fixed).union(*self._tokens)
        # Longest first: a secret that contains another is replaced whole.
        self._ordered = tuple(sorted(known, key=len, reverse=True))

    def __contains__(self, value: object) -> bool:
        """Whether ``value`` is one of the secrets."""
        return value in self._ordered

    def scrub(self, text: str) -> str:
        """``text`` with every known secret value replaced."""
        for secret in self._ordered:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text

    def scrub_bytes(self, body: bytes) -> bytes:
        """``body`` with every known secret value replaced (UTF-8)."""
        for secret in self._ordered:
            raw = secret.encode()
            if raw in body:
                body = body.replace(raw, REDACTED.encode())
        return body


NO_SECRETS = Secrets()


def redact_data(
    data: Any,
    secrets: Secrets = NO_SECRETS,
    *,
    keys: Iterable[str] = (),
) -> Any:
    """``data`` (JSON-like) with secrets replaced, recursively.

    The values of secret keys (and of ``keys``, exact names) are replaced whole;
    strings anywhere are redacted as free text (:func:`redact_text`): the
    account's secret values, and ``secret=value`` pairs, such as a JSON or form
    body an API echoes back inside a string.
    """
    extra = frozenset(keys)
    return _redact(data, secrets, extra)


def _redact(data: Any, secrets: Secrets, extra: frozenset[str]) -> Any:
    if isinstance(data, Mapping):
        return {
            key: REDACTED
            if (key in extra or is_secret_key(key)) and data[key] not in (None, "")
            else _redact(data[key], secrets, extra)
            for key in data
        }
    if isinstance(data, list | tuple):
        return [_redact(item, secrets, extra) for item in data]
    if isinstance(data, str):
        return redact_text(data, secrets)
    return data


def redact_text(text: str, secrets: Secrets = NO_SECRETS) -> str:
    """Free text with ``secret=value`` pairs and the account's secrets replaced."""

    def replace(match: re.Match[str]) -> str:
        if is_secret_key(match.group("name").rsplit(".", 1)[-1]):
            return match.group("lead") + REDACTED
        return match.group(0)

    return _KEY_VALUE_IN_TEXT.sub(replace, secrets.scrub(text))
