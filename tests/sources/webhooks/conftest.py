"""Fixtures for the webhook tests: keys made once per session, a fake SNS."""

from __future__ import annotations

import base64
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from webhook_signing import CERT_URL, SendGridKeys, Sns, certificate


@pytest.fixture(scope="session")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def sns(rsa_key: rsa.RSAPrivateKey) -> Sns:
    return Sns(rsa_key, {CERT_URL: certificate(rsa_key)})


@pytest.fixture
def make_cert() -> Callable[..., bytes]:
    return certificate


@pytest.fixture(scope="session")
def sendgrid_keys() -> SendGridKeys:
    private = ec.generate_private_key(ec.SECP256R1())
    der = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return SendGridKeys(private, base64.b64encode(der).decode())
