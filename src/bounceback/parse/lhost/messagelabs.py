"""Symantec Email Security.cloud (MessageLabs) bounces.

    This is the mail delivery agent at messagelabs.com.
    I was unable to deliver your message to the following addresses:

    user@example.org

    Reason: 550 user@example.org... No such user

A delivery-status part comes along, sometimes without any recipient field;
the text then names the recipients and the reason.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "messagelabs"
ORDER = Band.GATEWAY

_LIST_RE = re.compile(r"i was unable to deliver your message to the following addresses:", re.I)
_REASON_RE = re.compile(r"^[ \t]*reason:[ \t]*", re.I | re.M)


def _from_messagelabs(mail: Mail) -> bool:
    if "messagelabs.com" in mail.from_lc:
        return True
    return "mail delivery agent at symantec email security.cloud" in mail.text_lc


def _reason(text: str) -> str:
    m = _REASON_RE.search(text)
    if m is None:
        return ""
    return squeeze(text[m.end() :].split("\n\n", 1)[0])


def _reporting_mta(mail: Mail) -> str:
    """The recipient-less delivery-status fields still name the reporting MTA."""
    for group in mail.status_groups:
        for name, value in group:
            if name.lower() == "reporting-mta":
                return value
    return ""


def detect(mail: Mail) -> Report | None:
    if not _from_messagelabs(mail):
        return None
    text = mail.report_text
    listed = _LIST_RE.search(text)
    if listed is None:
        return None
    reason = _reason(text[listed.end() :])
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        for line in text[listed.end() :].lstrip("\n").split("\n"):
            addr = find_address(line)
            if not addr or line.strip().strip("<>") != addr:
                break
            records.append(DeliveryRecord(recipient=addr, action="failed"))
        reporting = _reporting_mta(mail)
        for rec in records:
            rec.reporting_mta = reporting
    if not records:
        return None
    for rec in records:
        if not rec.diagnostic:
            rec.diagnostic = reason
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
