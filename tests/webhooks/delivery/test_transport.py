"""The webhook transport against a real receiver: timeouts, no redirects, at
most 1 KiB of an answer kept; and which destinations it calls (vault mode
refuses loopback, private, link-local... addresses unless allowed, resolves
once and connects to the address it checked)."""

from __future__ import annotations

import contextlib
import socket
import ssl
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from hypothesis import given, settings
from hypothesis import strategies as st

from opentms.adapters.webhooks.transport import HttpxTransport
from opentms.domain.ports import DestinationRefused
from tests.webhooks.delivery.receiver import Answer, Receiver, receiver


@pytest.fixture
def sandbox() -> Iterator[HttpxTransport]:
    transport = HttpxTransport(1.0, 0.5)
    yield transport
    transport.close()


def vault(allowed: str = "") -> HttpxTransport:
    return HttpxTransport(1.0, 0.5, vault=True, allowed=allowed)


def test_the_read_timeout_is_honoured(sandbox: HttpxTransport, hook: Receiver) -> None:
    hook.post = Answer(hang=10)
    started = time.monotonic()
    result = sandbox.post(hook.url, {}, b"{}")
    assert time.monotonic() - started < 3
    assert result.status_code is None
    assert result.error is not None
    assert result.error.startswith("ReadTimeout")
    assert len(hook.received()) == 1


def test_a_redirect_is_not_followed(sandbox: HttpxTransport, hook: Receiver) -> None:
    hook.post = Answer(status=302, headers={"Location": hook.health_url})
    result = sandbox.post(hook.url, {}, b"{}")
    assert result.status_code == 302
    assert not result.succeeded
    assert [r.method for r in hook.requests] == ["POST"]


def test_at_most_1_kib_of_an_answer_is_kept(sandbox: HttpxTransport, hook: Receiver) -> None:
    answer = bytes(range(256)) * 40
    hook.post = Answer(body=answer)
    result = sandbox.post(hook.url, {}, b"{}")
    assert result.status_code == 200
    assert result.response == answer[:1024]


def test_a_sandbox_calls_loopback(sandbox: HttpxTransport, hook: Receiver) -> None:
    sandbox.check_destination(hook.url)
    assert sandbox.post(hook.url, {}, b"{}").status_code == 200


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("http://127.0.0.1/hook", id="loopback"),
        pytest.param("http://127.1.2.3:8080/hook", id="loopback-network"),
        pytest.param("http://10.1.2.3/hook", id="private-10"),
        pytest.param("https://172.16.0.1/hook", id="private-172"),
        pytest.param("http://192.168.1.1/hook", id="private-192"),
        pytest.param("http://169.254.169.254/latest/meta-data", id="link-local-metadata"),
        pytest.param("http://[::1]/hook", id="ipv6-loopback"),
        pytest.param("http://[::ffff:127.0.0.1]/hook", id="ipv4-mapped-loopback"),
        pytest.param("http://[fe80::1]/hook", id="ipv6-link-local"),
        pytest.param("http://[fd00::1]/hook", id="ipv6-unique-local"),
        pytest.param("http://0.0.0.0/hook", id="unspecified"),
        pytest.param("http://224.0.0.1/hook", id="multicast"),
        pytest.param("http://240.0.0.1/hook", id="reserved"),
        pytest.param("http://100.64.0.1/hook", id="shared-address-space"),
        pytest.param("http://localhost/hook", id="name-resolving-to-loopback"),
        pytest.param("http://2130706433/hook", id="decimal-loopback"),
    ],
)
def test_a_vault_refuses_non_public_destinations(url: str) -> None:
    transport = vault()
    try:
        with pytest.raises(DestinationRefused, match="OPENTMS_WEBHOOK_ALLOWED_DESTINATIONS"):
            transport.check_destination(url)
        result = transport.post(url, {}, b"{}")
        assert result.status_code is None
        assert result.error is not None
        assert result.error.startswith("DestinationRefused")
    finally:
        transport.close()


