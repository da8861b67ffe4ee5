"""OpenSMTPD's MAILER-DAEMON notice ("Delivery status notification: error").

After "... for the following list of recipients:" each line is
``address: reason`` (the remote reply or smtpd's own words). Newer versions add
a terse delivery-status part (Status 5.0.0, no diagnostic) that the text completes.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, merge_records
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "opensmtpd"
ORDER = Band.MTA

_INTRO_RE = re.compile(r"following\s+list\s+of\s+recipients:", re.I)
_LINE_RE = re.compile(r"^\s*<?([^\s<>:][^\s<>:@]*+@[^\s<>:]++)>?:\s+(.+)$")
_DELAYED_RE = re.compile(r"message is delayed for more than", re.I)


def _is_opensmtpd(mail: Mail) -> bool:
    head = mail.text_lc[:1200]
    if "this is the mailer-daemon, please do not reply" in head:
        return True
    return "(opensmtpd)" in mail.received_lc and bool(_INTRO_RE.search(head))


def detect(mail: Mail) -> Report | None:
    if not _is_opensmtpd(mail):
        return None
    text = mail.report_text
    m = _INTRO_RE.search(text)
    records: list[DeliveryRecord] = []
    if m is not None:
        action = "delayed" if _DELAYED_RE.search(text[: m.start()]) else "failed"
        for line in text[m.end() :].split("\n")[1:]:
            if not line.strip():
                if records:
                    break
                continue
            hit = _LINE_RE.match(line)
            if hit is None:
                if records and line.startswith((" ", "\t")):
                    records[-1].diagnostic += " " + line.strip()
                    continue
                break
            records.append(
                DeliveryRecord(recipient=hit.group(1), diagnostic=hit.group(2), action=action)
            )
    if mail.status_groups:
        records = merge_records(dsn_records(mail), records)
    if not records:
        return None
    return make_report(mail, NAME, records)
