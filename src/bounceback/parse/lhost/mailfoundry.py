"""MailFoundry: "Unable to deliver message to: <address>".

Unable to deliver message to: <user@example.org>
Delivery failed for the following reason:
Server mx.example.org[192.0.2.1] failed with: 550 <user@example.org> No such user here

This has been a permanent failure.  No further delivery attempts will be made.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "mailfoundry"
ORDER = Band.PRODUCT_TEXT

_RCPT_RE = re.compile(
    r"^[^\S\n]*Unable to deliver message to:\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?[^\S\n]*$",
    re.I | re.M,
)
_SERVER_RE = re.compile(
    r"^(?:Server\s+)?([A-Za-z0-9][A-Za-z0-9.\-]*)\[[0-9A-Fa-f.:]+\]\s+"
    r"(?:failed with|responded with failure):\s*",
    re.I,
)


def detect(mail: Mail) -> Report | None:
    if "delivery failed for the following reason:" not in mail.text_lc:
        return None
    text = mail.report_text
    rcpts = _RCPT_RE.findall(text)
    if not rcpts:
        return None
    reason = squeeze(
        " ".join(paragraph(after(text, "delivery failed for the following reason:").splitlines()))
    )
    remote = ""
    m = _SERVER_RE.match(reason)
    if m:
        remote, reason = m.group(1), reason[m.end() :]
    action = "delayed" if "temporary failure" in mail.text_lc else "failed"
    records = [
        DeliveryRecord(recipient=r, action=action, diagnostic=reason, remote_mta=remote)
        for r in rcpts
    ]
    return make_report(mail, NAME, records)