@pytest.mark.parametrize(
    "url",
    [
        pytest.param("ftp://example.com/hook", id="ftp"),
        pytest.param("file:///etc/passwd", id="file"),
        pytest.param("gopher://example.com/", id="gopher"),
        pytest.param("http://user:secret@example.com/hook", id="userinfo"),
        pytest.param("https://user@example.com/hook", id="user"),
        pytest.param("http:///hook", id="no-host"),
        pytest.param("example.com/hook", id="no-scheme"),
        pytest.param("http://[::1/hook", id="broken-ipv6"),
        pytest.param("http://example.com:99999/hook", id="bad-port"),
        pytest.param("", id="empty"),
    ],
)
@pytest.mark.parametrize("mode", ["sandbox", "vault"])
def test_only_http_urls_with_a_host_and_no_userinfo(url: str, mode: str) -> None:
    transport = HttpxTransport(1.0, 0.5, vault=mode == "vault")
    try:
        with pytest.raises(DestinationRefused):
            transport.check_destination(url)
    finally:
        transport.close()


def test_a_vault_calls_public_addresses() -> None:
    transport = vault()
    try:
        transport.check_destination("https://93.184.215.14/hook")
        transport.check_destination("http://[2606:4700:4700::1111]:8443/hook")
    finally:
        transport.close()


@pytest.mark.parametrize(
    ("allowed", "url"),
    [
        pytest.param("127.0.0.1", "http://127.0.0.1:{port}/hook", id="address"),
        pytest.param("10.0.0.0/8, 127.0.0.0/8", "http://127.0.0.1:{port}/hook", id="network"),
        pytest.param("localhost", "http://localhost:{port}/hook", id="host-name"),
        pytest.param("LOCALHOST.", "http://localhost:{port}/hook", id="host-name-case"),
    ],
)
def test_a_vault_calls_listed_destinations(allowed: str, url: str, hook: Receiver) -> None:
    transport = vault(allowed)
    try:
        url = url.format(port=hook.port)
        transport.check_destination(url)
        result = transport.post(url, {"V-C-Event-Type": "x"}, b"{}")
        assert result.status_code == 200, result.error
        (got,) = hook.received()
        assert got.headers["host"] == url.split("/")[2]
        assert got.headers["v-c-event-type"] == "x"
    finally:
        transport.close()


def test_a_listed_address_does_not_allow_another(hook: Receiver) -> None:
    transport = vault("10.0.0.0/8,example.test")
    try:
        with pytest.raises(DestinationRefused):
            transport.check_destination(f"http://127.0.0.1:{hook.port}/hook")
        with pytest.raises(DestinationRefused):
            transport.check_destination(f"http://localhost:{hook.port}/hook")
    finally:
        transport.close()


def test_a_vault_connects_to_the_address_it_checked(
    monkeypatch: pytest.MonkeyPatch, hook: Receiver
) -> None:
    """DNS rebinding: the name is resolved once, by the check; the request
    goes to that address (httpx never resolves the name again), with the
    name in Host."""
    answers = iter(["127.0.0.1", "10.9.9.9", "10.9.9.9"])
    real = socket.getaddrinfo

    def rebinding(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host == "rebind.example":
            address = next(answers)
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (address, port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding)
    transport = vault("127.0.0.1")
    try:
        result = transport.post(f"http://rebind.example:{hook.port}/hook", {}, b"{}")
        assert result.status_code == 200, result.error
        (got,) = hook.received()
        assert got.headers["host"] == f"rebind.example:{hook.port}"
        # Resolved again, the name now points at a refused address.
        with pytest.raises(DestinationRefused, match=r"10\.9\.9\.9"):
            transport.check_destination(f"http://rebind.example:{hook.port}/hook")
    finally:
        transport.close()


def test_a_name_with_any_refused_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    def two(host: str, port: Any, *_: Any, **__: Any) -> Any:
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", port)),
            (socket.AF_INET6, socket.SOCK_STREAM, 6, "", ("::1", port, 0, 0)),
        ]

    monkeypatch.setattr(socket, "getaddrinfo", two)
    transport = vault()
    try:
        with pytest.raises(DestinationRefused, match="loopback"):
            transport.check_destination("https://mixed.example/hook")
    finally:
        transport.close()


