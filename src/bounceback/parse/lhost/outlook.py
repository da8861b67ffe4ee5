"""Outlook.com (Hotmail, Live, MSN) delivery status notifications.

RFC 3464 from postmaster@(mail.)hotmail.com and its siblings. A delay or a
connection failure often comes without Diagnostic-Code; the sentence above
the indented recipient list is then the only explanation:

    Unable to deliver message to the following recipients, due to being
    unable to connect successfully to the destination mail server.
           user@example.com
"""

from __future__ import annotations

import re

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address

NAME = "outlook"
ORDER = Band.GATEWAY

_SENDER_RE = re.compile(r"postmaster@(?:[\w-]+\.)*(?:hotmail|outlook|live|msn)\.", re.I)
_BOILERPLATE_RE = re.compile(
    r"automatically generated|warning message only|do not need to resend", re.I
)


def _explanation(text: str) -> str:
    """The sentence right above the first indented address line."""
    previous = ""
    for line in text.split("\n"):
        if line[:1] in (" ", "\t") and find_address(line) == line.strip():
            return previous
        if line.strip() and not _BOILERPLATE_RE.search(line):
            previous = line.strip()
    return ""


def detect(mail: Mail) -> Report | None:
    if not mail.status_groups or not _SENDER_RE.search(mail.from_):
        return None
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        return None
    if any(not r.diagnostic for r in records):
        explanation = _explanation(mail.report_text)
        for rec in records:
            rec.diagnostic = rec.diagnostic or explanation
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
