"""Barracuda Spam (& Virus) Firewall: a DSN after a fixed notice.

    Subject: **Message you sent blocked by our bulk email filter**

    Your message to: user@example.jp
    was blocked by our Spam & Virus Firewall. The email you sent with the
    following subject has NOT BEEN DELIVERED:

The delivery-status part holds the records; without one, the "Your message to:"
line names the recipient.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._via import read_with
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "barracuda"
ORDER = Band.GATEWAY

_RCPT_RE = re.compile(
    r"^[^\S\n]*Your message to:\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?[^\S\n]*$", re.I | re.M
)


def _is_barracuda(mail: Mail) -> bool:
    if "blocked by our bulk email filter" in mail.subject_lc:
        return True
    # Not the X-Barracuda-* headers: the appliance adds them to every message it
    # scans inbound, other MTAs' bounces included.
    low = mail.text_lc[:1000]
    return "your message to:" in low and ("spam firewall" in low or "virus firewall" in low)


def _text_records(mail: Mail) -> list[DeliveryRecord]:
    text = mail.report_text
    records = []
    for m in _RCPT_RE.finditer(text):
        reason = squeeze(" ".join(paragraph(text[m.end() :].splitlines())))
        records.append(DeliveryRecord(recipient=m.group(1), action="failed", diagnostic=reason))
    return records


def detect(mail: Mail) -> Report | None:
    if not _is_barracuda(mail):
        return None
    report = read_with(NAME, mail, (dsn.detect,))
    if report is not None:
        return report
    records = _text_records(mail)
    return make_report(mail, NAME, records) if records else None
