"""au one net (KDDI, dion.ne.jp): a Japanese notice over an English template.

Your mail sent on: Thu, 29 Apr 2013 23:45:22 +0900
     Could not be delivered to: <user@x.dion.ne.jp>
     As their mailbox is full.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "kddi"
ORDER = Band.PRODUCT_TEXT

_RCPT_RE = re.compile(
    r"^[^\S\n]*Could not be delivered to:\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?[^\S\n]*$", re.I | re.M
)


def detect(mail: Mail) -> Report | None:
    if "could not be delivered to:" not in mail.text_lc or not (
        "dion.ne.jp" in mail.from_lc or "au one net" in mail.text_lc or "kddi" in mail.received_lc
    ):
        return None
    text = mail.report_text
    records: list[DeliveryRecord] = []
    for m in _RCPT_RE.finditer(text):
        reason = squeeze(" ".join(paragraph(text[m.end() :].splitlines())))
        records.append(DeliveryRecord(recipient=m.group(1), action="failed", diagnostic=reason))
    if not records:
        return None
    return make_report(mail, NAME, records)
