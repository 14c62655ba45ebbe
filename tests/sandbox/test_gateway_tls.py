"""The sandbox's CA and certificates, checked by real TLS handshakes (OpenSSL, through ssl)."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kit.sandbox.gateway.tls import Certificates, issue, make_ca


def _handshake(server: ssl.SSLContext, client: ssl.SSLContext, name: str) -> str:
    """Run one handshake over a socket pair; the server's certificate subject, or the error."""
    left, right = socket.socketpair()
    errors: list[BaseException] = []

    def serve() -> None:
        try:
            with server.wrap_socket(right, server_side=True) as tls:
                tls.recv(1)
        except (ssl.SSLError, OSError) as exc:
            errors.append(exc)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        with client.wrap_socket(left, server_hostname=name) as tls:
            subject = dict(x[0] for x in tls.getpeercert()["subject"])  # type: ignore[index,misc]
            tls.sendall(b"x")
            return str(subject["commonName"])
    except ssl.SSLCertVerificationError as exc:
        return f"refused: {exc.verify_message}"
    finally:
        thread.join(5)
        right.close()


@pytest.fixture
def certs(tmp_path: Path) -> Iterator[tuple[Certificates, ssl.SSLContext]]:
    certificates = Certificates(tmp_path / "home" / "gateway", lambda app: app == "shop")
    server = certificates.server_context()
    yield certificates, server


def _client(certificates: Certificates) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(certificates.ca_path))


def test_each_app_gets_a_certificate_for_its_names(
    certs: tuple[Certificates, ssl.SSLContext],
) -> None:
    certificates, server = certs
    client = _client(certificates)
    assert _handshake(server, client, "www.shop.localhost") == "shop.localhost"
    assert _handshake(server, client, "shop.localhost") == "shop.localhost"
    assert _handshake(server, client, "api.shop.localhost") == "shop.localhost"


def test_an_unknown_app_gets_the_default_certificate_which_does_not_cover_it(
    certs: tuple[Certificates, ssl.SSLContext],
) -> None:
    certificates, server = certs
    client = _client(certificates)
    assert _handshake(server, client, "www.other.localhost").startswith("refused: ")
    assert not (certificates.root / "certs" / "app-other.pem").exists()
    assert _handshake(server, client, "other.localhost").startswith("refused: ")
    assert _handshake(server, client, "localhost") == "localhost"


def test_keys_are_private_and_the_ca_is_kept(certs: tuple[Certificates, ssl.SSLContext]) -> None:
    certificates, server = certs
    _handshake(server, _client(certificates), "www.shop.localhost")
    root = certificates.root
    assert root.stat().st_mode & 0o777 == 0o700
    assert (root / "certs").stat().st_mode & 0o777 == 0o700
    for key in [root / "ca.key", *root.glob("certs/*.key")]:
        assert key.stat().st_mode & 0o777 == 0o600
    ca = certificates.ca_path.read_bytes()
    Certificates(root, lambda app: True).server_context()
    assert certificates.ca_path.read_bytes() == ca  # made once, then reused


def test_the_ca_cannot_vouch_for_a_real_site(tmp_path: Path) -> None:
    ca, ca_key = make_ca("test")
    cert, key = issue(ca, ca_key, ["example.com"])
    (tmp_path / "c.pem").write_bytes(cert)
    (tmp_path / "k.pem").write_bytes(key)
    (tmp_path / "ca.pem").write_bytes(ca)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(tmp_path / "c.pem", tmp_path / "k.pem")
    client = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    answer = _handshake(server, client, "example.com")
    assert answer.startswith("refused: ")
    assert "name constraint" in answer or "permitted" in answer
