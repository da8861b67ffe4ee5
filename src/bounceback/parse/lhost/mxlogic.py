"""McAfee SaaS Email Protection (formerly MX Logic): an Exim-derived bounce.

    A message that you have sent could not be delivered to one or more
    recipients.  This is a permanent error.  The following address failed:

      <user@example.co.jp>: 550 5.1.1 <user@example.co.jp>: Recipient address
    rejected: User unknown in local recipient table

    Included is a copy of the message header:

Unlike Exim, the address and the remote reply share a line; the header copy
follows "Included is a copy of the message header". The MTA names itself
"mxl_mta" in its Received headers.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import after, set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "mxlogic"
ORDER = Band.PRODUCT_TEXT

_RCPT_RE = re.compile(r"^\s*<([^\s<>][^\s<>@]*+@[^\s<>]++)>:\s*(.*)$")
_HEADER_COPY = "included is a copy of the message header"
_INTRO_RE = re.compile(r"following address(?:\(es\)|es)? failed:", re.I)


def _is_mxlogic(mail: Mail) -> bool:
    return (
        "mxl_mta-" in mail.received_lc
        or "mxlogic" in mail.from_lc
        or ("mxl_mta-" in mail.text_lc and _HEADER_COPY in mail.text_lc)
    )


def detect(mail: Mail) -> Report | None:
    if not _is_mxlogic(mail):
        return None
    text = mail.text
    intro = _INTRO_RE.search(text)
    if intro is None:
        return None
    body = text[intro.end() :]
    cut = body.lower().find(_HEADER_COPY)
    if cut >= 0:
        set_inline_original(mail, after(body[cut:], _HEADER_COPY).lstrip("-\n"))
        body = body[:cut]
    records: list[DeliveryRecord] = []
    lines: list[str] = []
    for line in body.splitlines():
        m = _RCPT_RE.match(line)
        if m:
            if records:
                records[-1].diagnostic = squeeze(" ".join(lines))
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
            lines = [m.group(2)]
        elif records and line.strip():
            lines.append(line)
    if not records:
        return None
    records[-1].diagnostic = squeeze(" ".join(lines))
    return make_report(mail, NAME, records)
