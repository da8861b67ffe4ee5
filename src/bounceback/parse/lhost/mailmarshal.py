"""Trustwave (Marshal) MailMarshal SMTP: "Could not be delivered because of".

    Your message:
       From:    sender@example.com
       Subject: ...

    Could not be delivered because of

    550 5.1.1 User unknown

    The following recipients were affected:
        user@example.com

An "Additional Information" block lists Remote-MTA and Reporting-MTA.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, join_reply_lines

NAME = "mailmarshal"
ORDER = Band.PRODUCT_TEXT

_AFFECTED = "the following recipients were affected"
_REMOTE_RE = re.compile(r"^[^\S\n]*Remote-MTA:\s*<?([^<>\s]+)>?", re.I | re.M)
_REPORTING_RE = re.compile(r"^[^\S\n]*Reporting-MTA:\s*<?([^<>\s]+)>?", re.I | re.M)


def detect(mail: Mail) -> Report | None:
    low = mail.text_lc
    if _AFFECTED not in low or "could not be delivered because of" not in low:
        return None
    text = mail.report_text
    diagnostic = join_reply_lines(
        "\n".join(paragraph(after(text, "could not be delivered because of").splitlines()))
    )
    remote = _REMOTE_RE.search(text)
    reporting = _REPORTING_RE.search(text)
    records = [
        DeliveryRecord(
            recipient=addr,
            action="failed",
            diagnostic=diagnostic,
            remote_mta=remote.group(1) if remote else "",
            reporting_mta=reporting.group(1) if reporting else "",
        )
        for addr in (find_address(line) for line in paragraph(after(text, _AFFECTED).splitlines()))
        if addr
    ]
    if not records:
        return None
    return make_report(mail, NAME, records)
