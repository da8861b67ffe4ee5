"""TransWARE Active!hunter: a sendmail-style report from a Japanese mail filter.

    ----- The following addresses had permanent fatal errors -----

    >>> user@example.org <user@example.org>

    ----- Transcript of session follows -----
    550 sorry, no mailbox here by that name (#5.1.1 - chkusr)

The MIME boundary names the product ("----=_Active!Hunter_...").
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import join_reply_lines

NAME = "activehunter"
ORDER = Band.PRODUCT_TEXT

_RCPT_RE = re.compile(r"^[^\S\n]*>>>\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?(?:\s|$)", re.M)


def detect(mail: Mail) -> Report | None:
    # The raw header, not get_boundary(): a substring test is far cheaper.
    if "active!hunter" not in str(mail.msg.get("Content-Type", "")).lower():
        return None
    text = mail.report_text
    rcpts = _RCPT_RE.findall(after(text, "following addresses had", "transcript of session"))
    if not rcpts:
        return None
    transcript = join_reply_lines(
        "\n".join(paragraph(after(text, "transcript of session follows").splitlines()))
    )
    records = [DeliveryRecord(recipient=r, action="failed", diagnostic=transcript) for r in rcpts]
    return make_report(mail, NAME, records)
