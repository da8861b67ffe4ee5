"""Zoho Mail: one line per recipient with the remote reply code and text.

    user@example.co.jp Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1 <user@example.co.jp>...
    User Unknown   (all on one line)

The returned message's headers follow after a blank line.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.text import squeeze

NAME = "zoho"
ORDER = 40

_LINE_RE = re.compile(
    r"^\s*<?([^\s<>]+@[^\s<>]+?)>?\s+(.*?),\s*ERROR_CODE\s*:\s*(\d{3})?\s*,\s*ERROR_CODE\s*:\s*,?\s*(.*)$",
    re.M,
)


def detect(mail: Mail) -> Report | None:
    if "zoho" not in mail.from_lc or "error_code :" not in mail.text_lc:
        return None
    text = mail.text
    records: list[DeliveryRecord] = []
    last = 0
    for m in _LINE_RE.finditer(text):
        reply, detail = m.group(3) or "", m.group(4).strip()
        diagnostic = squeeze(f"{reply} {detail}") if detail else squeeze(f"{reply} {m.group(2)}")
        # Zoho's own words ("Invalid Address") when the remote said no more.
        records.append(
            DeliveryRecord(recipient=m.group(1), diagnostic=diagnostic, reply_code=reply)
        )
        last = m.end()
    if not records:
        return None
    set_inline_original(mail, text[last:])
    if "permanent error" in mail.text_lc[:1000]:
        for rec in records:
            rec.action = "failed" if not rec.reply_code.startswith("4") else ""
    return make_report(mail, NAME, records)
