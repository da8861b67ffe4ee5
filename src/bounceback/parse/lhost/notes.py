"""Lotus Notes' SMTP MTA (R4/R5 era): "------- Failure Reasons --------".

    ------- Failure Reasons  --------

    User  not listed in public Name & Address Book
    user@example.com

    ------- Returned Message --------

Each reason line is followed by the address it applies to; the returned
message follows its marker line.
"""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import after, set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import ADDRESS_RE, squeeze

NAME = "notes"
ORDER = Band.PRODUCT_TEXT

_START = "------- failure reasons"
_RETURNED = "------- returned message"


def detect(mail: Mail) -> Report | None:
    if _START not in mail.text_lc[:2000]:
        return None
    text = mail.text
    body = after(text, _START, _RETURNED)
    records: list[DeliveryRecord] = []
    reason: list[str] = []
    for line in body.splitlines():
        line = line.strip()
        if not line:
            continue
        m = ADDRESS_RE.fullmatch(line.strip("<>"))
        if m:
            records.append(
                DeliveryRecord(
                    recipient=m.group(0), action="failed", diagnostic=squeeze(" ".join(reason))
                )
            )
            reason = []
        else:
            reason.append(line)
    if not records:
        return None
    set_inline_original(mail, after(text, _RETURNED))
    return make_report(mail, NAME, records)
