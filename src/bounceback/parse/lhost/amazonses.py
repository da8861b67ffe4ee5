"""Amazon SES: its bounce emails and its JSON notifications.

SES tells a sender about bounces, complaints and deliveries as JSON, either
in an SNS envelope ({"Type": "Notification", "Message": "<json>"}) or bare,
sent by email (From no-reply@sns.amazonaws.com, "AWS Notification Message").
The JSON names every recipient, its status and diagnostic, and a machine
category (bounceType / bounceSubType, complaintFeedbackType).

SES's own RFC 3464 bounces wrap the remote reply in its own code:
    Diagnostic-Code: smtp; 5.1.0 - Unknown address error 550-'5.2.2 <a@b>... Mailbox Full'
where the remote server's words, inside the quotes, are what counts.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, find_status

NAME = "amazonses"
ORDER = Band.PROVIDER

# Email notifications wrap long lines at 998 octets with "!" + newline + space.
_WRAP_RE = re.compile(r"!\r?\n ")
_LEGACY_RE = re.compile(
    r"^([245]\.\d{1,3}\.\d{1,3}) - [^']*?\b([245]\d\d)[ -]'(.*)'"
    r"(?:\s*\(delivery attempts: \d+\))?$",
    re.S,
)
# bounceSubType → reason, where the subtype names one. General and Undetermined
# do not, and ContentRejected / AttachmentRejected are too broad to outweigh
# the status and text SES passes on (the SES webhook reads notifications here too).
_SUBTYPE_REASONS = {
    "noemail": "userunknown",
    "suppressed": "suppressed",
    "onaccountsuppressionlist": "suppressed",
    "mailboxfull": "mailboxfull",
    "messagetoolarge": "mesgtoobig",
}


def _sender_is_aws(mail: Mail) -> bool:
    sender = mail.from_lc
    return "amazonaws.com" in sender or "amazonses.com" in sender


def _notification(text: str) -> dict[str, Any] | None:
    """The SES notification object in a message body, unwrapped from SNS."""
    start = text.find("{")
    if start < 0:
        return None
    try:
        obj, _ = json.JSONDecoder().raw_decode(_WRAP_RE.sub("", text[start:]))
    except ValueError:
        return None
    if not isinstance(obj, dict):
        return None
    inner = obj.get("Message")
    if isinstance(inner, str) and inner.lstrip().startswith("{"):
        try:
            obj = json.loads(inner)
        except ValueError:
            return None
    if not isinstance(obj, dict):
        return None
    kind = obj.get("notificationType") or obj.get("eventType")
    return obj if isinstance(kind, str) else None


def _original(mail_obj: dict[str, Any]) -> OriginalMessage:
    out = OriginalMessage()
    headers = mail_obj.get("headers")
    if isinstance(headers, list):
        for h in headers:
            if not isinstance(h, dict):
                continue
            name = str(h.get("name", "")).lower()
            value = str(h.get("value", ""))
            if name == "message-id":
                out.message_id = value.strip()
            elif name == "subject":
                out.subject = value
            elif name == "from":
                out.from_ = value
            elif name == "to":
                out.to = value
            elif name == "x-bounceback-id":
                out.bounceback_id = value.strip()
            elif name == "return-path":
                out.return_path = find_address(value)
    common = mail_obj.get("commonHeaders")
    if isinstance(common, dict):
        out.message_id = out.message_id or str(common.get("messageId", "") or "")
        out.subject = out.subject or str(common.get("subject", "") or "")
        out.from_ = out.from_ or ", ".join(str(a) for a in common.get("from", []) or [])
        out.to = out.to or ", ".join(str(a) for a in common.get("to", []) or [])
    if not out.message_id:
        # SES's own id: what its SendEmail API returned to the sender.
        out.message_id = str(mail_obj.get("messageId", "") or "")
    out.return_path = out.return_path or find_address(str(mail_obj.get("source", "") or ""))
    tags = mail_obj.get("tags")
    tagged = tags.get("bounceback_id") if isinstance(tags, dict) else None
    if not out.bounceback_id and isinstance(tagged, list) and tagged:
        # A sender without custom headers can pass the id as an SES message tag.
        out.bounceback_id = str(tagged[0])
    return out


def _diagnostic(value: object) -> tuple[str, str]:
    """(type, text) of an SES diagnosticCode such as 'smtp; 550 5.1.1 ...'."""
    kind, sep, text = str(value or "").partition(";")
    if not sep or " " in kind.strip():
        return "", str(value or "").strip()
    return kind.strip().lower(), text.strip()


def _recipient_records(
    entries: object, action: str, reporting: str, remote: str, hint: str = ""
) -> list[DeliveryRecord]:
    """Records from bouncedRecipients / delayedRecipients entries."""
    records = []
    for r in entries if isinstance(entries, list) else []:
        if not isinstance(r, dict):
            continue
        diag_type, diag = _diagnostic(r.get("diagnosticCode"))
        records.append(
            DeliveryRecord(
                recipient=str(r.get("emailAddress", "")),
                action=str(r.get("action", "") or action),
                status=str(r.get("status", "") or ""),
                diagnostic=diag,
                diagnostic_type=diag_type,
                reporting_mta=reporting,
                remote_mta=remote,
                reason_hint=hint,
            )
        )
    return records


def _bounce(bounce: dict[str, Any]) -> list[DeliveryRecord]:
    hint = _SUBTYPE_REASONS.get(str(bounce.get("bounceSubType", "")).lower(), "")
    # Even a transient bounce is final: SES stopped retrying that message.
    records = _recipient_records(
        bounce.get("bouncedRecipients"),
        "failed",
        str(bounce.get("reportingMTA", "") or ""),
        str(bounce.get("remoteMtaIp", "") or ""),
        hint,
    )
    if str(bounce.get("bounceType", "")).lower() == "transient":
        for rec in records:
            # SES states the failure is temporary; without a code it would pass
            # for permanent.
            rec.status = rec.status or "4.0.0"
    return records


def _delay(delay: dict[str, Any]) -> list[DeliveryRecord]:
    return _recipient_records(
        delay.get("delayedRecipients"),
        "delayed",
        str(delay.get("reportingMTA", "") or ""),
        str(delay.get("remoteMtaIp", "") or ""),
    )


def _complaint(complaint: dict[str, Any]) -> list[DeliveryRecord]:
    feedback = str(complaint.get("complaintFeedbackType", "") or "abuse")
    entries = complaint.get("complainedRecipients")
    return [
        DeliveryRecord(
            recipient=str(r.get("emailAddress", "")),
            action="failed",
            feedback_type=feedback,
            diagnostic=str(complaint.get("userAgent", "") or ""),
            reason_hint="feedback",
        )
        for r in (entries if isinstance(entries, list) else [])
        if isinstance(r, dict)
    ]


def _delivery(delivery: dict[str, Any]) -> list[DeliveryRecord]:
    entries = delivery.get("recipients")
    return [
        DeliveryRecord(
            recipient=str(r),
            action="delivered",
            diagnostic=str(delivery.get("smtpResponse", "") or ""),
            reporting_mta=str(delivery.get("reportingMTA", "") or ""),
            remote_mta=str(delivery.get("remoteMtaIp", "") or ""),
        )
        for r in (entries if isinstance(entries, list) else [])
    ]


# notification type → (key of its object, record builder, report kind or None)
_Builder = Callable[[dict[str, Any]], list[DeliveryRecord]]
_TYPES: dict[str, tuple[str, _Builder, Kind | None]] = {
    "bounce": ("bounce", _bounce, None),
    "complaint": ("complaint", _complaint, Kind.COMPLAINT),
    "delivery": ("delivery", _delivery, Kind.DELIVERED),
    "deliverydelay": ("deliveryDelay", _delay, Kind.DELAY),
}


def notification_records(
    note: dict[str, Any],
) -> tuple[Kind | None, list[DeliveryRecord], OriginalMessage]:
    """What one SES notification (or event) says: usable by a webhook as well.

    Returns (kind or None to derive it from the records, records, original);
    no records for types that report no delivery outcome (Send, Open, ...).
    """
    kind = str(note.get("notificationType") or note.get("eventType") or "").lower()
    records: list[DeliveryRecord] = []
    report_kind: Kind | None = None
    if kind in _TYPES:
        key, build, report_kind = _TYPES[kind]
        body = note.get(key)
        records = build(body) if isinstance(body, dict) else []
    mail_obj = note.get("mail")
    original = _original(mail_obj) if isinstance(mail_obj, dict) else OriginalMessage()
    return report_kind, records, original


def _from_json(mail: Mail, note: dict[str, Any]) -> Report | None:
    kind, records, original = notification_records(note)
    if not records:
        return None
    report = make_report(mail, NAME, records, kind=kind)
    report.original = original
    return report


def _unwrap_legacy(rec: DeliveryRecord) -> None:
    """SES's 'X.Y.Z - Category NNN-'remote text'' diagnostic → the remote's reply."""
    m = _LEGACY_RE.match(rec.diagnostic.strip())
    if m is None:
        return
    ses_status, reply, said = m.group(1), m.group(2), " ".join(m.group(3).split())
    rec.reply_code = reply
    rec.diagnostic = f"{reply} {said}"
    rec.status = find_status(said) or ses_status


def detect(mail: Mail) -> Report | None:
    if not _sender_is_aws(mail):
        return None
    if not mail.status_groups:
        text = mail.text
        if "notificationType" not in text and "eventType" not in text:
            return None
        note = _notification(text)
        return _from_json(mail, note) if note else None
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        return None
    for rec in records:
        _unwrap_legacy(rec)
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
