"""TLS per endpoint and in the action, against a real HTTPS server on loopback.

The server's certificate is issued by a test CA that nobody trusts by default: a
verified request fails, the CA file makes it work, and turning verification off
(an explicit choice) works too, with a warning.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
import ipaddress
import json
import os
from pathlib import Path
import ssl
import threading
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from homeassistant.config_entries import ConfigSubentryData
from homeassistant.const import STATE_UNAVAILABLE
from homeassistant.core import HomeAssistant
from homeassistant.exceptions import HomeAssistantError
import pytest
from pytest_homeassistant_custom_component.common import MockConfigEntry

from custom_components.oauth2_rest.const import CONF_ALLOWED_ORIGINS

pytestmark = pytest.mark.usefixtures("socket_enabled")


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_certificates(directory: Path) -> tuple[Path, Path, Path]:
    """A test CA and a server certificate for 127.0.0.1 it signed: (ca, cert, key)."""
    now = datetime.now(UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("OAuth2 REST test CA"))
        .issuer_name(_name("OAuth2 REST test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(
            x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]),
            critical=False,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    ca_path = directory / "ca.pem"
    cert_path = directory / "server.pem"
    key_path = directory / "server.key"
    ca_path.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return ca_path, cert_path, key_path


@dataclass
class HttpsApi:
    """The running server: its origin, the CA file, and what it was sent."""

    origin: str
    ca_file: Path
    authorizations: list[str] = field(default_factory=list)


class _WeatherHandler(BaseHTTPRequestHandler):
    """GET /weather: JSON, remembering the Authorization header it was sent."""

    seen: list[str]

    def do_GET(self) -> None:
        self.seen.append(self.headers.get("Authorization", ""))
        body = json.dumps({"temperature": 21}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Keep the test output quiet."""


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        """A refused handshake is what some tests expect: no traceback."""


@pytest.fixture
def https_api(tmp_path: Path) -> Iterator[HttpsApi]:
    """An HTTPS JSON API on 127.0.0.1 with a certificate of the test CA.

    It runs in a thread of its own: a handshake the client refuses must not
    count as an error of Home Assistant's event loop.
    """
    ca_file, cert_file, key_file = make_certificates(tmp_path)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_file, key_file)
    seen: list[str] = []
    handler = type("Handler", (_WeatherHandler,), {"seen": seen})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    api = HttpsApi(
        origin=f"https://127.0.0.1:{server.server_address[1]}", ca_file=ca_file
    )
    api.authorizations = seen
    yield api
    server.shutdown()
    server.server_close()
    thread.join()


def tls_endpoint(api: HttpsApi, **tls: Any) -> ConfigSubentryData:
    """An endpoint on the HTTPS API with the given TLS settings."""
    return ConfigSubentryData(
        data={
            "url": f"{api.origin}/weather",
            **tls,
            "values": [
                {
                    "key": "value",
                    "name": "Secure",
                    "value_template": "{{ value_json.temperature }}",
                }
            ],
        },
        subentry_id="endpoint_secure",
        subentry_type="endpoint",
        title="Secure",
        unique_id=None,
    )


@pytest.fixture
def setup_with(
    hass: HomeAssistant, config_entry: MockConfigEntry
) -> Callable[..., Awaitable[MockConfigEntry]]:
    """Set the account up with one endpoint on the HTTPS API (origin allowed)."""

    async def run(api: HttpsApi, **tls: Any) -> MockConfigEntry:
        entry = MockConfigEntry(
            domain=config_entry.domain,
            title=config_entry.title,
            unique_id=config_entry.unique_id,
            data=config_entry.data,
            options={CONF_ALLOWED_ORIGINS: [api.origin]},
            subentries_data=[tls_endpoint(api, **tls)],
        )
        entry.add_to_hass(hass)
        await hass.config_entries.async_setup(entry.entry_id)
        await hass.async_block_till_done()
        return entry

    return run


def secure_state(hass: HomeAssistant) -> str:
    """The endpoint's sensor state."""
    current = hass.states.get("sensor.secure")
    assert current is not None
    return current.state


