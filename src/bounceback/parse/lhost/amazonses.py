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
from typing import Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_address, find_status

NAME = "amazonses"
ORDER = 50

# Email notifications wrap long lines at 998 octets with "!" + newline + space.
_WRAP_RE = re.compile(r"!\r?\n ")
_LEGACY_RE = re.compile(
    r"^([245]\.\d{1,3}\.\d{1,3}) - [^']*?\b([245]\d\d)[ -]'(.*)'"
    r"(?:\s*\(delivery attempts: \d+\))?$",
    re.S,
)
# bounceSubType → reason, where the subtype names one (General and Undetermined do not).
_SUBTYPE_REASONS = {
    "noemail": "userunknown",
    "suppressed": "suppressed",
    "onaccountsuppressionlist": "suppressed",
    "mailboxfull": "mailboxfull",
    "messagetoolarge": "mesgtoobig",
    "contentrejected": "contenterror",
    "attachmentrejected": "contenterror",
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
    common = mail_obj.get("commonHeaders")
    if isinstance(common, dict):
        out.message_id = out.message_id or str(common.get("messageId", "") or "")
        out.subject = out.subject or str(common.get("subject", "") or "")
        out.from_ = out.from_ or ", ".join(str(a) for a in common.get("from", []) or [])
        out.to = out.to or ", ".join(str(a) for a in common.get("to", []) or [])
    if not out.message_id:
        # SES's own id: what its SendEmail API returned to the sender.
        out.message_id = str(mail_obj.get("messageId", "") or "")
    out.return_path = find_address(str(mail_obj.get("source", "") or ""))
    return out


def _bounce_records(bounce: dict[str, Any]) -> list[DeliveryRecord]:
    subtype = str(bounce.get("bounceSubType", "")).lower()
    hint = _SUBTYPE_REASONS.get(subtype, "")
    transient = str(bounce.get("bounceType", "")).lower() == "transient"
    reporting = str(bounce.get("reportingMTA", "") or "")
    remote = str(bounce.get("remoteMtaIp", "") or "")
    records = []
    for r in bounce.get("bouncedRecipients", []) or []:
        if not isinstance(r, dict):
            continue
        diag_type, _, diag = str(r.get("diagnosticCode", "") or "").partition(";")
        if not diag:
            diag, diag_type = diag_type, ""
        records.append(
            DeliveryRecord(
                recipient=str(r.get("emailAddress", "")),
                action=str(r.get("action", "") or ("delayed" if transient else "failed")),
                status=str(r.get("status", "") or ""),
                diagnostic=diag.strip(),
                diagnostic_type=diag_type.strip().lower(),
                reporting_mta=reporting,
                remote_mta=remote,
                reason_hint=hint,
            )
        )
    return records


def _from_json(mail: Mail, note: dict[str, Any]) -> Report | None:
    kind = str(note.get("notificationType") or note.get("eventType")).lower()
    kind_of: Kind | None = None
    records: list[DeliveryRecord] = []
    if kind == "bounce" and isinstance(note.get("bounce"), dict):
        records = _bounce_records(note["bounce"])
    elif kind == "complaint" and isinstance(note.get("complaint"), dict):
        complaint = note["complaint"]
        feedback = str(complaint.get("complaintFeedbackType", "") or "abuse")
        records = [
            DeliveryRecord(
                recipient=str(r.get("emailAddress", "")),
                action="failed",
                feedback_type=feedback,
                diagnostic=str(complaint.get("userAgent", "") or ""),
                reason_hint="feedback",
            )
            for r in complaint.get("complainedRecipients", []) or []
            if isinstance(r, dict)
        ]
        kind_of = Kind.COMPLAINT
    elif kind == "delivery" and isinstance(note.get("delivery"), dict):
        delivery = note["delivery"]
        records = [
            DeliveryRecord(
                recipient=str(r),
                action="delivered",
                diagnostic=str(delivery.get("smtpResponse", "") or ""),
                reporting_mta=str(delivery.get("reportingMTA", "") or ""),
                remote_mta=str(delivery.get("remoteMtaIp", "") or ""),
            )
            for r in delivery.get("recipients", []) or []
        ]
        kind_of = Kind.DELIVERED
    if not records:
        return None
    report = make_report(mail, NAME, records, kind=kind_of)
    if isinstance(note.get("mail"), dict):
        report.original = _original(note["mail"])
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
