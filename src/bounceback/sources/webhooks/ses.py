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

import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.sources import SourceEvent
from bounceback.sources.records import (
    build_report,
    digest,
    fallback_hint,
    now,
    parse_time,
    strip_diagnostic_type,
)
from bounceback.sources.webhooks import BadRequest, Forbidden, load_json, text
from bounceback.sources.webhooks.sns import SnsVerifier, is_sns_url, parse_envelope

SOURCE = "webhook:ses"

SUBTYPE_REASONS: dict[str, str] = {
    "NoEmail": "userunknown",
    "Suppressed": "suppressed",
    "OnAccountSuppressionList": "suppressed",
    "MailboxFull": "mailboxfull",
    "MessageTooLarge": "mesgtoobig",
}
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

Confirmer = Callable[[str], None]


def default_confirmer(url: str) -> None:  # pragma: no cover - touches the network
    with urllib.request.urlopen(url, timeout=10) as response:
        response.read(1 << 16)


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
    """The events in one SES notification (a JSON object); [] for other event types."""
    kind = text(message.get("notificationType") or message.get("eventType"))
    mail = _obj(message.get("mail"))
    if kind == "Bounce":
        return _bounce(_obj(message.get("bounce")), mail, sns_message_id)
    if kind == "Complaint":
        return _complaint(_obj(message.get("complaint")), mail, sns_message_id)
    if kind == "Delivery":
        return _delivery(_obj(message.get("delivery")), mail, sns_message_id)
    if kind == "DeliveryDelay":
        return _delay(_obj(message.get("deliveryDelay")), mail, sns_message_id)
    return []


def _bounce(b: Mapping[str, Any], mail: Mapping[str, Any], sns_id: str) -> list[SourceEvent]:
    sub = text(b.get("bounceSubType"))
    hint = SUBTYPE_REASONS.get(sub, "")
    records = [
        DeliveryRecord(
            recipient=text(r.get("emailAddress")),
            action=text(r.get("action")) or "failed",
            status=text(r.get("status")),
            diagnostic=strip_diagnostic_type(text(r.get("diagnosticCode"))),
            remote_mta=text(b.get("remoteMtaIp")),
            reporting_mta=text(b.get("reportingMTA")),
            reason_hint=hint,
        )
        for r in _objs(b.get("bouncedRecipients"))
    ]
    transient = text(b.get("bounceType")) == "Transient"
    report = build_report(SOURCE, records, kind=Kind.BOUNCE, transient=transient, **_original(mail))
    fallback_hint(report, SUBTYPE_FALLBACKS.get(sub, ""))
    meta = {"bounce_type": text(b.get("bounceType")), "bounce_sub_type": sub}
    key = text(b.get("feedbackId")) or sns_id
    return _wrap(report, "bounce", key, b, mail, meta)


def _complaint(c: Mapping[str, Any], mail: Mapping[str, Any], sns_id: str) -> list[SourceEvent]:
    records = [
        DeliveryRecord(
            recipient=text(r.get("emailAddress")),
            feedback_type=text(c.get("complaintFeedbackType")) or "abuse",
            reason_hint="feedback",
        )
        for r in _objs(c.get("complainedRecipients"))
    ]
    report = build_report(SOURCE, records, kind=Kind.COMPLAINT, **_original(mail))
    meta = {"user_agent": text(c.get("userAgent"))}
    if sub := text(c.get("complaintSubType")):
        meta["complaint_sub_type"] = sub
    key = text(c.get("feedbackId")) or sns_id
    return _wrap(report, "complaint", key, c, mail, meta)


def _delivery(d: Mapping[str, Any], mail: Mapping[str, Any], sns_id: str) -> list[SourceEvent]:
    recipients = d.get("recipients")
    records = [
        DeliveryRecord(
            recipient=r,
            action="delivered",
            diagnostic=text(d.get("smtpResponse")),
            remote_mta=text(d.get("remoteMtaIp")),
            reporting_mta=text(d.get("reportingMTA")),
        )
        for r in (recipients if isinstance(recipients, list) else [])
        if isinstance(r, str)
    ]
    report = build_report(SOURCE, records, kind=Kind.DELIVERED, **_original(mail))
    key = f"delivery:{text(mail.get('messageId'))}" if mail.get("messageId") else sns_id
    return _wrap(report, "delivery", key, d, mail, {})


def _delay(d: Mapping[str, Any], mail: Mapping[str, Any], sns_id: str) -> list[SourceEvent]:
    delay_type = text(d.get("delayType"))
    records = [
        DeliveryRecord(
            recipient=text(r.get("emailAddress")),
            action="delayed",
            status=text(r.get("status")),
            diagnostic=strip_diagnostic_type(text(r.get("diagnosticCode"))),
            reporting_mta=text(d.get("reportingMTA")),
        )
        for r in _objs(d.get("delayedRecipients"))
    ]
    report = build_report(SOURCE, records, kind=Kind.DELAY, transient=True, **_original(mail))
    fallback_hint(report, DELAY_FALLBACKS.get(delay_type, ""))
    stamp = text(d.get("timestamp"))
    key = f"delay:{text(mail.get('messageId'))}:{stamp}" if mail.get("messageId") else sns_id
    return _wrap(report, "delay", key, d, mail, {"delay_type": delay_type})


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


def _original(mail: Mapping[str, Any]) -> dict[str, Any]:
    common = _obj(mail.get("commonHeaders"))
    headers = {
        text(h.get("name")).lower(): text(h.get("value")) for h in _objs(mail.get("headers"))
    }
    tags = _obj(mail.get("tags"))
    tag_id = tags.get("bounceback_id")
    bounceback_id = headers.get("x-bounceback-id", "") or (
        text(tag_id[0]) if isinstance(tag_id, list) and tag_id else ""
    )
    source = text(mail.get("source"))
    original = OriginalMessage(
        message_id=text(common.get("messageId")) or headers.get("message-id", ""),
        subject=text(common.get("subject")),
        from_=", ".join(text(a) for a in common.get("from") or []),
        to=", ".join(text(a) for a in common.get("to") or []),
        return_path=headers.get("return-path", "") or source,
        bounceback_id=bounceback_id,
    )
    return {"original": original, "return_path": original.return_path}


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


def _objs(value: object) -> list[Mapping[str, Any]]:
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []
