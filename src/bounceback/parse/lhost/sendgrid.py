"""SendGrid's bounces: RFC 3464 with its own per-message fields.

The delivery-status part starts with X-SendGrid-QueueID / X-SendGrid-Sender;
Diagnostic-Code carries no type, and a message SendGrid gave up retrying says
"Action: expired" with an empty Status.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "sendgrid"
ORDER = Band.PRODUCT_TEXT


def _from_sendgrid(mail: Mail) -> bool:
    for group in mail.status_groups:
        for name, _ in group:
            if name.lower().startswith("x-sendgrid-"):
                return True
    return False


def detect(mail: Mail) -> Report | None:
    if not mail.status_groups or not _from_sendgrid(mail):
        return None
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        return None
    for rec in records:
        if rec.action.strip().lower() == "expired":
            # Retries ran out: final for this message, and the field says why.
            rec.action = "failed"
            rec.reason_hint = "expired"
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
