"""DragonFly Mail Agent (dma): "There was an error delivering your mail to <x>."

The sentence names the recipient; the next paragraph is the remote host's reply
("mx [192.0.2.1] did not like our RCPT TO:" and the SMTP response) or dma's own
reason, and "Message headers follow." introduces the returned headers.
"""

from __future__ import annotations

import re

from bounceback.model import Report
from bounceback.parse.base import make_report, paragraph, split_blocks, text_record
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "dragonfly"
ORDER = Band.MTA

_START_RE = re.compile(
    r"^\s*There was an error delivering your mail to <?([^<>\s][^<>\s@]*+@[^<>\s]+?)>?\.?\s*$"
)
_COMMAND_RE = re.compile(r"did not like our (?:final )?(RCPT TO|MAIL FROM|DATA|EHLO|HELO)", re.I)


def detect(mail: Mail) -> Report | None:
    if "dragonfly mail agent" not in mail.text_lc[:500] and "dragonfly mail agent" not in (
        mail.received_lc
    ):
        return None
    records = []
    for m, lines in split_blocks(mail.report_text, _START_RE):
        rec = text_record(m.group(1), paragraph(lines), action="failed")
        cmd = _COMMAND_RE.search(rec.diagnostic)
        if cmd:
            rec.smtp_command = cmd.group(1).split()[0].upper()
        records.append(rec)
    if not records:
        return None
    return make_report(mail, NAME, records)
