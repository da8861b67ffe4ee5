"""Trend Micro InterScan Messaging Security Suite / InterScan MSS.

    Sent <<< RCPT TO:<user@example.co.jp>
    Received >>> 550 5.1.1 <user@example.co.jp>... user unknown

or, when InterScan gives up on a domain without a remote reply,

    Unable to deliver message to <user@example.jp> (and other recipients in the same domain).

The MIME boundary ("InterScan_NT_MIME_Boundary") or the sender's name says
InterScan wrote it; the returned message is a message/rfc822 part.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "trendmicro"
ORDER = Band.PRODUCT_TEXT

_SENT_RE = re.compile(
    r"^[^\S\n]*Sent <<<\s*(RCPT TO|MAIL FROM|DATA|EHLO|HELO)\b:?\s*<?([^\s<>]*)>?", re.I | re.M
)
_RECEIVED_RE = re.compile(r"^[^\S\n]*Received >>>\s*(.+)$", re.I | re.M)
_UNABLE_RE = re.compile(
    r"Unable to deliver message to <([^\s<>][^\s<>@]*+@[^\s<>]++)>([^\n]*)", re.I
)


def _is_interscan(mail: Mail) -> bool:
    # The raw header, not get_boundary(): a substring test is far cheaper.
    if "interscan" in str(mail.msg.get("Content-Type", "")).lower():
        return True
    return "interscan" in mail.from_lc


def detect(mail: Mail) -> Report | None:
    if not _is_interscan(mail):
        return None
    text = mail.report_text
    records: list[DeliveryRecord] = []
    for sent in _SENT_RE.finditer(text):
        reply = _RECEIVED_RE.search(text, sent.end())
        command = sent.group(1).split()[0].upper()
        addr = sent.group(2) if "@" in sent.group(2) else ""
        if not addr:
            continue
        records.append(
            DeliveryRecord(
                recipient=addr,
                action="failed",
                smtp_command=command,
                diagnostic=reply.group(1).strip() if reply else "",
            )
        )
    if not records:
        for m in _UNABLE_RE.finditer(text):
            records.append(
                DeliveryRecord(
                    recipient=m.group(1), action="failed", diagnostic=squeeze(m.group(0))
                )
            )
    if not records:
        return None
    return make_report(mail, NAME, records)
