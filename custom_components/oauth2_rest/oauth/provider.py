"""Provider profiles: what we need to know about an OAuth 2.0 authorization server.

A profile is plain data. Presets live in ``presets.json``; discovery and manual entry
produce the same type. Provider quirks are fields here, interpreted by the
implementation, never ``if provider == ...`` code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from functools import cache
import json
from pathlib import Path
import re
import string
from typing import Any, Self

from yarl import URL

from ..client.refusal import DeadTokenAnswer
from ..client.urls import origin_of

PRESETS_FILE = Path(__file__).with_name("presets.json")
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


class ClientAuthMethod(StrEnum):
    """How the client authenticates at the token endpoint (RFC 7591 names)."""

    CLIENT_SECRET_BASIC = "client_secret_basic"
    CLIENT_SECRET_POST = "client_secret_post"
    NONE = "none"


class PkceMode(StrEnum):
    """Whether the authorization server requires, supports or ignores PKCE."""

    REQUIRED = "required"
    SUPPORTED = "supported"
    NO = "no"


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenResponseQuirks:
    """Deviations of a token endpoint from RFC 6749 section 5."""

    # The token fields are wrapped in an object under this key (Withings: "body").
    wrapper_key: str | None = None
    # A numeric status in the body that is not ``status_ok`` means an error, even
    # with HTTP 200 (Withings: "status", 0).
    status_key: str | None = None
    status_ok: int = 0
    # Of those statuses, the ones that mean the grant is dead (reauth). Any other
    # non-ok status is treated as transient: retried, never a reauth.
    reauth_statuses: tuple[int, ...] = ()
    # Extra form fields for every token request (Withings: action=requesttoken).
    extra_token_params: Mapping[str, str] = field(default_factory=dict)
    # Where in the token response the account id is, dotted path (Strava: athlete.id).
    subject_field: str | None = None
    # The token's lifetime in seconds is under this key (Facebook: "expires").
    expires_in_field: str = "expires_in"
    # The token's absolute expiry (Unix seconds or milliseconds, or ISO 8601) is
    # under this key instead of a lifetime.
    expires_at_field: str | None = None
    # Which of these fields were found by looking at the first token answer, not
    # declared by a preset (shown in diagnostics).
    detected: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class ProviderProfile:
    """An authorization server and the API behind it."""

    key: str
    name: str
    authorize_url: str
    token_url: str
    revocation_url: str | None = None
    device_authorization_url: str | None = None
    userinfo_url: str | None = None
    # Where the account id is in the userinfo response, dotted path.
    userinfo_subject: str = "sub"
    issuer: str | None = None
    api_base_url: str | None = None
    client_auth: ClientAuthMethod = ClientAuthMethod.CLIENT_SECRET_BASIC
    pkce: PkceMode = PkceMode.SUPPORTED
    scope_separator: str = " "
    default_scopes: tuple[str, ...] = ()
    extra_authorize_params: Mapping[str, str] = field(default_factory=dict)
    # The client credentials grant (RFC 6749 section 4.4) is offered.
    client_credentials: bool = False
    quirks: TokenResponseQuirks = field(default_factory=TokenResponseQuirks)
    # The API's own ways of saying the access token is dead, beyond RFC 6750
    # (Netatmo: 403 with error.code 2 or 3; Withings: status 401 in HTTP 200).
    api_dead_token: tuple[DeadTokenAnswer, ...] = ()
    documentation_url: str | None = None

    @property
    def api_base(self) -> str:
        """Where API paths are joined: the API base URL, else the token URL's origin."""
        return self.api_base_url or self.token_origin

    @property
    def offers_a_grant(self) -> bool:
        """Whether an account can be linked: by a login, or as the client itself.

        A login in a browser needs the authorization endpoint, one on another
        device the device authorization endpoint; the client credentials grant
        needs neither.
        """
        return bool(
            self.authorize_url
            or self.device_authorization_url
            or self.client_credentials
        )

    @property
    def token_origin(self) -> str:
        """The token endpoint's origin (where the API is when nothing else says)."""
        return origin_of(URL(self.token_url))

    @property
    def placeholders(self) -> tuple[str, ...]:
        """Names of ``{placeholder}`` values the user must give (tenant, realm...)."""
        found: dict[str, None] = {}
        for value in self._templated_values():
            for name in _PLACEHOLDER.findall(value):
                found[name] = None
        return tuple(found)

    def _templated_values(self) -> list[str]:
        values = [
            getattr(self, f.name)
            for f in fields(self)
            if type(getattr(self, f.name)) is str  # not the StrEnum fields
        ]
        values.extend(self.extra_authorize_params.values())
        return values

    def with_placeholders(self, values: Mapping[str, str]) -> Self:
        """Return the profile with every ``{placeholder}`` filled from values.

        Raises KeyError naming the first placeholder without a value.
        """

        def fill(value: str) -> str:
            return string.Formatter().vformat(value, (), _Strict(values))

        changes: dict[str, Any] = {
            f.name: fill(getattr(self, f.name))
            for f in fields(self)
            if type(getattr(self, f.name)) is str  # not the StrEnum fields
        }
        changes["extra_authorize_params"] = {
            k: fill(v) for k, v in self.extra_authorize_params.items()
        }
        return replace(self, **changes)

    def join_scopes(self, scopes: tuple[str, ...] | list[str]) -> str:
        """Return scopes as the single string the authorize request carries."""
        return self.scope_separator.join(scopes)

    def as_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dict (stored in the config entry)."""
        data = asdict(self)
        data["client_auth"] = str(self.client_auth)
        data["pkce"] = str(self.pkce)
        data["default_scopes"] = list(self.default_scopes)
        data["extra_authorize_params"] = dict(self.extra_authorize_params)
        data["quirks"]["extra_token_params"] = dict(self.quirks.extra_token_params)
        data["quirks"]["reauth_statuses"] = list(self.quirks.reauth_statuses)
        data["quirks"]["detected"] = list(self.quirks.detected)
        if self.api_dead_token:
            data["api_dead_token"] = [a.as_dict() for a in self.api_dead_token]
        else:
            del data["api_dead_token"]
        return {k: v for k, v in data.items() if v is not None}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """Build a profile from ``as_dict`` output or a preset entry.

        Raises ValueError (or KeyError/TypeError) for data that is not a profile.
        """
        known = {f.name for f in fields(cls)}
        if unknown := set(data) - known:
            raise ValueError(f"unknown profile fields: {sorted(unknown)}")
        values = dict(data)
        values["client_auth"] = ClientAuthMethod(
            values.get("client_auth", ClientAuthMethod.CLIENT_SECRET_BASIC)
        )
        values["pkce"] = PkceMode(values.get("pkce", PkceMode.SUPPORTED))
        values["default_scopes"] = tuple(values.get("default_scopes", ()))
        values["extra_authorize_params"] = dict(
            values.get("extra_authorize_params", {})
        )
        quirks = dict(values.get("quirks", {}))
        quirks["reauth_statuses"] = tuple(quirks.get("reauth_statuses", ()))
        quirks["detected"] = tuple(quirks.get("detected", ()))
        values["quirks"] = TokenResponseQuirks(**quirks)
        values["api_dead_token"] = tuple(
            DeadTokenAnswer.from_dict(answer)
            for answer in values.get("api_dead_token", ())
        )
        return cls(**values)


class _Strict(dict[str, str]):
    """Format mapping that names the missing placeholder."""

    def __missing__(self, key: str) -> str:
        raise KeyError(key)


@cache
def load_presets() -> dict[str, ProviderProfile]:
    """Return the preset catalog, keyed by preset key (blocking: run in executor)."""
    raw = json.loads(PRESETS_FILE.read_text(encoding="utf-8"))
    return {
        key: ProviderProfile.from_dict({"key": key, **value})
        for key, value in raw.items()
    }
