"""Postfix's bounce ("Undelivered Mail Returned to Sender") and delay notices.

The DSN part carries the fields (with X-Postfix-* extensions); the notification
text lists each recipient as ``<address>: reason`` or ``<address> (expanded from
<alias>): reason`` with indented continuation lines. Old Postfix versions send
only the text, and the text often holds the full remote reply when the DSN's
Diagnostic-Code is cut short.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, merge_records, split_blocks, text_record
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_addresses

NAME = "postfix"
ORDER = Band.MTA

_START_RE = re.compile(
    r'^<?("[^"]+"@[^\s<>]+|[^\s<>"][^\s<>"@]*+@[^\s<>][^\s<>:]*+)>?'
    r"(?:\s+\(expanded from [^)]*\))?:\s*(.*)$"
)
_MARKERS = (
    "this is the postfix program at host",
    "this is the mail system at host",
    "i'm sorry to have to inform you that your message could not",
    "i'm sorry to have to inform you that the message returned",
)
_COMMAND_RE = re.compile(r"\bin reply to (RCPT TO|MAIL FROM|DATA|end of DATA|EHLO|HELO)\b", re.I)


def _is_postfix(mail: Mail) -> bool:
    if mail.subject_lc.startswith(
        ("undelivered mail returned to sender", "delayed mail (still being")
    ):
        return True
    head = mail.text_lc[:1500]
    if any(marker in head for marker in _MARKERS):
        return True
    return any(
        name.lower().startswith("x-postfix-")
        for group in mail.status_groups[:1]
        for name, _ in group
    )


def _text_records(text: str) -> list[DeliveryRecord]:
    records = []
    for m, lines in split_blocks(text, _START_RE):
        body = [m.group(2)]
        for line in lines:
            if not line.strip() or not line.startswith((" ", "\t")):
                break
            body.append(line)
        rec = text_record(m.group(1), body)
        command = _COMMAND_RE.search(rec.diagnostic)
        if command:
            verb = command.group(1).upper()
            rec.smtp_command = "DATA" if "DATA" in verb else verb.split()[0]
        records.append(rec)
    return records


def _unreported(mail: Mail) -> list[DeliveryRecord]:
    """Postfix lost its delivery log: the returned message's one recipient is all there is."""
    if "delivery report unavailable" not in mail.report_text.lower() or mail.original is None:
        return []
    addresses = find_addresses(str(mail.original.get("To", "")))
    if len(addresses) != 1:
        return []
    return [DeliveryRecord(recipient=addresses[0], action="failed")]


def detect(mail: Mail) -> Report | None:
    if not _is_postfix(mail):
        return None
    text_recs = _text_records(mail.report_text)
    records = dsn_records(mail)
    if records:
        records = merge_records(records, text_recs, add_new=False)
    else:
        delayed = mail.subject_lc.startswith("delayed mail")
        for rec in text_recs:
            rec.action = "delayed" if delayed else "failed"
        records = text_recs
    records = [r for r in records if r.recipient]
    if not records:
        records = _unreported(mail)
    if not records:
        return None
    return make_report(mail, NAME, records)
