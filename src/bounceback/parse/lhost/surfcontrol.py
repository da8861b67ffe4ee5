"""SurfControl E-mail Filter (later Websense): a DSN after a transcript.

    X-Mailer: SurfControl E-mail Filter
    X-SEF-Processed: 0_0_0_000__2010_04_29_23_34_45

    Your message could not be sent.
    A transcript of the attempts to send the message follows.
    Addressed To: user@example.com
    Failed to send to identified host,
    user@example.com: [192.0.2.5], 550 user@example.com... No such user
    --- Message non-deliverable.

The delivery-status part holds the records; without one, the transcript does.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.lhost._via import read_with
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "surfcontrol"
ORDER = Band.GATEWAY

# "user@example.com: [192.0.2.5], 550 user@example.com... No such user"
_FAILED_RE = re.compile(
    r"^[^\S\n]*<?([^\s<>:][^\s<>:@]*+@[^\s<>:]++)>?:\s*\[([^\]]*)\],\s*(.+)$", re.M
)


def _text_records(text: str) -> list[DeliveryRecord]:
    return [
        DeliveryRecord(
            recipient=m.group(1), action="failed", remote_mta=m.group(2), diagnostic=m.group(3)
        )
        for m in _FAILED_RE.finditer(text)
    ]


def _is_surfcontrol(mail: Mail) -> bool:
    # The filter signs its own notices (X-Mailer); its X-SEF-* fields alone are
    # on every message it passes, other MTAs' bounces included.
    if "surfcontrol" in mail.header("X-Mailer").lower():
        return True
    return "\nx-sef-" in mail.header_names_lc and "transcript of the attempts" in mail.text_lc


def detect(mail: Mail) -> Report | None:
    if not _is_surfcontrol(mail):
        return None
    transcript = _text_records(mail.report_text)
    report = read_with(NAME, mail, (dsn.detect,))
    if report is None:
        return make_report(mail, NAME, transcript) if transcript else None
    # The DSN names no remote host; the transcript does.
    hosts = {rec.recipient.lower(): rec.remote_mta for rec in transcript}
    for rec in report.records:
        if not rec.remote_mta:
            rec.remote_mta = hosts.get(rec.recipient.lower(), "")
    return report
