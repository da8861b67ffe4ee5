"""Yahoo!'s older qmail-derived MTA (Yahoo! Japan, Yahoo!-hosted domains; Sisimai's "X2").

    Message from yahoo.co.jp.
    Unable to deliver message to the following address(es).

    <user@example.com>:
    This user doesn't have a example.com account (user@example.com) [0]

    --- Original message follows.

One "<address>:" line per recipient with the reason under it, up to a blank
line; qmail's own words ("I'm not going to try again; this message has been in
the queue too long.") mark a delivery that timed out.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph, split_blocks
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "yahoolegacy"
ORDER = Band.PRODUCT_TEXT

_INTRO = "unable to deliver message to the following address(es)."
_GAVE_UP = "this message has been in the queue too long"
_START_RE = re.compile(r"^\s*<([^\s<>][^\s<>@]*+@[^\s<>]++)>:\s*(.*)$")


def detect(mail: Mail) -> Report | None:
    head = mail.text_lc[:600]
    if _INTRO not in head or not head.lstrip().startswith("message from "):
        return None
    records = []
    for m, lines in split_blocks(mail.report_text, _START_RE):
        text = squeeze(" ".join(paragraph([m.group(2), *lines])))
        rec = DeliveryRecord(recipient=m.group(1), action="failed", diagnostic=text)
        if _GAVE_UP in text.lower():
            # qmail's fixed words for a message that expired in the queue.
            rec.reason_hint = "expired"
        records.append(rec)
    if not records:
        return None
    return make_report(mail, NAME, records)
