"""HTTPS at the gateway: a local CA of the sandbox's own, and certificates it signs.

dotCloud served every app over HTTPS at its regular URL. The sandbox does the
same with a CA made once per ``$DOTKIT_HOME`` (``gateway/ca.pem``): trust it
and ``https://<service>.<app>.localhost:<port>/`` verifies. The CA carries a
name constraint, so it can only vouch for ``localhost`` and names under it,
never for a real site, even once a user has trusted it. Each app gets its own
certificate (``<app>.localhost`` and ``*.<app>.localhost``), chosen by the name
the client asks for (SNI). Keys are 0600 files in 0700 folders.
"""

from __future__ import annotations

import datetime
import shutil
import ssl
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kit.private import private_dir, write_private
from kit.sandbox.gateway.names import DOMAIN

CA_DAYS = 3650
LEAF_DAYS = 397  # browsers refuse server certificates valid for longer
RENEW_DAYS = 30


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_ca(label: str) -> tuple[bytes, bytes]:
    """A new CA certificate and key (PEM), constrained to ``localhost`` names."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"dotkit sandbox CA ({label})")])
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=CA_DAYS))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
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
            x509.NameConstraints(permitted_subtrees=[x509.DNSName(DOMAIN)], excluded_subtrees=None),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def issue(ca_pem: bytes, ca_key_pem: bytes, names: list[str]) -> tuple[bytes, bytes]:
    """A server certificate and key (PEM) for ``names``, signed by the CA."""
    ca = x509.load_pem_x509_certificate(ca_pem)
    ca_key = serialization.load_pem_private_key(ca_key_pem, password=None)
    if not isinstance(ca_key, ec.EllipticCurvePrivateKey):
        raise ValueError("the sandbox CA's key is not an EC key")
    key = ec.generate_private_key(ec.SECP256R1())
    now = _now()
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
        .issuer_name(ca.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=LEAF_DAYS))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(n) for n in names]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .sign(ca_key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM), _key_pem(key)


def _fresh(cert_path: Path) -> bool:
    try:
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    except (OSError, ValueError):
        return False
    return cert.not_valid_after_utc - _now() > datetime.timedelta(days=RENEW_DAYS)


def app_of(server_name: str) -> str | None:
    """The app a TLS server name belongs to: ``gear1.shop.localhost`` -> ``shop``."""
    labels = server_name.lower().rstrip(".").split(".")
    if len(labels) < 2 or labels[-1] != DOMAIN or not labels[-2]:
        return None
    return labels[-2]


class Certificates:
    """The CA under ``root`` (made on first use) and a TLS context per app."""

    def __init__(self, root: Path, known: Callable[[str], bool]) -> None:
        self.root = root
        self.known = known  # only apps with a route get a certificate
        self.contexts: dict[str, ssl.SSLContext] = {}

    @property
    def ca_path(self) -> Path:
        return self.root / "ca.pem"

    def _ensure_ca(self) -> tuple[bytes, bytes]:
        private_dir(self.root)
        key_path = self.root / "ca.key"
        if not (self.ca_path.is_file() and key_path.is_file()):
            cert, key = make_ca(self.root.parent.name or "sandbox")
            shutil.rmtree(self.root / "certs", ignore_errors=True)  # signed by the old CA
            write_private(key_path, key)
            write_private(self.ca_path, cert)
        return self.ca_path.read_bytes(), key_path.read_bytes()

    def _context(self, label: str, names: list[str]) -> ssl.SSLContext:
        ca, ca_key = self._ensure_ca()
        certs = private_dir(self.root / "certs")
        cert_path, key_path = certs / f"{label}.pem", certs / f"{label}.key"
        if not (_fresh(cert_path) and key_path.is_file()):
            cert, key = issue(ca, ca_key, names)
            write_private(key_path, key)
            write_private(cert_path, cert)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(cert_path, key_path)
        return context

    def server_context(self) -> ssl.SSLContext:
        """The listener's context: ``localhost`` itself, and each app's by SNI.

        (A ``*.localhost`` wildcard would be of no use: clients refuse a wildcard
        with a single label after it.)
        """
        context = self._context("localhost", [DOMAIN])
        context.sni_callback = self._choose
        return context

    def _choose(
        self, sock: ssl.SSLObject | ssl.SSLSocket, server_name: str | None, _: ssl.SSLContext
    ) -> None:
        app = app_of(server_name) if server_name else None
        if app is None or not self.known(app):
            return None  # the default certificate; the request will get a 404
        if app not in self.contexts:
            self.contexts[app] = self._context(
                f"app-{app}", [f"{app}.{DOMAIN}", f"*.{app}.{DOMAIN}"]
            )
        sock.context = self.contexts[app]
        return None
