"""HCL (IBM, Lotus) Domino: "Your message ... was not delivered to: ... because: ...".

    Your message

      Subject: Test Bounce

    was not delivered to:

      user@example.jp

    because:

      User user (user@example.jp) not listed in Domino Directory

Newer servers add an RFC 3464 part whose Final-Recipient may be the routed
address rather than the one the sender wrote, and whose Diagnostic-Code keeps
the raw ISO-2022-JP bytes; the text names the address as sent, so it leads and
the DSN adds the status and remote MTA.
"""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, find_status, squeeze

NAME = "domino"
ORDER = Band.PRODUCT_TEXT


def detect(mail: Mail) -> Report | None:
    head = mail.text_lc[:3000]
    if "was not delivered to:" not in head or "because:" not in head:
        return None
    text = mail.report_text
    rcpts = [
        a
        for a in (
            find_address(x) for x in paragraph(after(text, "was not delivered to:").splitlines())
        )
        if a
    ]
    if not rcpts:
        return None
    diagnostic = squeeze(" ".join(paragraph(after(text, "because:").splitlines())))
    records = [DeliveryRecord(recipient=r, action="failed", diagnostic=diagnostic) for r in rcpts]
    dsn = dsn_records(mail)
    for n, rec in enumerate(records):
        match = [d for d in dsn if d.recipient.lower() == rec.recipient.lower()]
        if not match and len(dsn) == len(records):
            match = [dsn[n]]
        if match:
            rec.status = find_status(match[0].status)
            rec.remote_mta = match[0].remote_mta
            rec.reporting_mta = match[0].reporting_mta
            rec.action = match[0].action or rec.action
    return make_report(mail, NAME, records)
