"""Yahoo! Mail (and AOL, now on the same system): the "Failure Notice" bounce.

    Sorry, we were unable to deliver your message to the following address.

    <user@example.org>:
    Remote host said: 550 5.1.1 <user@example.org>... User Unknown [RCPT_TO]

    --- Below this line is a copy of the message.

A qmail descendant: one "<address>:" line per recipient, the remote server's
reply under it, the SMTP command in brackets at the end.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "yahoo"
ORDER = Band.GATEWAY

_INTRO = "sorry, we were unable to deliver your message to the following address"
_RECIPIENT_RE = re.compile(r"^[ \t]*<([^<>\s][^<>\s@]*+@[^<>\s]++)>:[ \t]*$", re.M)
_COMMAND_RE = re.compile(r"\[(RCPT_TO|MAIL_FROM|DATA|EHLO|HELO|CONNECT|BDAT)\]\s*$", re.I)
_REPLY_RE = re.compile(r"^(?:remote host said:\s*)?([245]\d\d)(?![\d.])")


def _looks_like_yahoo(mail: Mail) -> bool:
    sender = mail.from_lc
    if "failure notice" not in mail.subject_lc and "yahoo" not in sender and "aol" not in sender:
        return False
    return _INTRO in mail.text_lc


def detect(mail: Mail) -> Report | None:
    if not _looks_like_yahoo(mail):
        return None
    text = mail.report_text
    start = text.lower().find(_INTRO)
    body = text[start:] if start >= 0 else text
    found = list(_RECIPIENT_RE.finditer(body))
    records: list[DeliveryRecord] = []
    for n, m in enumerate(found):
        end = found[n + 1].start() if n + 1 < len(found) else len(body)
        diagnostic = squeeze(body[m.end() : end])
        rec = DeliveryRecord(recipient=find_address(m.group(1)), action="failed")
        command = _COMMAND_RE.search(diagnostic)
        if command:
            rec.smtp_command = command.group(1).split("_")[0].upper()
            diagnostic = diagnostic[: command.start()].rstrip()
        reply = _REPLY_RE.match(diagnostic.lower())
        if reply:
            rec.reply_code = reply.group(1)
        if diagnostic.lower().startswith("remote host said:"):
            diagnostic = diagnostic[len("remote host said:") :].strip()
        rec.diagnostic = diagnostic
        records.append(rec)
    if not records:
        return None
    return make_report(mail, NAME, records)
