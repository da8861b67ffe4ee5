"""The notice of Netscape / iPlanet Messaging Server, still sent by au's EZweb.

    This Message was undeliverable due to the following reason:

    The user(s) account is disabled.

    <user@example.com>

or, when a remote server refused,

    Each of the following recipients was rejected by a remote mail server.

        Recipient: <user@example.com>
        >>> RCPT TO:<user@example.com>
        <<< 550 <user@example.com>: User unknown

(older servers print "Reason: 5.1.1 ..." instead of the transcript). The
sentences are a fixed template, so they also name the reason when the remote
server's reply is not given.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.lhost._textbounce import set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_status, squeeze

INTRO = "this message was undeliverable due to the following reason"

_RCPT_RE = re.compile(r"^\s*(?:Recipient:\s*)?<([^\s<>][^\s<>@]*+@[^\s<>]++)>\s*$")
_SENT_RE = re.compile(r"^\s*>>>\s*(RCPT TO|MAIL FROM|DATA|EHLO|HELO)\b", re.I)
_REPLY_RE = re.compile(r"^\s*(?:<<<|Reason:)\s*(.+)$", re.I)
_RULE_RE = re.compile(r"^-{20,}\s*$")
_CLOSING_RE = re.compile(r"^\s*(?:please reply to|if you feel this message)", re.I)
# The template's sentences and the reason each states.
_TEMPLATES = (
    ("the user(s) account is disabled", "suspend"),
    ("was not delivered within", "expired"),
    ("remote host is not responding", "expired"),
    ("was rejected by a remote mail server", "filtered"),
)


def parse(mail: Mail, name: str) -> Report | None:
    records: list[DeliveryRecord] = []
    sentences: list[str] = []
    lines = mail.report_text.splitlines()
    for n, line in enumerate(lines):
        if _RULE_RE.match(line):
            # The returned message's headers follow.
            set_inline_original(mail, "\n".join(lines[n + 1 :]))
            break
        if m := _RCPT_RE.match(line):
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
        elif sent := _SENT_RE.match(line):
            if records:
                records[-1].smtp_command = sent.group(1).split()[0].upper()
        elif reply := _REPLY_RE.match(line):
            if records:
                records[-1].diagnostic = squeeze(reply.group(1))
        elif line.strip() and line.isascii() and not _CLOSING_RE.match(line):
            sentences.append(line.strip())
    dsn = {r.recipient.lower(): r for r in dsn_records(mail)}
    if not records:
        records = list(dsn.values())
    text = squeeze(" ".join(sentences))
    hint = next((reason for phrase, reason in _TEMPLATES if phrase in text.lower()), "")
    for rec in records:
        found = dsn.get(rec.recipient.lower())
        if found is not None:
            rec.status = find_status(found.status)
            rec.diagnostic = rec.diagnostic or found.diagnostic
            rec.remote_mta = found.remote_mta
        own = bool(rec.diagnostic)
        if not own:
            rec.diagnostic = text
        # A disabled account outranks the remote reply; the others only stand in for one.
        if hint and (hint == "suspend" or not own):
            rec.reason_hint = hint
    if not records:
        return None
    return make_report(mail, name, records)
