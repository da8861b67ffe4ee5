"""Amazon SNS HTTP(S) delivery: signature verification and subscription confirmation.

SNS signs a canonical string built from the message's fields (name, newline,
value, newline, in a fixed order, ``Subject`` only when present) with the key of
the certificate at ``SigningCertURL``: RSA PKCS#1 v1.5 with SHA1 for
``SignatureVersion`` 1 and SHA256 for 2. The certificate is only fetched from an
https URL on an ``sns.<region>.amazonaws.com`` host, through an injectable
fetcher, and cached by URL.

Everything that costs nothing is checked before the certificate is fetched: the
message type, the topic (when an allow-list is configured), the timestamp (a
signed message is good for ``max_age`` seconds: an old one captured anywhere cannot
be replayed for ever) and the shape of the certificate URL. A URL whose fetch
failed is not tried again for ``FAILED_FETCH_TTL`` seconds, so forged requests
cannot make every request a fetch.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from bounceback.sources.webhooks import (
    BadRequest,
    Forbidden,
    Unauthorized,
    Unavailable,
    WebhookError,
    load_json,
    text,
)

Fetcher = Callable[[str], bytes]

_HOST_RE = re.compile(r"^sns\.[a-z0-9\-]+\.amazonaws\.com(?:\.cn)?$")
# SNS publishes its certificates as /SimpleNotificationService-<hex>.pem.
_CERT_PATH_RE = re.compile(r"^/SimpleNotificationService-[0-9a-f]+\.pem$")
_TYPES = ("Notification", "SubscriptionConfirmation", "UnsubscribeConfirmation")
# SNS retries a delivery for at most an hour (its delivery policies' ceiling), with
# the original Timestamp; a little skew forward is a clock, more is a forgery.
DEFAULT_MAX_AGE = 3600.0
MAX_FUTURE = 300.0
FAILED_FETCH_TTL = 300.0
MAX_FAILED_URLS = 1000
_NOTIFICATION_FIELDS = ("Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type")
_SUBSCRIPTION_FIELDS = (
    "Message",
    "MessageId",
    "SubscribeURL",
    "Timestamp",
    "Token",
    "TopicArn",
    "Type",
)
_SUBSCRIPTION_TYPES = ("SubscriptionConfirmation", "UnsubscribeConfirmation")


def is_sns_url(url: str) -> bool:
    """True for https URLs on an SNS regional host (no user info, default port)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = parts.hostname or ""
    return (
        parts.scheme == "https"
        and port in (None, 443)
        and not parts.username
        and "@" not in parts.netloc
        and bool(_HOST_RE.match(host))
    )


def string_to_sign(message: Mapping[str, Any]) -> bytes:
    """The canonical text SNS signs for this message type."""
    kind = text(message.get("Type"))
    names = _SUBSCRIPTION_FIELDS if kind in _SUBSCRIPTION_TYPES else _NOTIFICATION_FIELDS
    out: list[str] = []
    for name in names:
        if name not in message or message[name] is None:
            if name == "Subject":
                continue
            raise Unauthorized(f"SNS message without {name}")
        out.append(f"{name}\n{text(message[name])}\n")
    return "".join(out).encode("utf-8")


def default_fetcher(url: str) -> bytes:  # pragma: no cover - touches the network
    with urllib.request.urlopen(url, timeout=10) as response:
        data: bytes = response.read(1 << 16)
        return data


