"""Postmark webhooks (HTTP basic auth): Bounce, SpamComplaint and Delivery records.

Postmark names each bounce's ``Type``. Specific types are taken as the reason;
broad ones only fill in when the SMTP text in ``Details`` decides nothing; types
that are not about delivering to the address are ignored:

======================= ============ ================== ==========
Type                    kind         reason             strength
======================= ============ ================== ==========
HardBounce              bounce       userunknown        fallback
SoftBounce, Unknown,    bounce       (from Details)     -
SMTPApiError
Transient               delay        (from Details)     -
DnsError                bounce       networkerror       fallback
Blocked                 bounce       blocked            fallback
BadEmailAddress         bounce       userunknown        stated
AddressChange           bounce       hasmoved           stated
SpamNotification        bounce       spamdetected       stated
VirusNotification       bounce       virusdetected      stated
DMARCPolicy             bounce       authfailure        stated
ManuallyDeactivated     bounce       suppressed         stated
AutoResponder,          autoreply    vacation           (kind)
ChallengeVerification
SpamComplaint           complaint    feedback           (kind)
Unsubscribe, Subscribe, ignored
OpenRelayTest,
InboundError,
Unconfirmed,
TemplateRenderingFailed
======================= ============ ================== ==========
"""

from __future__ import annotations

import base64
import binascii
import hmac
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, SourceEvent
from bounceback.sources.records import (
    build_report,
    fallback_hint,
    now,
    parse_time,
    strip_diagnostic_type,
)
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, load_json, text
from bounceback.sources.webhooks.provider import Received, WebhookKind

if TYPE_CHECKING:
    from bounceback.sources.webhooks.settings import WebhookSettings

SOURCE = "webhook:postmark"

# Types Postmark itself calls temporary: without a code in Details, status 4.0.0.
TRANSIENT = frozenset({"SoftBounce", "Transient", "DnsError"})

# Type → (kind, stated reason, fallback reason)
TYPES: dict[str, tuple[Kind, str, str]] = {
    "HardBounce": (Kind.BOUNCE, "", "userunknown"),
    "SoftBounce": (Kind.BOUNCE, "", ""),
    "Unknown": (Kind.BOUNCE, "", ""),
    "SMTPApiError": (Kind.BOUNCE, "", ""),
    "Transient": (Kind.DELAY, "", ""),
    "DnsError": (Kind.BOUNCE, "", "networkerror"),
    "Blocked": (Kind.BOUNCE, "", "blocked"),
    "BadEmailAddress": (Kind.BOUNCE, "userunknown", ""),
    "AddressChange": (Kind.BOUNCE, "hasmoved", ""),
    "SpamNotification": (Kind.BOUNCE, "spamdetected", ""),
    "VirusNotification": (Kind.BOUNCE, "virusdetected", ""),
    "DMARCPolicy": (Kind.BOUNCE, "authfailure", ""),
    "ManuallyDeactivated": (Kind.BOUNCE, "suppressed", ""),
    "AutoResponder": (Kind.AUTOREPLY, "", ""),
    "ChallengeVerification": (Kind.AUTOREPLY, "", ""),
    "SpamComplaint": (Kind.COMPLAINT, "feedback", ""),
}