async def test_unknown_ca_is_refused(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Verified by default: a certificate of an unknown CA fails, no token sent."""
    await setup_with(https_api)
    assert secure_state(hass) == STATE_UNAVAILABLE
    assert not https_api.authorizations
    assert "TLS certificate could not be verified" in caplog.text


async def test_ca_file_is_trusted(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """With the CA file the certificate verifies; no warning is logged."""
    await setup_with(https_api, ca_file=str(https_api.ca_file))
    assert secure_state(hass) == "21"
    assert https_api.authorizations == ["Bearer stored-access-token"]
    assert "verification is off" not in caplog.text


async def test_verification_off_works_with_a_warning(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Verification off (the user's explicit choice): works, and says so in the log."""
    await setup_with(https_api, verify_ssl=False)
    assert secure_state(hass) == "21"
    assert "TLS certificate verification is off for endpoint Secure" in caplog.text


async def test_unreadable_ca_file_fails_the_update(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A CA file that went missing: the endpoint is unavailable, with the reason."""
    await setup_with(https_api, ca_file=str(tmp_path / "missing.pem"))
    assert secure_state(hass) == STATE_UNAVAILABLE
    assert not https_api.authorizations
    assert "CA certificate file cannot be read" in caplog.text


async def test_action_verify_ssl(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
) -> None:
    """The action verifies by default; verify_ssl: false is honoured."""
    entry = await setup_with(https_api, ca_file=str(https_api.ca_file))
    call = {"config_entry_id": entry.entry_id, "url": f"{https_api.origin}/weather"}
    with pytest.raises(HomeAssistantError) as raised:
        await hass.services.async_call(
            "oauth2_rest", "request", call, blocking=True, return_response=True
        )
    assert raised.value.translation_key == "certificate_error"
    response = await hass.services.async_call(
        "oauth2_rest",
        "request",
        {**call, "verify_ssl": False},
        blocking=True,
        return_response=True,
    )
    assert response is not None
    assert response["content"] == {"temperature": 21}


async def test_ca_file_is_read_off_the_event_loop(
    hass: HomeAssistant, monkeypatch: pytest.MonkeyPatch, https_api: HttpsApi
) -> None:
    """The CA file is loaded in the executor, never in the event loop's thread."""
    import asyncio

    from custom_components.oauth2_rest import tls

    threads: list[bool] = []
    load = tls._load_ca_file

    def spy(ca_file: str) -> ssl.SSLContext:
        try:
            asyncio.get_running_loop()
        except RuntimeError:
            threads.append(False)
        else:
            threads.append(True)
        return load(ca_file)

    monkeypatch.setattr(tls, "_load_ca_file", spy)
    context = await tls.async_ssl_for(hass, True, str(https_api.ca_file))
    assert isinstance(context, ssl.SSLContext)
    assert threads == [False]  # no running loop: an executor thread
    assert await tls.async_ssl_for(hass, True, None) is True
    assert await tls.async_ssl_for(hass, False, str(https_api.ca_file)) is False


# -- CA files that are not files: a pipe, a device, a huge bundle ----------------------


def load_in_thread(ca_file: Path, release: Callable[[], None]) -> BaseException | None:
    """Load ca_file as the executor would; what it raised, failing if it blocks.

    A load still running after a few seconds is an executor thread lost for good:
    the test fails, after ``release`` let the thread go.
    """
    from custom_components.oauth2_rest import tls

    raised: list[BaseException | None] = []

    def load() -> None:
        try:
            tls._load_ca_file(str(ca_file))
        except Exception as err:  # noqa: BLE001 - handed to the test
            raised.append(err)
        else:
            raised.append(None)

    thread = threading.Thread(target=load, daemon=True)
    thread.start()
    thread.join(timeout=5)
    blocked = thread.is_alive()
    if blocked:
        release()
        thread.join(timeout=5)
    assert not blocked, f"loading {ca_file} blocked"
    return raised[0]


def test_fifo_ca_file_is_refused_without_blocking(tmp_path: Path) -> None:
    """A named pipe with no writer is refused at once, no thread left waiting.

    Failed on the old code (the load waited for a writer forever).
    """
    from custom_components.oauth2_rest.tls import CaFileError

    fifo = tmp_path / "ca.pem"
    os.mkfifo(fifo)

    def release() -> None:
        # A writer that comes and goes: the blocked open returns, reads EOF.
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))

    raised = load_in_thread(fifo, release)
    assert isinstance(raised, CaFileError)
    assert raised.translation_key == "ca_file_not_regular"


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_device_ca_file_is_refused(device: str) -> None:
    """A device is not a CA file, however endless: refused unread, as not regular.

    Failed on the old code (read as a file: a seek error, or no certificate).
    """
    from custom_components.oauth2_rest.tls import CaFileError

    raised = load_in_thread(Path(device), lambda: None)
    assert isinstance(raised, CaFileError)
    assert raised.translation_key == "ca_file_not_regular"


def test_directory_ca_file_is_refused(tmp_path: Path) -> None:
    """A folder is not a regular file either."""
    from custom_components.oauth2_rest.tls import CaFileError

    raised = load_in_thread(tmp_path, lambda: None)
    assert isinstance(raised, CaFileError)
    assert raised.translation_key == "ca_file_not_regular"


def test_oversized_ca_bundle_is_refused(tmp_path: Path) -> None:
    """A bundle over MAX_CA_FILE_BYTES of valid certificates is refused, size-capped.

    Failed on the old code (the whole file was read and loaded).
    """
    from custom_components.oauth2_rest.tls import MAX_CA_FILE_BYTES, CaFileError

    ca_file, _, _ = make_certificates(tmp_path)
    certificate = ca_file.read_bytes()
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(certificate * (MAX_CA_FILE_BYTES // len(certificate) + 1))
    assert bundle.stat().st_size > MAX_CA_FILE_BYTES
    raised = load_in_thread(bundle, lambda: None)
    assert isinstance(raised, CaFileError)
    assert raised.translation_key == "ca_file_too_large"
    assert str(certificate[30:60]) not in str(raised)  # never echoed


def test_ca_bundle_with_text_around_certificates_is_loaded(tmp_path: Path) -> None:
    """A bundle up to the cap, non-ASCII comments around the PEM, loads as before."""
    from custom_components.oauth2_rest.tls import MAX_CA_FILE_BYTES

    ca_file, _, _ = make_certificates(tmp_path)
    certificate = ca_file.read_bytes()
    comment = "# Issuer: CN=NetLock Arany (Class Gold) Főtanúsítvány\n".encode()
    entry = comment + certificate
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(entry * (MAX_CA_FILE_BYTES // len(entry)))
    assert load_in_thread(bundle, lambda: None) is None


async def test_fifo_ca_file_fails_the_update_with_the_reason(
    hass: HomeAssistant,
    https_api: HttpsApi,
    setup_credentials: None,
    setup_with: Callable[..., Awaitable[MockConfigEntry]],
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Set up with a pipe as CA file: unavailable at once, the reason translated."""
    fifo = tmp_path / "pipe.pem"
    os.mkfifo(fifo)
    await setup_with(https_api, ca_file=str(fifo))
    assert secure_state(hass) == STATE_UNAVAILABLE
    assert not https_api.authorizations
    assert "the CA certificate file is not a regular file" in caplog.text
