"""An unidentified MTA (Sisimai's "X6"): "We had trouble delivering your message."

    1 error(s):

    SMTP Server <mx.example.org> rejected recipient <user@example.org> (Error
    following RCPT command). It responded as follows: [550 5.1.1 User unknown]

or "The following recipients returned permanent errors: user@example.org.
Reason: SMTP Server <192.0.2.1> refused to accept your message (DATA), with the
following error message: [554 5.4.6 Hop count exceeded]".
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "x6"
ORDER = Band.PRODUCT_TEXT

_INTRO = "we had trouble delivering your message. full details follow:"
_REJECTED_RE = re.compile(
    r"SMTP Server <([^<>\s]+)> rejected recipient <([^<>\s][^<>\s@]*+@[^<>\s]++)>"
    r" \(Error following (\w+) command\)"
    r"\.\s*It responded as follows:\s*\[(.*?)\]",
    re.I | re.S,
)
_PERMANENT_RE = re.compile(
    r"The following recipients returned (?:permanent|temporary) errors:\s*+(.+?)\.\s*Reason:\s*"
    r"SMTP Server <([^<>\s]+)> refused to accept your message \((\w+)\),"
    r" with the following error message:\s*\[(.*?)\]",
    re.I | re.S,
)


def detect(mail: Mail) -> Report | None:
    if _INTRO not in mail.text_lc[:300]:
        return None
    text = mail.report_text
    records: list[DeliveryRecord] = []
    for m in _REJECTED_RE.finditer(text):
        records.append(
            DeliveryRecord(
                recipient=m.group(2),
                remote_mta=m.group(1),
                smtp_command=m.group(3).upper(),
                diagnostic=squeeze(m.group(4)),
                action="failed",
            )
        )
    for m in _PERMANENT_RE.finditer(text):
        for addr in re.split(r"[,\s]+", m.group(1)):
            if "@" in addr:
                records.append(
                    DeliveryRecord(
                        recipient=addr,
                        remote_mta=m.group(2),
                        smtp_command=m.group(3).upper(),
                        diagnostic=squeeze(m.group(4)),
                    )
                )
    if not records:
        return None
    return make_report(mail, NAME, records)