class SnsVerifier:
    """Checks SNS signatures; certificates fetched once per URL and kept, failed
    fetches remembered for a while."""

    def __init__(
        self,
        fetcher: Fetcher = default_fetcher,
        *,
        topic_arns: frozenset[str] | None = None,
        max_age: float = DEFAULT_MAX_AGE,
        clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
    ) -> None:
        self.fetcher = fetcher
        self.topic_arns = topic_arns
        self.max_age = max_age
        self.clock = clock
        self._certs: dict[str, x509.Certificate] = {}
        self._failed: dict[str, tuple[dt.datetime, WebhookError]] = {}  # url: (when, error)
        self._lock = threading.Lock()

    def verify(self, message: Mapping[str, Any]) -> None:
        """Raise Unauthorized (unsigned) or Forbidden (wrong) unless SNS signed it."""
        signature_b64 = text(message.get("Signature"))
        url = text(message.get("SigningCertURL") or message.get("SigningCertUrl"))
        version = text(message.get("SignatureVersion"))
        if not signature_b64 or not url:
            raise Unauthorized("SNS message is not signed")
        if text(message.get("Type")) not in _TYPES:
            raise Forbidden(f"unknown SNS message type {text(message.get('Type'))!r}")
        if self.topic_arns is not None and text(message.get("TopicArn")) not in self.topic_arns:
            raise Forbidden("SNS topic not allowed")
        self._check_time(text(message.get("Timestamp")))
        algorithm: hashes.HashAlgorithm
        if version == "1":
            algorithm = hashes.SHA1()
        elif version == "2":
            algorithm = hashes.SHA256()
        else:
            raise Forbidden(f"unknown SNS SignatureVersion {version!r}")
        if not is_sns_url(url) or not _CERT_PATH_RE.match(urlsplit(url).path):
            raise Forbidden("SigningCertURL is not an Amazon SNS certificate URL")
        try:
            signature = base64.b64decode(signature_b64, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise Forbidden("SNS signature is not base64") from exc
        key = self._certificate(url).public_key()
        if not isinstance(key, rsa.RSAPublicKey):
            raise Forbidden("SNS signing certificate has no RSA key")
        try:
            key.verify(signature, string_to_sign(message), padding.PKCS1v15(), algorithm)
        except InvalidSignature as exc:
            raise Forbidden("SNS signature does not verify") from exc

    def _check_time(self, stamp: str) -> None:
        try:
            when = dt.datetime.fromisoformat(stamp.replace("Z", "+00:00"))
        except ValueError as exc:
            raise Forbidden("SNS message without a valid Timestamp") from exc
        if when.tzinfo is None:
            when = when.replace(tzinfo=dt.UTC)
        age = (self.clock() - when).total_seconds()
        if age > self.max_age:
            raise Forbidden("SNS message too old (Timestamp outside the accepted window)")
        if age < -MAX_FUTURE:
            raise Forbidden("SNS message Timestamp is in the future")

    def _certificate(self, url: str) -> x509.Certificate:
        now = self.clock()
        with self._lock:
            cert = self._certs.get(url)
            failed = self._failed.get(url)
        if cert is None:
            if failed is not None and (now - failed[0]).total_seconds() < FAILED_FETCH_TTL:
                raise failed[1]
            try:
                cert = x509.load_pem_x509_certificate(self.fetcher(url))
            except Exception as exc:  # a fetch or decoding failure: refuse, say why
                error = _fetch_error(exc)
                self._remember_failure(url, now, error)
                raise error from exc
            with self._lock:
                self._certs[url] = cert
                self._failed.pop(url, None)
        if not (cert.not_valid_before_utc <= now <= cert.not_valid_after_utc):
            raise Forbidden("SNS signing certificate is not valid now")
        return cert

    def _remember_failure(self, url: str, now: dt.datetime, error: WebhookError) -> None:
        with self._lock:
            self._failed.pop(url, None)
            self._failed[url] = (now, error)
            while len(self._failed) > MAX_FAILED_URLS:  # the oldest go first
                del self._failed[next(iter(self._failed))]


def _fetch_error(exc: Exception) -> WebhookError:
    """Amazon saying no (4xx) or a body that is no certificate: refused (403). The
    network failing: 503, so SNS tries the delivery again later."""
    why = f"cannot load SNS signing certificate: {str(exc)[:200]}"
    if (isinstance(exc, urllib.error.HTTPError) and exc.code < 500) or isinstance(exc, ValueError):
        return Forbidden(why)
    return Unavailable(why)


def parse_envelope(body: bytes) -> dict[str, Any]:
    """The SNS JSON envelope of a request body."""
    data = load_json(body)
    if not isinstance(data, dict) or "Type" not in data:
        raise BadRequest("not an SNS message")
    return data


# Confirming a subscription is a GET of the URL SNS sent (checked by the caller first).
Confirmer = Callable[[str], None]


def default_confirmer(url: str) -> None:  # pragma: no cover - touches the network
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read(1 << 16)
