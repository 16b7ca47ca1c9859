"""Settings of the demo provider."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import time
from urllib.parse import urlsplit

DEFAULT_PORT = 8765

SCOPES: dict[str, str] = {
    "openid": "Sign you in (OpenID Connect)",
    "profile": "Your name",
    "email": "Your e-mail address",
    "offline_access": "Stay connected (refresh tokens)",
    "api:read": "Read the demo API (weather, status, counter, lamp, messages)",
    "api:write": "Change the demo API (counter, lamp, messages)",
}
DEFAULT_SCOPE = "openid profile email offline_access api:read api:write"


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoConfig:
    """What the provider serves and how it behaves."""

    host: str = "127.0.0.1"
    port: int = DEFAULT_PORT
    issuer: str = ""
    token_ttl: int = 3600
    refresh_ttl: int = 0
    code_ttl: int = 120
    device_ttl: int = 600
    device_interval: int = 5
    api_interval: float = 10.0
    rate_limit: int = 600
    reuse_detection: bool = True
    redirect_hosts: tuple[str, ...] = ("localhost", "127.0.0.1", "::1")
    api_only: bool = False
    validate_with_userinfo: str | None = None
    state_file: str | None = None  # grants kept across restarts (demo/state.py)
    clock: Callable[[], float] = field(default=time.time, repr=False)

    def __post_init__(self) -> None:
        """Derive the issuer from host and port when none was given."""
        if not self.issuer:
            host = f"[{self.host}]" if ":" in self.host else self.host
            if host in ("0.0.0.0", "[::]"):
                host = "127.0.0.1"
            object.__setattr__(self, "issuer", f"http://{host}:{self.port}")
        object.__setattr__(self, "issuer", self.issuer.rstrip("/"))
        if self.api_only and not self.validate_with_userinfo:
            raise ValueError("api_only needs validate_with_userinfo")

    @property
    def prefix(self) -> str:
        """Path of the issuer URL ('' for an issuer at the server root)."""
        return urlsplit(self.issuer).path.rstrip("/")

    def url(self, path: str) -> str:
        """Absolute URL of one of the provider's paths."""
        return f"{self.issuer}{path}"
