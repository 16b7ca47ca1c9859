"""The one place that knows secrets: by normalised key name and by value."""

from __future__ import annotations

import base64

import pytest

from custom_components.oauth2_rest.redact import (
    PREVIOUS_TOKENS_KEPT,
    REDACTED,
    Secrets,
    is_secret_key,
    normalise_key,
    redact_data,
    redact_text,
)


@pytest.mark.parametrize(
    "key",
    [
        "access_token",
        "accessToken",
        "Refresh-Token",
        "ID_TOKEN",
        "client_secret",
        "clientSecret",
        "Authorization",
        "x-api-key",
        "apiKey",
        "password",
        "token",
        "csrf_token",
        "Set-Cookie",
        "code_verifier",
    ],
)
def test_secret_keys_by_normalised_name(key: str) -> None:
    """Case, ``-``/``_`` and camelCase do not hide a secret key."""
    assert is_secret_key(key)


@pytest.mark.parametrize(
    "key", ["token_type", "expires_in", "temperature", "name", "tokens_left", 3]
)
def test_ordinary_keys(key: object) -> None:
    """Keys that describe a token, or have nothing to do with one, are shown."""
    assert not is_secret_key(key)


def test_normalise_key() -> None:
    """Lower case, letters and digits only."""
    assert normalise_key("Refresh-Token") == normalise_key("refresh_token")
    assert normalise_key("refreshToken") == "refreshtoken"


def test_redact_data_nested_and_by_value() -> None:
    """Secret keys anywhere, and the account's secrets inside any string."""
    secrets = Secrets("client-secret-1")
    secrets.add_token({"access_token": "access-aaa", "refresh_token": "refresh-bbb"})
    data = {
        "auth": {"token": "t0", "user": "me"},
        "list": [{"accessToken": "x"}, "Bearer access-aaa"],
        "note": "secret client-secret-1 here",
        "empty_token": "",
        "n": 1,
    }
    assert redact_data(data, secrets) == {
        "auth": {"token": REDACTED, "user": "me"},
        "list": [{"accessToken": REDACTED}, f"Bearer {REDACTED}"],
        "note": f"secret {REDACTED} here",
        "empty_token": "",
        "n": 1,
    }
    assert redact_data({"email": "a@b", "x": 1}, keys={"email"}) == {
        "email": REDACTED,
        "x": 1,
    }


def test_redact_text() -> None:
    """``name=value`` pairs of secret names and known values, in free text."""
    secrets = Secrets()
    secrets.add_token({"access_token": "access-aaa"})
    assert (
        redact_text('{"Token": "abc", "x": 1}') == f'{{"Token": "{REDACTED}", "x": 1}}'
    )
    assert redact_text("password=p&x=1") == f"password={REDACTED}&x=1"
    assert redact_text("auth.accessToken: zzz") == f"auth.accessToken: {REDACTED}"
    assert redact_text("echo access-aaa", secrets) == f"echo {REDACTED}"
    assert redact_text("temperature=21") == "temperature=21"


def test_authorization_scheme_goes_with_its_credentials() -> None:
    """``Authorization: Bearer x`` loses the credentials, not just the scheme.

    Failed on the old code (only "Bearer" was replaced, the token stayed).
    """
    assert redact_text("Authorization: Bearer other-token\nHost: h") == (
        f"Authorization: {REDACTED}\nHost: h"
    )
    assert redact_text("proxy-authorization=Basic dXNlcjpwdw==") == (
        f"proxy-authorization={REDACTED}"
    )
    assert redact_text("token: bearer") == f"token: {REDACTED}"


def test_redact_data_redacts_pairs_inside_strings() -> None:
    """A body echoed back as a string loses its secret pairs too.

    Failed on the old code (strings were only scrubbed of the account's values).
    """
    body = '{"accessToken":"posted-1","auth":{"token":"posted-2"},"plain":"kept"}'
    assert redact_data({"body": body}) == {
        "body": f'{{"accessToken":"{REDACTED}","auth":{{"token":"{REDACTED}"}},'
        '"plain":"kept"}'
    }


def test_secrets_remember_previous_tokens() -> None:
    """The last few token sets stay known; older ones are forgotten."""
    secrets = Secrets("client-secret-1", None, "short")
    assert "short" not in secrets  # too short to scrub without harm
    for number in range(PREVIOUS_TOKENS_KEPT + 2):
        secrets.add_token({"access_token": f"access-{number:03}"})
    assert "access-000" not in secrets
    assert "access-001" in secrets
    assert f"access-{PREVIOUS_TOKENS_KEPT + 1:03}" in secrets
    assert "client-secret-1" in secrets
    assert secrets.scrub_bytes(b'{"a": "access-001"}') == b'{"a": "**REDACTED**"}'


def test_longer_secret_replaced_whole() -> None:
    """A secret containing another is replaced whole, not piece by piece."""
    secrets = Secrets("abcdef")
    secrets.add_token({"access_token": "abcdef-and-more"})
    assert secrets.scrub("x abcdef-and-more y") == f"x {REDACTED} y"


_B64URL = base64.urlsafe_b64encode(bytes(range(256)) * 3072).decode()  # 1 MiB
_SPACES = " " * 1_000_000
# A megabyte run of each class, and what ``token=<run>`` becomes.
_LONG_RUNS = {
    "hex": (bytes(range(256)).hex() * 2048, f"token={REDACTED}"),
    "base64url": (_B64URL, f"token={REDACTED}"),
    "base64": (
        base64.b64encode(bytes(range(256)) * 3072).decode(),
        f"token={REDACTED}",
    ),
    "dotted name": ("a.b-c_9" * 150_000, f"token={REDACTED}"),
    "spaces": (f"a{_SPACES}b", f"token={REDACTED}{_SPACES}b"),
    "quoted": (f'"{_B64URL}"', f'token="{REDACTED}"'),
    "separators": ("=:" * 500_000, f"token={REDACTED}"),
}


# Not a measurement: a linear pass takes milliseconds, the quadratic pattern took
# hours over a megabyte (14-60 s over 40 kB); the timeout only stops a hang.
@pytest.mark.timeout(30)
@pytest.mark.parametrize(("run", "pair"), _LONG_RUNS.values(), ids=_LONG_RUNS)
def test_megabyte_runs_of_every_class(run: str, pair: str) -> None:
    """A JWT, an embedded image, a hash: text is read in one pass, pairs still found.

    Failed on the old code (the pattern retried its name at every character of a
    run that no ``:``/``=`` followed: hours for a megabyte).
    """
    assert redact_text(run) == run
    assert redact_text(f"token={run}") == pair
    secrets = Secrets(run[1000:1100])
    assert run[1000:1100] not in redact_text(f"x {run} y", secrets)
