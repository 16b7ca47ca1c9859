"""A django-oauth-toolkit authorization server and resource server for the peer suite.

Everything that changes between runs comes from the environment:

- ``PEERS_DOT_BASE`` (``http://127.0.0.1:8801``): the URL it is served at;
- ``PEERS_DOT_STATE`` (a directory): its SQLite database and RSA key (made on first start);
- ``PEERS_DOT_ACCESS_TTL`` (seconds, 30): access token lifetime; the test-only admin routes
  (``peersite/views.py``) change it at run time.
"""

from __future__ import annotations

import os
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from peersite import lifetime

BASE = os.environ.get("PEERS_DOT_BASE", "http://127.0.0.1:8801").rstrip("/")
STATE = Path(
    os.environ.get("PEERS_DOT_STATE", Path(__file__).resolve().parent.parent / "state")
)
STATE.mkdir(parents=True, exist_ok=True)


def _rsa_key() -> str:
    """The OIDC signing key: made once per state directory, never committed."""
    path = STATE / "oidc.key"
    if not path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    return path.read_text()


SECRET_KEY = "peers-suite-not-secret"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "oauth2_provider",
    "peersite",
]
MIDDLEWARE = [
    "peersite.views.CountRequests",
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
]
ROOT_URLCONF = "peersite.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": STATE / "db.sqlite3",
        "OPTIONS": {"timeout": 20},
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "UTC"
STATIC_URL = "/static/"
LOGIN_URL = "/accounts/login/"
# Fast hashing of the user password and client secrets: a test server on a busy CI machine
# (PBKDF2 would cost about a second per token request there).
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
LOGGING = {
    "version": 1,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "loggers": {
        "django.server": {"handlers": ["console"], "level": "INFO"},
        "oauth2_provider": {"handlers": ["console"], "level": "INFO"},
    },
}

OAUTH2_PROVIDER = {
    "OIDC_ENABLED": True,
    "OIDC_RSA_PRIVATE_KEY": _rsa_key(),
    "PKCE_REQUIRED": True,
    "ACCESS_TOKEN_EXPIRE_SECONDS": lifetime.SECONDS[0],
    "EXTRA_SERVER_KWARGS": {"token_expires_in": lifetime.expires_in},
    "ROTATE_REFRESH_TOKEN": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    "REFRESH_TOKEN_GRACE_PERIOD_SECONDS": 0,
    "SCOPES": {
        "openid": "OpenID Connect",
        "profile": "Your name",
        "email": "Your e-mail address",
        "read": "Read your data",
    },
    "DEFAULT_SCOPES": ["read"],
    "OAUTH_DEVICE_VERIFICATION_URI": f"{BASE}/o/device/",
    "DEVICE_FLOW_INTERVAL": 1,
}
