"""Amazon SES email receiving: the bounce a receipt rule sends back.

RFC 3464 from the domain's own postmaster, sent through SES (X-SES-Outgoing),
reported by SES's inbound servers (Reporting-MTA inbound-smtp.<region>.
amazonaws.com), with Action printed before Final-Recipient.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "receivingses"
ORDER = Band.PROVIDER - 5  # before amazonses


def _reported_by_ses_inbound(mail: Mail) -> bool:
    for group in mail.status_groups:
        for name, value in group:
            if name.lower() == "reporting-mta":
                host = value.lower()
                return "inbound-smtp." in host and host.rstrip(". ").endswith("amazonaws.com")
    return False


def detect(mail: Mail) -> Report | None:
    if mail.msg.get("X-SES-Outgoing") is None or not _reported_by_ses_inbound(mail):
        return None
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        return None
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
