"""Signing helpers the webhook tests use: SNS-style signing with a certificate
the tests make, a SendGrid-style ECDSA key pair. Nothing touches the network."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

from certs import certificate as pem_certificate
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa

from bounceback.sources.webhooks.sns import string_to_sign

CERT_URL = "https://sns.us-west-2.amazonaws.com/SimpleNotificationService-7506a1e35b36ef5a444dd1a8e7cc3ed8.pem"
TOPIC = "arn:aws:sns:us-west-2:123456789012:ses-bounces"


def sns_time(offset: dt.timedelta = dt.timedelta()) -> str:
    """An SNS Timestamp (ISO 8601, milliseconds, Z): now, or ``offset`` from now."""
    when = dt.datetime.now(dt.UTC) + offset
    return when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"


def certificate(key: rsa.RSAPrivateKey, *, days: int = 30) -> bytes:
    return pem_certificate(key, common_name="sns.amazonaws.com", days=days)


@dataclass
class Sns:
    """Signs SNS messages as SNS does; serves the certificate through a fake fetcher."""

    key: rsa.RSAPrivateKey
    certs: dict[str, bytes]
    fetched: list[str] = field(default_factory=list)

    def fetch(self, url: str) -> bytes:
        self.fetched.append(url)
        return self.certs[url]

    def sign(self, message: dict[str, Any], version: str = "1") -> dict[str, Any]:
        message = {**message, "SignatureVersion": version, "SigningCertURL": CERT_URL}
        algorithm = hashes.SHA1() if version == "1" else hashes.SHA256()
        raw = self.key.sign(string_to_sign(message), padding.PKCS1v15(), algorithm)
        message["Signature"] = base64.b64encode(raw).decode()
        return message

    def notification(
        self, ses_event: dict[str, Any], version: str = "1", **extra: Any
    ) -> dict[str, Any]:
        return self.sign(
            {
                "Type": "Notification",
                "MessageId": "5d3a3a2e-8f64-5b38-9a3f-0a4f0f6e1c11",
                "TopicArn": TOPIC,
                "Message": json.dumps(ses_event),
                "Timestamp": sns_time(),
                "UnsubscribeURL": "https://sns.us-west-2.amazonaws.com/?Action=Unsubscribe"
                f"&SubscriptionArn={TOPIC}:0b6941b4",
                **extra,
            },
            version,
        )


@dataclass
class SendGridKeys:
    private: ec.EllipticCurvePrivateKey
    public_b64: str  # as SendGrid's settings page shows it: base64 DER

    def sign(self, timestamp: str, body: bytes) -> str:
        raw = self.private.sign(timestamp.encode() + body, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(raw).decode()
