"""A qmail-based ISP MTA (Sisimai's "X4"): qmail's layout with its own wording.

Your mail message to the following address(es) could not be delivered. This
is a permanent error. ...

<user@example.com>:
child status 100...The e-mail message could not be delivered because the user's mailfolder is full.

--- Below this line is a copy of the message.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph, split_blocks
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "x4"
ORDER = Band.PRODUCT_TEXT

_INTRO = "your mail message to the following address(es) could not be delivered"
_START_RE = re.compile(r"^\s*<([^\s<>][^\s<>@]*+@[^\s<>]++)>:\s*(.*)$")
_CHILD_RE = re.compile(r"^child status \d+\.\.\.\s*", re.I)


def detect(mail: Mail) -> Report | None:
    if _INTRO not in mail.text_lc[:500]:
        return None
    records = []
    for m, lines in split_blocks(mail.report_text, _START_RE):
        text = squeeze(" ".join(paragraph([m.group(2), *lines])))
        # "child status 100..." is the local delivery program's exit status.
        records.append(
            DeliveryRecord(
                recipient=m.group(1), action="failed", diagnostic=_CHILD_RE.sub("", text)
            )
        )
    if not records:
        return None
    return make_report(mail, NAME, records)
