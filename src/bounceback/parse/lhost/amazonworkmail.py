"""Amazon WorkMail bounces.

WorkMail prints the RFC 3464 fields as text under "Technical report:" in a
text/plain part (no message/delivery-status part), after a list of the
recipients; the returned message is attached as message/rfc822.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail, parse_fields
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address

NAME = "amazonworkmail"
ORDER = Band.PROVIDER - 5  # before amazonses

_LIST_RE = re.compile(
    r"an error occurred while trying to deliver the mail to the following recipients:",
    re.I,
)
_REPORT_RE = re.compile(r"^[ \t]*technical report:[ \t]*$", re.I | re.M)


def _records(mail: Mail) -> list[DeliveryRecord]:
    records = [r for r in dsn.records(mail) if r.recipient]
    if records:
        return records
    text = mail.report_text
    m = _REPORT_RE.search(text)
    if m:
        flat = [f for group in parse_fields(text[m.end() :]) for f in group]
        records = [r for r in dsn.records_from_fields(flat) if r.recipient]
        if records:
            return records
    m = _LIST_RE.search(text)
    if m is None:
        return []
    out: list[DeliveryRecord] = []
    for line in text[m.end() :].lstrip("\n").split("\n"):
        addr = find_address(line)
        if not addr or line.strip() != addr:
            break
        out.append(DeliveryRecord(recipient=addr, action="failed"))
    return out


def detect(mail: Mail) -> Report | None:
    if "amazon workmail" not in mail.header("X-Mailer").lower():
        return None
    records = _records(mail)
    if not records:
        return None
    return make_report(mail, NAME, records)
