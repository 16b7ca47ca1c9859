"""The client's rules for what a request may carry and how an answer is read.

Owned headers (one rule for the flow, the action and every request), numbers in
headers (ASCII digits only: ``str.isdigit()``, ``int()`` and ``float()`` take far
more), Retry-After per RFC 9110, which codecs may decode a body, and how long a
rate-limited account's endpoints wait.
"""

from __future__ import annotations

import codecs
from datetime import timedelta

import pytest

from custom_components.oauth2_rest.client.errors import (
    InvalidHeaderError,
    OwnedHeaderError,
    UndecodableBodyError,
)
from custom_components.oauth2_rest.client.headers import check_headers, is_owned_header
from custom_components.oauth2_rest.client.response import (
    HUGE,
    ApiResponse,
    RateLimit,
    header_count,
    rate_limit_remaining,
    rate_limit_reset,
    retry_after_seconds,
    text_encoding,
)
from custom_components.oauth2_rest.rate_limit import RateBudget, polls_per_second

NOW = 784111777.0  # Sun, 06 Nov 1994 08:49:37 GMT
# What str.isdigit() (and int() or float() for some) take but RFC 9110 does not.
NOT_ASCII_DIGITS = ["²", "①", "٣", "३", "１２", "1_0", "+1", "-1", "1e3", "inf", "nan"]


@pytest.mark.parametrize(
    "name",
    [
        "Host",
        "host",
        "HOST",
        "Authorization",
        "authorization",
        "Proxy-Authorization",
        "proxy-connection",
        "Proxy-Anything",
        "Content-Length",
        "Transfer-Encoding",
        "TE",
        "Trailer",
        "Expect",
        "Connection",
        "Keep-Alive",
        "Upgrade",
        "Forwarded",
        "X-Forwarded-Host",
        "x-forwarded-server",
        "X-Host",
        "X-HTTP-Host-Override",
    ],
)
def test_owned_headers_refused(name: str) -> None:
    """Whatever its case, an owned header is refused, named in the error.

    Failed on the old code: only ``Authorization`` was refused, by the flow alone.
    """
    assert is_owned_header(name)
    with pytest.raises(OwnedHeaderError) as err:
        check_headers({"Accept": "application/json", name: "other.example"})
    assert err.value.translation_key == "owned_header"
    assert err.value.translation_placeholders == {"header": name}
    assert "other.example" not in str(err.value)


@pytest.mark.parametrize(
    "name",
    [
        "Cookie",
        "X-Api-Key",
        "Accept",
        "Content-Type",
        "If-None-Match",
        "X-Forwarded-For",
    ],
)
def test_headers_not_owned(name: str) -> None:
    """Headers that change neither where nor how the request goes are the user's."""
    assert not is_owned_header(name)
    check_headers({name: "x"})


def test_header_syntax_checked_before_ownership() -> None:
    """A name that is not a token is invalid (not named); CR/LF in a value too."""
    with pytest.raises(InvalidHeaderError) as err:
        check_headers({"Host\r\nX": "x"})
    assert type(err.value) is InvalidHeaderError
    with pytest.raises(InvalidHeaderError):
        check_headers({"X-A": "a\r\nHost: other.example"})


@pytest.mark.parametrize("text", NOT_ASCII_DIGITS)
def test_header_numbers_are_ascii_digits(text: str) -> None:
    """Retry-After and rate-limit numbers are ``1*DIGIT``: nothing else is read.

    Failed on the old code: "²" and "①" crashed float() after isdigit(), "٣" was 3,
    "-1" requests left and "1e3" a reset.
    """
    assert header_count(text) is None
    assert retry_after_seconds(text, now=NOW) is None
    assert rate_limit_remaining({"X-RateLimit-Remaining": text}) is None
    assert rate_limit_remaining({"RateLimit": f'"default";r={text};t=10'}) is None
    assert rate_limit_reset({"X-RateLimit-Reset": text}, NOW) is None
    assert rate_limit_reset({"RateLimit": f'"default";r=1;t={text}'}, NOW) is None


