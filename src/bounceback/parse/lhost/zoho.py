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
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "zoho"
ORDER = Band.PRODUCT_TEXT

# "address [Zoho's words], ERROR_CODE :550, ERROR_CODE :remote text"; newer
# servers write "ERROR CODE" and may join the parts with " - ".
_LINE_RE = re.compile(
    r"^[^\S\n]*<?([^\s<>,][^\s<>,@]*+@[^\s<>,]++)>?[,\s]++(.*?\bERROR[ _]CODE\s*:.*)$", re.M | re.I
)
_CODE_RE = re.compile(r"ERROR[ _]CODE\s*:\s*", re.I)
_REPLY_RE = re.compile(r"^([245]\d\d)\b")


def detect(mail: Mail) -> Report | None:
    if "zoho" not in mail.from_lc:
        return None
    low = mail.text_lc
    if "error_code" not in low and "error code" not in low:
        return None
    text = mail.text
    records: list[DeliveryRecord] = []
    last = 0
    for m in _LINE_RE.finditer(text):
        pieces = [p.strip(" ,-") for p in _CODE_RE.split(m.group(2))]
        words, values = pieces[0], [p for p in pieces[1:] if p]
        reply_m = _REPLY_RE.match(values[0]) if values else None
        reply = reply_m.group(1) if reply_m else ""
        detail = " ".join(values)
        # Zoho's own words ("Invalid Address") only when the remote said no more.
        diagnostic = squeeze(detail if detail and detail != reply else f"{reply} {words}")
        records.append(
            DeliveryRecord(recipient=m.group(1), diagnostic=diagnostic, reply_code=reply)
        )
        last = m.end()
    if not records:
        return None
    set_inline_original(mail, text[last:])
    if "permanent error" in low[:1000]:
        # A final notice: nothing is retried, even after a 4xx reply.
        for rec in records:
            rec.action = "failed"
    return make_report(mail, NAME, records)
