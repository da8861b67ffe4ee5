"""RFC 5965 abuse feedback reports (spam complaints)."""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_address, find_addresses

NAME = "arf"


def _looks_like_feedback(mail: Mail) -> bool:
    if mail.feedback_fields:
        return True
    return mail.report_type == "feedback-report"


def detect(mail: Mail) -> Report | None:
    if not _looks_like_feedback(mail):
        return None
    fields = [(n.lower(), v) for n, v in mail.feedback_fields]
    get = dict(fields)
    feedback_type = get.get("feedback-type", "abuse").strip().lower() or "abuse"
    recipients: list[str] = []
    for name, value in fields:
        if name in ("original-rcpt-to", "removal-recipient"):
            addr = find_address(value)
            if addr and addr not in recipients:
                recipients.append(addr)
    if not recipients and mail.original is not None:
        # Redacted reports leave the enclosed message's To as the only trace.
        for header in ("To", "Delivered-To", "X-Original-To"):
            addrs = find_addresses(str(mail.original.get(header, "")))
            if addrs:
                recipients.extend(a for a in addrs if a not in recipients)
                break
    reporting = get.get("reporting-mta", "")
    source = get.get("source-ip", "")
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
    ] or [
        DeliveryRecord(
            feedback_type=feedback_type,
            reporting_mta=reporting,
            remote_mta=source,
            diagnostic=mail.subject,
            reason_hint="feedback",
        )
    ]
    report = make_report(mail, NAME, records, kind=Kind.COMPLAINT)
    for rec in report.records:
        rec.action = "failed"
    return report