def test_huge_header_numbers_are_clamped() -> None:
    """5000 digits: clamped, not int()'s ValueError (failed on the old code)."""
    digits = "9" * 5000
    assert header_count(digits) == HUGE
    assert header_count("0" * 5000 + "7") == 7
    assert retry_after_seconds(digits) == HUGE
    assert rate_limit_remaining({"RateLimit": f"r={digits};t=10"}) == HUGE
    assert rate_limit_remaining({"RateLimit-Remaining": digits}) == HUGE
    assert rate_limit_reset({"X-RateLimit-Reset": digits}, NOW) is None
    epoch = 1.7e9  # a Unix time with milliseconds (Discord's)
    assert rate_limit_reset({"X-RateLimit-Reset": f"{epoch + 30.5:.3f}"}, epoch) == 30.5
    assert rate_limit_reset({"RateLimit-Reset": " 30 , 60"}, NOW) == 30


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("120", 120),
        (" 7 ", 7),
        ("0", 0),
        ("Sun, 06 Nov 1994 08:50:37 GMT", 60),  # IMF-fixdate
        ("Sunday, 06-Nov-94 08:50:37 GMT", 60),  # RFC 850
        ("Sun Nov  6 08:50:37 1994", 60),  # asctime: no zone, GMT
        ("Sun, 06 Nov 1994 08:40:37 GMT", 0),  # in the past
        ("Sun, 06 Nov 1994 08:50:37 GMT\u00a0", None),
        ("Sun, ０６ Nov 1994 08:50:37 GMT", None),
        ("Sun, 06 Nov 99999 08:50:37 GMT", None),
        ("", None),
        ("soon", None),
        (None, None),
    ],
)
def test_retry_after(value: str | None, seconds: float | None) -> None:
    """Delay-seconds or an HTTP date (GMT, whatever the local zone is)."""
    assert retry_after_seconds(value, now=NOW) == seconds


@pytest.mark.parametrize(
    "name",
    [
        "base64",
        "rot13",
        "zlib",
        "bz2",
        "hex",
        "uu",
        "quopri",
        "undefined",
        "idna",
        "unicode_escape",
        "raw-unicode-escape",
        "klingon-8",
        "utf\x00",
        "",
    ],
)
def test_not_a_text_encoding(name: str) -> None:
    """Bytes-to-bytes, text-to-text, always-failing and literal codecs are refused."""
    assert text_encoding(name) is None
    response = ApiResponse(200, {}, "grüße".encode(), "https://x", charset=name)
    # As the API's charset: ignored (UTF-8 then). As the endpoint's: a typed error.
    assert response.decode() == "grüße"
    with pytest.raises(UndecodableBodyError) as err:
        response.decode(name or "x")
    assert err.value.translation_key == "undecodable_body"
    assert err.value.translation_placeholders == {"encoding": name or "x"}


@pytest.mark.parametrize(
    ("name", "codec"),
    [("UTF-8", "utf-8"), ("latin-1", "iso8859-1"), ("cp1252", "cp1252")],
)
def test_text_encodings(name: str, codec: str) -> None:
    """Character sets decode, undecodable bytes replaced."""
    assert text_encoding(name) == codec
    assert ApiResponse(200, {}, b"\xe9", "https://x").decode(name) in ("é", "\ufffd")


def test_nothing_left_waits_for_the_reset_once() -> None:
    """Fifty endpoints with nothing left wait until the reset, not 50 times that.

    Then the configured intervals; a longer one is never shortened.
    """
    minute = timedelta(seconds=60)
    rate = polls_per_second([minute] * 50)
    empty = RateBudget(remaining=0, resets_at=600.0)
    assert empty.interval(minute, rate, now=0) == timedelta(seconds=600)
    assert empty.interval(timedelta(hours=1), rate, now=0) == timedelta(hours=1)
    assert empty.interval(minute, rate, now=600) == minute
    # A whole day to the reset: one day, not fifty.
    day = RateBudget(remaining=0, resets_at=86400.0)
    assert day.interval(minute, rate, now=0) == timedelta(days=1)


def _picky_codec(name: str) -> codecs.CodecInfo | None:
    """A text codec (as a library may register one) that fails on "!"."""
    if name != "picky_test":
        return None

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        if b"!" in bytes(data):
            raise UnicodeError("picky")
        return bytes(data).decode("latin-1"), len(data)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return text.encode("latin-1"), len(text)

    return codecs.CodecInfo(encode, decode, name="picky_test")


def test_codec_that_fails_anyway_is_a_typed_error() -> None:
    """A text codec that cannot read this body: the typed error, not UnicodeError."""
    codecs.register(_picky_codec)
    try:
        assert text_encoding("picky_test") == "picky_test"
        response = ApiResponse(200, {}, b"hi!", "https://x", charset="picky_test")
        assert response.decode() == "hi!"  # the charset fails: UTF-8
        assert ApiResponse(200, {}, b"hi", "https://x").decode("picky_test") == "hi"
        with pytest.raises(UndecodableBodyError):
            response.decode("picky_test")
    finally:
        codecs.unregister(_picky_codec)
        text_encoding.cache_clear()


def test_rate_limit_of_an_answer_the_token_never_reached() -> None:
    """A redirect target on another origin speaks for itself, not for the account."""
    headers = {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": "60"}
    ours = ApiResponse(200, headers, b"", "https://x")
    theirs = ApiResponse(200, headers, b"", "https://y", token_sent=False)
    assert ours.rate_limit == RateLimit(0, 60)
    assert theirs.rate_limit == RateLimit()
    assert theirs.rate_limit_remaining is None
