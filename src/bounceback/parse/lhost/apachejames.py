"""Apache James: the bounce its Bounce/DSNBounce mailets write.

"Error message below:" is followed by the server's message; "Message details:"
lists the returned message's Subject, MAIL FROM, RCPT TO, From, To, ... as
indented ``Name: value`` lines. The RCPT TO line names the failed recipients.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_addresses

NAME = "apachejames"
ORDER = Band.MTA

_ERROR_RE = re.compile(r"^[^\S\n]*error message below:[^\S\n]*$", re.I | re.M)
_DETAILS_RE = re.compile(r"^[^\S\n]*message details:[^\S\n]*$", re.I | re.M)
_DETAIL_LINE_RE = re.compile(r"^\s+([A-Za-z][A-Za-z ()]*?):\s*(.*)$")


def detect(mail: Mail) -> Report | None:
    if "message details:" not in mail.text_lc:
        return None
    text = mail.text
    details = _DETAILS_RE.search(text)
    if details is None:
        return None
    fields: dict[str, str] = {}
    for line in text[details.end() :].split("\n")[1:]:
        m = _DETAIL_LINE_RE.match(line)
        if m is None:
            if fields:
                break
            continue
        fields.setdefault(m.group(1).strip().lower(), m.group(2).strip())
    recipients = find_addresses(fields.get("rcpt to", ""))
    if not recipients:
        return None
    error = _ERROR_RE.search(text)
    diagnostic = ""
    if error is not None:
        diagnostic = " ".join(paragraph(text[error.end() :].split("\n")))
    first = text[: error.start()].strip().split("\n")[0] if error is not None else ""
    if first and first.lower() not in diagnostic.lower():
        diagnostic = f"{first} {diagnostic}".strip()
    records = [
        DeliveryRecord(recipient=r, diagnostic=diagnostic, action="failed") for r in recipients
    ]
    report = make_report(mail, NAME, records)
    original = report.original
    original.subject = original.subject or fields.get("subject", "")
    original.from_ = original.from_ or fields.get("from", "")
    original.to = original.to or fields.get("to", "")
    return report
