"""Courier MTA: "This is a delivery status notification from ..., running the
Courier mail server".

Courier sends a standard DSN; its text part adds the SMTP dialogue per
recipient: ``<address>:``, the remote host line ("mx.example.org [192.0.2.1]:"),
then ">>> COMMAND" and "<<< reply" lines, which tell the failing command.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, merge_records, paragraph, split_blocks
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import join_reply_lines

NAME = "courier"
ORDER = Band.MTA

_START_RE = re.compile(r"^<([^<>\s][^<>\s@]*+@[^<>\s]++)>:\s*$")
_HOST_RE = re.compile(r"^\s+([A-Za-z0-9][A-Za-z0-9.\-]*)\s*(?:\[[0-9A-Fa-f.:]+\])?:\s*$")


def _text_records(text: str) -> list[DeliveryRecord]:
    records = []
    for m, lines in split_blocks(text, _START_RE):
        rec = DeliveryRecord(recipient=m.group(1), action="failed")
        replies: list[str] = []
        for line in paragraph(lines):
            stripped = line.strip()
            host = _HOST_RE.match(line)
            if host and not rec.remote_mta:
                rec.remote_mta = host.group(1)
            elif stripped.startswith(">>>"):
                rec.smtp_command = stripped[3:].strip().split(" ")[0].split(":")[0].upper()
                replies = []
            elif stripped.startswith("<<<"):
                replies.append(stripped[3:].strip())
            elif stripped:
                replies.append(stripped)
        rec.diagnostic = join_reply_lines("\n".join(replies))
        records.append(rec)
    return records


def detect(mail: Mail) -> Report | None:
    if "running the courier mail server" not in mail.text_lc[:1500]:
        return None
    text_recs = _text_records(mail.report_text)
    records = dsn_records(mail)
    records = merge_records(records, text_recs, add_new=not records)
    if not records:
        return None
    return make_report(mail, NAME, records)