def verify_basic(authorization: str | None, user: str, password: str) -> None:
    """Raise Unauthorized (no credentials) or Forbidden (wrong ones)."""
    if not authorization:
        raise Unauthorized("credentials required")
    scheme, _, value = authorization.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise Unauthorized("basic authentication required")
    try:
        given = base64.b64decode(value.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise Forbidden("malformed basic credentials") from exc
    expected = f"{user}:{password}".encode()
    if not hmac.compare_digest(given, expected):
        raise Forbidden("wrong credentials")


def parse(body: bytes) -> dict[str, Any]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise BadRequest("Postmark posts a JSON object")
    return payload


def events(record: Mapping[str, Any]) -> list[SourceEvent]:
    """The event of one Postmark webhook record; [] for records not about delivery."""
    record_type = text(record.get("RecordType"))
    if record_type == "Delivery":
        return _delivery(record)
    if record_type not in ("Bounce", "SpamComplaint"):
        return []
    bounce_type = text(record.get("Type")) or record_type
    if record_type == "SpamComplaint":
        bounce_type = "SpamComplaint"
    if bounce_type not in TYPES:
        return []
    kind, stated, fallback = TYPES[bounce_type]
    recipient = text(record.get("Email"))
    if not recipient:
        return []
    details = strip_diagnostic_type(text(record.get("Details")))
    rec = DeliveryRecord(recipient=recipient, reason_hint=stated)
    if kind == Kind.COMPLAINT:
        rec.feedback_type = "abuse"
    else:
        rec.action = "delayed" if kind == Kind.DELAY else "failed"
        rec.diagnostic = details
    if kind == Kind.AUTOREPLY:
        rec.action = ""
    report = build_report(
        SOURCE, [rec], kind=kind, original=_original(record), transient=bounce_type in TRANSIENT
    )
    fallback_hint(report, fallback)
    ident = text(record.get("ID")) or text(record.get("MessageID"))
    what = "complaint" if kind == Kind.COMPLAINT else "bounce"
    meta = _meta(record, bounce_type=bounce_type)
    when = parse_time(record.get("BouncedAt")) or now()
    key = f"postmark:{what}:{ident}"
    return [SourceEvent(report, key, SOURCE, key, when, meta)]


def _delivery(record: Mapping[str, Any]) -> list[SourceEvent]:
    recipient = text(record.get("Recipient"))
    if not recipient:
        return []
    rec = DeliveryRecord(
        recipient=recipient, action="delivered", diagnostic=text(record.get("Details"))
    )
    report = build_report(SOURCE, [rec], kind=Kind.DELIVERED, original=_original(record))
    key = f"postmark:delivery:{text(record.get('MessageID'))}:{recipient.lower()}"
    when = parse_time(record.get("DeliveredAt")) or now()
    return [SourceEvent(report, key, SOURCE, key, when, _meta(record))]


def _original(record: Mapping[str, Any]) -> OriginalMessage:
    metadata = record.get("Metadata")
    bounceback_id = text(metadata.get("bounceback_id")) if isinstance(metadata, dict) else ""
    return OriginalMessage(
        subject=text(record.get("Subject")),
        from_=text(record.get("From")),
        bounceback_id=bounceback_id,
    )


def _meta(record: Mapping[str, Any], **extra: str) -> dict[str, str]:
    meta = {
        "postmark_message_id": text(record.get("MessageID")),
        "message_stream": text(record.get("MessageStream")),
        "tag": text(record.get("Tag")),
        "inactive": text(record.get("Inactive")) if "Inactive" in record else "",
        **extra,
    }
    return {k: v for k, v in meta.items() if v}


class Provider:
    """``POST /webhooks/postmark``: HTTP basic authentication (a WebhookProvider)."""

    name, title = "postmark", "Postmark"
    challenge = 'Basic realm="bounceback"'

    def __init__(self, settings: Settings | None, hooks: WebhookSettings) -> None:
        self.user = settings.user if settings else None
        self.password = settings.password if settings else None

    @property
    def enabled(self) -> bool:
        return self.user is not None and self.password is not None

    def authenticate(self, headers: Mapping[str, str]) -> None:
        assert self.user is not None and self.password is not None
        verify_basic(headers.get("authorization"), self.user, self.password)

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        return Received(events(parse(body)))


@dataclass(slots=True)
class Options:
    """``[webhooks.postmark]``: the basic-auth credentials set in Postmark's webhook URL."""

    user: str
    password: str


@dataclass(slots=True)
class Settings:
    """What the endpoint runs with: the basic-auth credentials."""

    user: str
    password: str


def configure(options: Options) -> Settings:
    return Settings(options.user, options.password)


KIND = WebhookKind("postmark", Options, Settings, configure, Provider, order=40)
