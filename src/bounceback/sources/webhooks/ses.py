"""Amazon SES bounce, complaint, delivery and delay notifications, delivered by SNS.

Both SES shapes are read: identity notifications (``"notificationType"``) and
configuration-set event publishing (``"eventType"``); the inner objects
(``bounce``, ``complaint``, ``delivery``, ``deliveryDelay``) are the same.

SES states the category of a bounce (``bounceType``/``bounceSubType``). The
specific subtypes are taken as the reason; the vague ones leave the reason to
the SMTP status and diagnostic SES passes on:

========================== ================ =========
bounceSubType              reason           strength
========================== ================ =========
NoEmail                    userunknown      stated
Suppressed                 suppressed       stated
OnAccountSuppressionList   suppressed       stated
MailboxFull                mailboxfull      stated
MessageTooLarge            mesgtoobig       stated
ContentRejected            contenterror     fallback
AttachmentRejected         policyviolation  fallback
General, Undetermined      (none)           -
========================== ================ =========

Delivery delays (``deliveryDelay.delayType``) map the same way, as fallbacks. A
``Transient`` bounce whose recipient carries no status code gets ``4.0.0``: SES
says the failure is temporary, and without a code it would pass for permanent.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bounceback.model import Kind, Report, SourceEvent
from bounceback.parse.lhost.amazonses import notification_records
from bounceback.sources.records import build_report, digest, fallback_hint, now, parse_time
from bounceback.sources.webhooks import BadRequest, Forbidden, load_json, text
from bounceback.sources.webhooks.provider import Received, WebhookKind
from bounceback.sources.webhooks.sns import (
    Confirmer,
    SnsVerifier,
    default_confirmer,
    is_sns_url,
    parse_envelope,
)

if TYPE_CHECKING:
    from bounceback.sources.webhooks.settings import WebhookSettings

SOURCE = "webhook:ses"

SUBTYPE_FALLBACKS: dict[str, str] = {
    "ContentRejected": "contenterror",
    "AttachmentRejected": "policyviolation",
}
DELAY_FALLBACKS: dict[str, str] = {
    "MailboxFull": "mailboxfull",
    "SpamDetected": "spamdetected",
    "RecipientServerError": "systemerror",
    "IPFailure": "blocked",
    "TransientCommunicationFailure": "networkerror",
}


def handle(
    body: bytes, verifier: SnsVerifier, confirm: Confirmer = default_confirmer
) -> list[SourceEvent]:
    """Verify one SNS POST and return its SES events; confirm subscriptions."""
    envelope = parse_envelope(body)
    verifier.verify(envelope)
    kind = text(envelope.get("Type"))
    if kind == "SubscriptionConfirmation":
        url = text(envelope.get("SubscribeURL"))
        if not is_sns_url(url):
            raise Forbidden("SubscribeURL is not an Amazon SNS https URL")
        confirm(url)
        return []
    if kind != "Notification":
        return []  # UnsubscribeConfirmation and anything newer: nothing to record
    try:
        message = load_json(text(envelope.get("Message")).encode("utf-8"))
    except BadRequest:
        return []  # SES's "Successfully validated" test notice and other plain text
    if not isinstance(message, dict):
        return []
    return events(message, sns_message_id=text(envelope.get("MessageId")))


def events(message: Mapping[str, Any], *, sns_message_id: str = "") -> list[SourceEvent]:
    """The events in one SES notification (a JSON object); [] for other event types.

    The notification's meaning (records, original message) is read by the SES
    format module that also reads SES notifications arriving by email; this
    module adds only what an event needs: its idempotency key and metadata.
    """
    name = text(message.get("notificationType") or message.get("eventType"))
    if name not in _INNER:
        return []
    kind, records, original = notification_records(dict(message))
    mail = _obj(message.get("mail"))
    inner = _obj(message.get(_INNER[name]))
    transient = name == "DeliveryDelay" or text(inner.get("bounceType")) == "Transient"
    report = build_report(
        SOURCE,
        records,
        kind=kind or Kind.BOUNCE,
        original=original,
        return_path=original.return_path,
        transient=transient,
    )
    meta: dict[str, str] = {}
    if name == "Bounce":
        sub = text(inner.get("bounceSubType"))
        fallback_hint(report, SUBTYPE_FALLBACKS.get(sub, ""))
        meta = {"bounce_type": text(inner.get("bounceType")), "bounce_sub_type": sub}
        key = text(inner.get("feedbackId")) or sns_message_id
    elif name == "Complaint":
        meta = {"user_agent": text(inner.get("userAgent"))}
        if sub := text(inner.get("complaintSubType")):
            meta["complaint_sub_type"] = sub
        key = text(inner.get("feedbackId")) or sns_message_id
    elif name == "Delivery":
        mid = text(mail.get("messageId"))
        key = f"delivery:{mid}" if mid else sns_message_id
    else:
        delay_type = text(inner.get("delayType"))
        fallback_hint(report, DELAY_FALLBACKS.get(delay_type, ""))
        meta = {"delay_type": delay_type}
        mid = text(mail.get("messageId"))
        stamp = text(inner.get("timestamp"))
        key = f"delay:{mid}:{stamp}" if mid else sns_message_id
    return _wrap(report, name.lower(), key, inner, mail, meta)


# notification type → the key of its inner object
_INNER = {
    "Bounce": "bounce",
    "Complaint": "complaint",
    "Delivery": "delivery",
    "DeliveryDelay": "deliveryDelay",
}


def _wrap(
    report: Report,
    what: str,
    key: str,
    inner: Mapping[str, Any],
    mail: Mapping[str, Any],
    meta: dict[str, str],
) -> list[SourceEvent]:
    if not report.records:
        return []
    if not key:  # no id at all: the content itself identifies the event
        key = digest(what, repr(sorted(inner.items(), key=lambda kv: kv[0])))
    ses_id = text(mail.get("messageId"))
    if ses_id:
        meta["ses_message_id"] = ses_id
    when = parse_time(inner.get("timestamp")) or now()
    event = SourceEvent(report, f"ses:{key}", SOURCE, f"ses:{what}:{key}", when, meta)
    return [event]


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


class Provider:
    """``POST /webhooks/ses``: SNS notifications, signed by Amazon (a WebhookProvider)."""

    name, title, challenge = "ses", "SES", ""

    def __init__(self, settings: Settings | None, hooks: WebhookSettings) -> None:
        self.verifier = settings.verifier if settings else None
        self.confirm = settings.confirm if settings else default_confirmer

    @property
    def enabled(self) -> bool:
        return self.verifier is not None

    def authenticate(self, headers: Mapping[str, str]) -> None:
        """The signature is in the body: ``receive`` checks it."""

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        assert self.verifier is not None  # the routes ask only an enabled provider
        return Received(handle(body, self.verifier, self.confirm))


@dataclass(slots=True)
class Options:
    """``[webhooks.ses]``: the SNS topics accepted (None: any) and the message age."""

    topic_arns: list[str] | None = None
    max_age: float | None = None


@dataclass(slots=True)
class Settings:
    """What the endpoint runs with: the SNS checks, and how a subscription is confirmed."""

    verifier: SnsVerifier
    confirm: Confirmer = default_confirmer


def configure(options: Options) -> Settings:
    arns = frozenset(options.topic_arns) if options.topic_arns else None
    if options.max_age is None:
        return Settings(SnsVerifier(topic_arns=arns))
    return Settings(SnsVerifier(topic_arns=arns, max_age=options.max_age))


KIND = WebhookKind("ses", Options, Settings, configure, Provider, order=10)
