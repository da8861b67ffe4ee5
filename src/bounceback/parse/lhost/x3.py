"""An unidentified MTA (Sisimai's "X3"): "Delivery Status Notification" in a framed text.

    This is an automatically generated Delivery Status Notification.
    Delivery to the following recipients failed permanently:
       * user@example.com
    ====================================================================
                                 Technical details:
    SMTP:RCPT host 192.0.2.8: 553 5.3.0 <user@example.com>... No such user here

"Delivery to the following recipients was aborted after N hour(s)" means the
message expired in the queue. (The MTA misspells "Delevery" in some versions.)
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.lhost._textbounce import after
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_reply_code, find_status, squeeze

NAME = "x3"
ORDER = Band.PRODUCT_TEXT

_INTRO = "this is an automatically generated delivery status notification"
_LIST_RE = re.compile(
    r"^[^\S\n]*del[ei]very to the following recipients (failed permanently|was aborted)",
    re.I | re.M,
)
_ITEM_RE = re.compile(r"^\s*\*\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?\s*$")
_SMTP_RE = re.compile(r"^SMTP:(RCPT|MAIL|DATA|EHLO|HELO|CONNECT)\s+host\s+(\S+?):\s*", re.I)


def detect(mail: Mail) -> Report | None:
    # Gmail and Exchange use the same first sentence; X3's bulleted list ("* address")
    # below tells it apart, and without one nothing is claimed.
    if _INTRO not in mail.text_lc[:800]:
        return None
    text = mail.report_text
    listing = _LIST_RE.search(text)
    if listing is None:
        return None
    rcpts = [
        m.group(1)
        for m in map(_ITEM_RE.match, paragraph(text[listing.end() :].splitlines()[1:]))
        if m
    ]
    details = squeeze(" ".join(paragraph(after(text, "technical details:").splitlines())))
    command = remote = ""
    m = _SMTP_RE.match(details)
    if m:
        command, remote, details = m.group(1).upper(), m.group(2), details[m.end() :]
    records = [
        DeliveryRecord(
            recipient=r,
            action="failed",
            diagnostic=details,
            smtp_command=command,
            remote_mta=remote,
        )
        for r in rcpts
    ]
    dsn = {r.recipient.lower(): r for r in dsn_records(mail)}
    for rec in records:
        found = dsn.get(rec.recipient.lower())
        if found is not None:
            rec.diagnostic = rec.diagnostic or found.diagnostic
            # The remote server's own code, when the text quotes one, is the truer one.
            rec.status = "" if find_status(rec.diagnostic) else found.status
            rec.remote_mta = rec.remote_mta or found.remote_mta
    if listing.group(1).lower() == "was aborted":
        for rec in records:
            # Aborted without a remote reply: the queue lifetime ran out.
            if not find_reply_code(rec.diagnostic) and not find_status(rec.diagnostic):
                rec.reason_hint = "expired"
    if not records:
        return None
    return make_report(mail, NAME, records)
