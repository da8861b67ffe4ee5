"""BIGLOBE (NEC's Japanese ISP): a sendmail-like report with its own headings.

----- The following addresses had delivery problems -----
user@mxr.biglobe.ne.jp

----- Non-delivered information -----
The number of messages in recipient's mailbox exceeded the local limit.
"""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "biglobe"
ORDER = Band.PRODUCT_TEXT


def detect(mail: Mail) -> Report | None:
    if "biglobe" not in mail.from_lc or "----- non-delivered information -----" not in mail.text_lc:
        return None
    text = mail.report_text
    rcpts = [
        a
        for a in (
            find_address(x) for x in paragraph(after(text, "following addresses had").splitlines())
        )
        if a
    ]
    diagnostic = squeeze(
        " ".join(paragraph(after(text, "----- non-delivered information -----").splitlines()))
    )
    records = [DeliveryRecord(recipient=r, action="failed", diagnostic=diagnostic) for r in rcpts]
    if not records:
        return None
    return make_report(mail, NAME, records)
