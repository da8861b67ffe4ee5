"""Self-signed certificates for the TLS tests (Dovecot, the SMTP receiver, SNS signing)."""

from __future__ import annotations

import datetime as dt
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID


def certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    *,
    common_name: str = "localhost",
    days: int = 30,
    server: bool = False,
) -> bytes:
    """A PEM certificate for ``key``, valid from a day ago for ``days`` days.

    ``server`` adds what a TLS client checks: a localhost / 127.0.0.1 SAN, and CA
    basic constraints so the certificate can be its own trust anchor (cafile=).
    """
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    now = dt.datetime.now(dt.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=days))
    )
    if server:
        localhost = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(
            x509.SubjectAlternativeName(localhost), critical=False
        ).add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    return builder.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)


def self_signed(directory: Path) -> tuple[Path, Path]:
    """A server certificate and its key for localhost, written as cert.pem / key.pem."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate(key, days=2, server=True))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path
