"""SendGrid's signed Event Webhook: bounce, blocked, dropped, deferred, delivered, spamreport.

SendGrid signs ``timestamp + body`` (the raw bytes as posted) with ECDSA P-256 and
SHA-256, and sends the base64 DER signature and the timestamp in the
``X-Twilio-Email-Event-Webhook-Signature`` and ``-Timestamp`` headers; the public
key (base64 DER, as SendGrid's settings page shows it, or PEM) is configured.
The body is a JSON array of events, each with a unique ``sg_event_id``.

A ``bounce`` event whose ``type`` is ``blocked`` (or a ``blocked`` event) is a
refusal by the receiving server, usually of the sender: it gets the reason
``blocked`` only when its status and text decide nothing better. ``dropped``
means SendGrid did not send to the address at all (it is on a suppression list):
reason ``suppressed``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from bounceback.model import DeliveryRecord, Kind, OriginalMessage
from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.records import build_report, digest, fallback_hint, now, parse_time
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, load_json, text
from bounceback.sources.webhooks.provider import Received, WebhookKind

if TYPE_CHECKING:
    from bounceback.sources.webhooks.settings import WebhookSettings

SOURCE = "webhook:sendgrid"
SIGNATURE_HEADER = "X-Twilio-Email-Event-Webhook-Signature"
TIMESTAMP_HEADER = "X-Twilio-Email-Event-Webhook-Timestamp"

# SendGrid's bounce_classification, used only when the evidence decides nothing.
# ("Mailbox Unavailable" covers both full and disabled mailboxes, "Technical" and
# "Unclassified" say nothing: those are left to the classifier.)
CLASSIFICATION_FALLBACKS: dict[str, str] = {
    "Invalid Address": "userunknown",
    "Reputation": "blocked",
    "Frequency or Volume": "speeding",
    "Content": "spamdetected",
}


def load_public_key(key: str) -> ec.EllipticCurvePublicKey:
    """The verification key from its base64 DER or PEM form."""
    try:
        if "BEGIN PUBLIC KEY" in key:
            loaded = serialization.load_pem_public_key(key.encode("ascii"))
        else:
            loaded = serialization.load_der_public_key(base64.b64decode("".join(key.split())))
    except (ValueError, binascii.Error, TypeError) as exc:
        raise ValueError(f"not a SendGrid verification key: {exc}") from exc
    if not isinstance(loaded, ec.EllipticCurvePublicKey):
        raise ValueError("SendGrid's verification key is an elliptic-curve key")
    return loaded


def verify(
    public_key: ec.EllipticCurvePublicKey,
    body: bytes,
    signature: str | None,
    timestamp: str | None,
    *,
    max_age: float | None = None,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> None:
    """Raise Unauthorized (unsigned) or Forbidden (wrong, or too old) unless signed."""
    if not signature or not timestamp:
        raise Unauthorized("SendGrid signature headers missing")
    try:
        raw = base64.b64decode(signature, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Forbidden("SendGrid signature is not base64") from exc
    try:
        public_key.verify(raw, timestamp.encode("utf-8") + body, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:
        raise Forbidden("SendGrid signature does not verify") from exc
    if max_age is not None:
        when = parse_time(timestamp)
        if when is None or abs((clock() - when).total_seconds()) > max_age:
            raise Forbidden("SendGrid timestamp too old")


def parse(body: bytes) -> tuple[list[SourceEvent], list[SourceError]]:
    """The events of a verified body (a JSON array)."""
    payload = load_json(body)
    if isinstance(payload, dict):
        payload = [payload]
    if not isinstance(payload, list):
        raise BadRequest("SendGrid posts a JSON array of events")
    out: list[SourceEvent] = []
    errors: list[SourceError] = []
    for i, item in enumerate(payload):
        if not isinstance(item, dict):
            errors.append(SourceError(f"sendgrid:{i}", "event is not an object"))
            continue
        event = event_of(item)
        if isinstance(event, SourceError):
            errors.append(event)
        elif event is not None:
            out.append(event)
    return out, errors


def event_of(item: Mapping[str, Any]) -> SourceEvent | SourceError | None:
    """One SendGrid event; None for events that say nothing about delivery."""
    name = text(item.get("event"))
    recipient = text(item.get("email"))
    ident = text(item.get("sg_event_id")) or digest(json.dumps(item, sort_keys=True))
    ref = f"sendgrid:{ident}"
    if name not in ("bounce", "blocked", "dropped", "deferred", "delivered", "spamreport"):
        return None
    if not recipient:
        return SourceError(ref, f"{name} event without an email")
    rec = DeliveryRecord(recipient=recipient)
    fallback = ""
    kind: Kind
    if name in ("bounce", "blocked"):
        kind = Kind.BOUNCE
        rec.action = "failed"
        rec.status = text(item.get("status"))
        rec.diagnostic = text(item.get("reason"))
        blocked = name == "blocked" or text(item.get("type")) == "blocked"
        classification = text(item.get("bounce_classification"))
        fallback = "blocked" if blocked else CLASSIFICATION_FALLBACKS.get(classification, "")
    elif name == "dropped":
        kind = Kind.BOUNCE
        rec.action = "failed"
        rec.diagnostic = text(item.get("reason"))
        rec.reason_hint = "suppressed"
    elif name == "deferred":
        kind = Kind.DELAY
        rec.action = "delayed"
        rec.diagnostic = text(item.get("response")) or text(item.get("reason"))
    elif name == "delivered":
        kind = Kind.DELIVERED
        rec.action = "delivered"
        rec.diagnostic = text(item.get("response"))
    else:
        kind = Kind.COMPLAINT
        rec.feedback_type = "abuse"
        rec.reason_hint = "feedback"
    original = OriginalMessage(
        message_id=text(item.get("smtp-id")),
        bounceback_id=text(item.get("bounceback_id")),
    )
    report = build_report(SOURCE, [rec], kind=kind, original=original)
    fallback_hint(report, fallback)
    meta = {
        k: text(item.get(src))
        for k, src in (
            ("sg_message_id", "sg_message_id"),
            ("bounce_classification", "bounce_classification"),
            ("ip", "ip"),
            ("attempt", "attempt"),
        )
        if item.get(src) not in (None, "")
    }
    when = parse_time(item.get("timestamp")) or now()
    return SourceEvent(report, f"sendgrid:{ident}", SOURCE, ref, when, meta)


class Provider:
    """``POST /webhooks/sendgrid``: event batches signed with ECDSA (a WebhookProvider)."""

    name, title, challenge = "sendgrid", "SendGrid", ""

    def __init__(self, settings: Settings | None, hooks: WebhookSettings) -> None:
        key = settings.public_key if settings else None
        self.public_key = load_public_key(key) if key else None
        self.max_age = settings.max_age if settings else None

    @property
    def enabled(self) -> bool:
        return self.public_key is not None

    def authenticate(self, headers: Mapping[str, str]) -> None:
        """The signature covers the body: ``receive`` checks it."""

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        assert self.public_key is not None  # the routes ask only an enabled provider
        verify(
            self.public_key,
            body,
            headers.get(SIGNATURE_HEADER),
            headers.get(TIMESTAMP_HEADER),
            max_age=self.max_age,
        )
        found, skipped = parse(body)
        return Received(found, skipped)


@dataclass(slots=True)
class Options:
    """``[webhooks.sendgrid]``: the verification key SendGrid shows, the age allowed."""

    public_key: str
    max_age: float | None = None


@dataclass(slots=True)
class Settings:
    """What the endpoint runs with: the verification key, the age allowed (None: verify's)."""

    public_key: str
    max_age: float | None = None


def configure(options: Options) -> Settings:
    return Settings(options.public_key, options.max_age)


KIND = WebhookKind("sendgrid", Options, Settings, configure, Provider, order=20)
