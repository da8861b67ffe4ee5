"""An unidentified Japanese MTA (Sisimai's "X1").

Its report heads the failed addresses with "---The following addresses had
delivery errors---":

    The original message was received at Thu, 29 Apr 2010 23:34:45 +0900 (JST)
    from sender@example.jp

    ---The following addresses had delivery errors---

    user@example.co.jp [User unknown]

Each line is an address and the reason in brackets.
"""

from __future__ import annotations

import re
from email.message import Message

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "x1"
ORDER = Band.PRODUCT_TEXT

_MARKER = "---the following addresses had delivery errors---"
_LINE_RE = re.compile(r"^\s*<?([^\s<>\[\]@]++@[^\s<>\[\]]++)>?\s+\[(.+)\]\s*$")


def detect(mail: Mail) -> Report | None:
    if _MARKER not in mail.text_lc[:1000]:
        return None
    records = []
    for line in paragraph(after(mail.report_text, _MARKER).splitlines()):
        m = _LINE_RE.match(line)
        if m:
            records.append(
                DeliveryRecord(recipient=m.group(1), action="failed", diagnostic=m.group(2).strip())
            )
    if not records:
        return None
    if mail.original is None:
        # The returned message is a second MIME part whose headers are its own.
        parts = mail.msg.get_payload() if mail.msg.is_multipart() else []
        for part in parts[1:] if isinstance(parts, list) else []:
            if isinstance(part, Message) and (part.get("Message-Id") or part.get("From")):
                mail.set_original(part)
                break
    return make_report(mail, NAME, records)
