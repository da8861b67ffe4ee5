"""An unidentified MTA's "NOTICE: Delivery Failure." (grouped with Sisimai's "X2").

    NOTICE: Delivery Failure.
    This Delivery Status Notification is sent from MTA...
    ------------------------------------------------------

    Delivery failed: user@example.co.jp
    192.0.2.1 failed after I sent the message.
    Remote host said[Response Message]: 554 5.4.14 Hop count exceeded - possible mail loop
    STEP: DATA SEND

The qmail-like "failed after I sent the message" names the remote host, "STEP:"
the SMTP phase.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "deliveryfailure"
ORDER = Band.PRODUCT_TEXT

_INTRO = "this delivery status notification is sent from mta"
_RCPT_RE = re.compile(r"^\s*Delivery failed:\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?\s*$", re.I)
_SAID_RE = re.compile(r"^\s*Remote host said(?:\[[^\]]*\])?:\s*(.*)$", re.I)
_HOST_RE = re.compile(
    r"^\s*(\S+) (?:failed after I sent the message|does not like recipient)", re.I
)
_STEP_RE = re.compile(r"^\s*STEP:\s*(RCPT|MAIL|DATA|EHLO|HELO|CONNECT)", re.I)


def detect(mail: Mail) -> Report | None:
    if _INTRO not in mail.text_lc[:600]:
        return None
    records: list[DeliveryRecord] = []
    for line in mail.report_text.splitlines():
        m = _RCPT_RE.match(line)
        if m:
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
            continue
        if not records:
            continue
        rec = records[-1]
        if said := _SAID_RE.match(line):
            rec.diagnostic = squeeze(said.group(1))
        elif host := _HOST_RE.match(line):
            rec.remote_mta = host.group(1)
        elif step := _STEP_RE.match(line):
            rec.smtp_command = step.group(1).upper()
    if not records:
        return None
    return make_report(mail, NAME, records)
