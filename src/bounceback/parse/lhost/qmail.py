"""qmail (and netqmail, indimail, vpopmail): qmail-send's plain-text bounce.

Each failed recipient is a line ``<address>:`` followed by qmail-remote's or the
local delivery's account of the failure, the block ending at a blank line; the
returned message follows "--- Below this line is a copy of the message.".
"""

from __future__ import annotations

import re

from bounceback.model import Report
from bounceback.parse.base import make_report, merge_records, paragraph, split_blocks, text_record
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "qmail"
ORDER = Band.MTA

_START_RE = re.compile(r"^<([^<>\s][^<>\s@]*+@[^<>\s]++)>:\s*(.*)$")
_GIVING_UP_RE = re.compile(r"^\s*Giving up on \S+\.?\s*$", re.I)
# "qmail-send" also names the program in the translated greetings ("le programme
# qmail-send", "das qmail-send Programm", "el programa qmail-send").
_MARKERS = ("qmail-send", "this is the qmail-", "qmail-remote")
# qmail-remote's own words say at which step the remote host refused.
_COMMANDS = (
    ("does not like recipient", "RCPT"),
    ("sender was rejected", "MAIL"),
    ("failed after i sent the message", "DATA"),
    ("failed on data command", "DATA"),
    ("my name was rejected", "HELO"),
    ("greeting failed", "CONNECT"),
)


def _is_qmail(mail: Mail) -> bool:
    text = mail.text_lc[:2000]
    if any(marker in text for marker in _MARKERS):
        return True
    if "i wasn't able to deliver your message to the following addresses" in text:
        return True
    # qmail-send stamps every bounce it writes "Received: (qmail N invoked for
    # bounce)", whatever wording (often translated) the site gave its text.
    return "invoked for bounce)" in mail.received_lc


def detect(mail: Mail) -> Report | None:
    if not _is_qmail(mail):
        return None
    records = []
    for m, lines in split_blocks(mail.report_text, _START_RE):
        # "Giving up on <host>." only repeats the host; left in, it reads like an expiry.
        body = [ln for ln in paragraph([m.group(2), *lines]) if not _GIVING_UP_RE.match(ln)]
        rec = text_record(m.group(1), body, action="failed")
        low = rec.diagnostic.lower()
        for phrase, command in _COMMANDS:
            if phrase in low:
                rec.smtp_command = command
                break
        records.append(rec)
    if mail.status_groups:
        records = merge_records(dsn_records(mail), records)
    if not records:
        return None
    return make_report(mail, NAME, records)
