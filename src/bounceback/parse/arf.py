"""Feedback reports: RFC 5965 ARF and the non-standard loops providers run.

- ARF: multipart/report; report-type=feedback-report with a
  message/feedback-report part (Feedback-Type, Original-Rcpt-To, Source-IP,
  Reporting-MTA...) and the reported message or its headers.
- Microsoft's JMRP (Outlook.com / Hotmail): multipart/mixed holding the
  reported message, stamped X-HmXmrOriginalRecipient.
- Apple Mail's one-click unsubscribe: a plain message from the recipient,
  stamped X-Apple-Unsubscribe: true (feedback type opt-out).

The recipient is the one the report names, else the enclosed message's To.
"""

from __future__ import annotations

import base64
import quopri
import re
from email.message import Message
from typing import TYPE_CHECKING

from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Fields, Mail, parse_fields
from bounceback.parse.text import find_address, find_addresses

if TYPE_CHECKING:
    from bounceback.parse.mime import AnyMessage

NAME = "arf"

_FEEDBACK_TYPE = "message/feedback-report"
_RECIPIENT_FIELDS = ("original-rcpt-to", "removal-recipient")
_MICROSOFT_SENDER_RE = re.compile(r"@(?:[\w-]+\.)*(?:hotmail|outlook|msn|live|microsoft)\.", re.I)
_SUBJECT_IP_RE = re.compile(r"\bmessage from \[?([0-9A-Fa-f.:]{3,39}[0-9A-Fa-f])\]?")


def _field_text(part: AnyMessage) -> str:
    """A feedback-report part's text, however the parser stored it."""
    payload = part.get_payload(decode=False)
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    if isinstance(payload, list) and cte in ("base64", "quoted-printable"):
        # Encoded against the rules for message/*: the parser took the encoded
        # text for a body; decode it as the sender meant it.
        encoded = "\n".join(s.as_string() for s in payload if isinstance(s, Message))
        raw = encoded.encode("ascii", "replace")
        try:
            decoded = base64.b64decode(raw) if cte == "base64" else quopri.decodestring(raw)
        except ValueError:
            return ""
        return decoded.decode("utf-8", "replace")
    if isinstance(payload, list):
        # compat32 parses message/* subtypes as an enclosed message: the
        # fields became its headers (and its body, after any blank line).
        chunks: list[str] = []
        for sub in payload:
            if isinstance(sub, Message):
                chunks.extend(f"{k}: {v}" for k, v in sub.items())
                body = sub.get_payload()
                if isinstance(body, str):
                    chunks.append(body)
        return "\n".join(chunks)
    plain = part.get_payload(decode=True)
    if isinstance(plain, bytes):
        return plain.decode("utf-8", "replace")
    return payload if isinstance(payload, str) else ""


def feedback_fields(mail: Mail) -> Fields:
    """The message/feedback-report fields, flat and in order."""
    if mail.feedback_fields:
        return mail.feedback_fields
    if _FEEDBACK_TYPE not in mail.content_types:
        return []
    for part in mail.msg.walk():
        if part.get_content_type() == _FEEDBACK_TYPE:
            return [f for g in parse_fields(_field_text(part)) for f in g]
    return []


def _enclosed_recipients(original: AnyMessage | None) -> list[str]:
    """Redacted reports leave the enclosed message's To as the only trace."""
    if original is None:
        return []
    for header in ("To", "Delivered-To", "X-Original-To"):
        addrs = find_addresses(str(original.get(header, "")))
        if addrs:
            return addrs
    return []


def _arf(mail: Mail) -> Report:
    fields = [(n.lower(), v) for n, v in feedback_fields(mail)]
    get = dict(fields)
    feedback_type = get.get("feedback-type", "abuse").strip().lower() or "abuse"
    recipients: list[str] = []
    seen: set[str] = set()  # lower-cased: a report may name thousands of recipients
    for name, value in fields:
        if name in _RECIPIENT_FIELDS:
            addr = find_address(value)
            if addr and addr.lower() not in seen:
                seen.add(addr.lower())
                recipients.append(addr)
    if not recipients:
        recipients = _enclosed_recipients(mail.original)
    source = get.get("source-ip", "")
    reporting = get.get("reporting-mta", "")
    report = _report(mail, recipients or [""], feedback_type, source, reporting)
    # The envelope sender the report names is the return path: a VERP token
    # there identifies the send even when the recipient is redacted.
    envelope_from = find_address(get.get("original-mail-from", ""))
    if envelope_from and not report.original.return_path:
        report.original.return_path = envelope_from
    return report


def _report(
    mail: Mail, recipients: list[str], feedback_type: str, source: str = "", reporting: str = ""
) -> Report:
    records = [
        DeliveryRecord(
            recipient=addr,
            action="failed",
            feedback_type=feedback_type,
            reporting_mta=reporting,
            remote_mta=source,
            diagnostic=mail.subject,
            reason_hint="feedback",
        )
        for addr in recipients
    ]
    report = make_report(mail, NAME, records, kind=Kind.COMPLAINT)
    for rec in report.records:
        rec.action = "failed"
    return report


def _jmrp(mail: Mail) -> Report | None:
    """Microsoft's Junk Mail Reporting Program: the reported message, stamped."""
    if "message/rfc822" not in mail.content_types or mail.status_groups:
        return None
    # A message forwarded as an attachment from Outlook.com carries the stamp
    # too; the report itself comes from Microsoft and says "complaint".
    if "complaint" not in mail.subject_lc and not _MICROSOFT_SENDER_RE.search(mail.from_):
        return None
    original = mail.original
    if original is None:
        return None
    stamped = original.get("X-HmXmrOriginalRecipient")
    if stamped is None:
        return None
    recipients = find_addresses(str(stamped)) or _enclosed_recipients(original)
    # The subject names the sending IP ("complaint about message from 192.0.2.1").
    ip = _SUBJECT_IP_RE.search(mail.subject)
    source = ip.group(1) if ip else ""
    return _report(mail, recipients or [""], "abuse", source)


def detect(mail: Mail) -> Report | None:
    if mail.report_type == "feedback-report" or _FEEDBACK_TYPE in mail.content_types:
        return _arf(mail)
    if str(mail.msg.get("X-Apple-Unsubscribe", "")).strip().lower() == "true":
        sender = find_address(mail.from_)
        return _report(mail, [sender] if sender else [""], "opt-out")
    if mail.content_type == "multipart/mixed":
        return _jmrp(mail)
    return None