def _no_dns(host: str, *_: Any, **__: Any) -> Any:
    raise socket.gaierror(socket.EAI_NONAME, f"{host}: not resolved in this test")


_URLISH = st.builds(
    lambda scheme, sep, userinfo, host, port, path: f"{scheme}{sep}{userinfo}{host}{port}{path}",
    st.sampled_from(["http", "https", "HTTP", "ftp", "", "javascript", "h\ttp"]),
    st.sampled_from(["://", ":", ":/", "//", ":///", ""]),
    st.sampled_from(["", "u@", "u:p@", "@", ":@"]),
    st.one_of(
        st.sampled_from(
            ["127.0.0.1", "[::1]", "[::1", "::1", "localhost", "10.0.0.1", "exa mple", "[]", ""]
        ),
        st.text(max_size=30),
        st.ip_addresses().map(lambda a: f"[{a}]" if a.version == 6 else str(a)),
    ),
    st.one_of(st.just(""), st.integers(-5, 70000).map(lambda p: f":{p}"), st.text(max_size=5)),
    st.text(max_size=20),
)


@settings(max_examples=400, deadline=None)
@given(url=st.one_of(_URLISH, st.text(max_size=80)))
def test_url_checks_never_raise_anything_but_destination_refused(url: str) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(socket, "getaddrinfo", _no_dns)
        for transport in (_VAULT, _SANDBOX):
            with contextlib.suppress(DestinationRefused):
                transport.check_destination(url)


_VAULT = HttpxTransport(1.0, 0.5, vault=True, allowed="10.0.0.0/8")
_SANDBOX = HttpxTransport(1.0, 0.5)


def _tls(directory: Path, name: str) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a certificate for ``name`` from a new CA, and a
    client context that trusts that CA."""
    now = datetime.now(UTC)

    def certificate(
        subject: str, key: ec.EllipticCurvePrivateKey, signer: ec.EllipticCurvePrivateKey, ca: bool
    ) -> x509.Certificate:
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "webhook test CA")]))
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        )
        if ca:
            builder = builder.add_extension(
                x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                critical=True,
            )
        else:
            builder = builder.add_extension(
                x509.SubjectAlternativeName([x509.DNSName(subject)]), critical=False
            )
        return builder.sign(signer, hashes.SHA256())

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = certificate("webhook test CA", ca_key, ca_key, ca=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(
        certificate(name, key, ca_key, ca=False).public_bytes(serialization.Encoding.PEM)
    )
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cadata=ca.public_bytes(serialization.Encoding.PEM).decode())
    return server, client


def test_a_vault_over_tls_verifies_the_host_name_at_the_checked_address(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """HTTPS to a pinned address: SNI and the certificate check use the URL's
    host name, so a certificate for another name is refused."""
    server_tls, client_tls = _tls(tmp_path, "hooks.example")
    real = socket.getaddrinfo

    def local(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        if host.endswith(".example"):
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", local)
    transport = HttpxTransport(1.0, 2.0, vault=True, allowed="127.0.0.1", verify=client_tls)
    try:
        with receiver(server_tls) as hook:
            result = transport.post(f"https://hooks.example:{hook.port}/hook", {}, b"{}")
            assert result.status_code == 200, result.error
            (got,) = hook.received()
            assert got.headers["host"] == f"hooks.example:{hook.port}"
            wrong = transport.post(f"https://other.example:{hook.port}/hook", {}, b"{}")
            assert wrong.status_code is None
            assert wrong.error is not None
            assert "CERTIFICATE_VERIFY_FAILED" in wrong.error
            assert len(hook.received()) == 1
    finally:
        transport.close()
