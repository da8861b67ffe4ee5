"""Ipswitch IMail Server (SMTP32): "<reason>: <address>" lines.

    Unknown user: user@example.com
    User mailbox exceeds allowed size: user@example.co.jp

    Original message follows.

IMail names itself in the X-Mailer header ("<SMTP32 v8.22>"). A remote
server's refusal is printed as "undeliverable to <address>" followed by "Body
of message generated response:" and the SMTP reply.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import join_reply_lines

NAME = "imailserver"
ORDER = Band.PRODUCT_TEXT

# The reason has at least two words, so header lines such as "To: x@y" are skipped.
_LINE_RE = re.compile(r"^\s*([A-Za-z][^\s:]*\s.*?):\s+<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?\s*$")
_UNDELIVERABLE_RE = re.compile(
    r"^[^\S\n]*undeliverable to\s+<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?[^\S\n]*$", re.I | re.M
)
# The line form is IMail's own verdict on a mailbox it holds, in its fixed wording:
# stated reasons, not a remote reply that context could reinterpret.
_OWN_REASONS = {
    "unknown user": "userunknown",
    "invalid final delivery userid": "userunknown",
    "user mailbox exceeds allowed size": "mailboxfull",
}


def detect(mail: Mail) -> Report | None:
    if not mail.header("X-Mailer").lstrip().upper().startswith("<SMTP32 "):
        return None
    if "postmaster" not in mail.from_lc and "undeliverable" not in mail.subject_lc:
        return None  # a message IMail relayed, not one it wrote
    text = mail.report_text
    records: list[DeliveryRecord] = []
    response = join_reply_lines(
        "\n".join(paragraph(after(text, "body of message generated response:").splitlines()))
    )
    for m in _UNDELIVERABLE_RE.finditer(text):
        records.append(DeliveryRecord(recipient=m.group(1), action="failed", diagnostic=response))
    if not records:
        for line in text.splitlines():
            line_m = _LINE_RE.match(line)
            if line_m:
                reason = line_m.group(1).strip()
                records.append(
                    DeliveryRecord(
                        recipient=line_m.group(2),
                        action="failed",
                        diagnostic=reason,
                        reason_hint=_OWN_REASONS.get(reason.lower(), ""),
                    )
                )
    if not records:
        return None
    return make_report(mail, NAME, records)
