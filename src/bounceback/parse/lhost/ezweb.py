"""au (KDDI) EZweb mobile mail: a Japanese notice with fixed English sentences.

    次のあて先へのメッセージはエラーのため送信できませんでした。
    ...
    The user(s) account is disabled.

    <user@ezweb.ne.jp>

or, when a remote server refused, "Recipient: <address>" followed by the
">>> command" / "<<< reply" transcript. The English sentences are a fixed
template, so they also name the reason when no SMTP reply is given.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_status, squeeze

NAME = "ezweb"
ORDER = 40

_RCPT_RE = re.compile(r"^\s*(?:Recipient:\s*)?<([^\s<>]+@[^\s<>]+)>\s*$")
_SENT_RE = re.compile(r"^\s*>>>\s*(RCPT TO|MAIL FROM|DATA|EHLO|HELO)\b", re.I)
_REPLY_RE = re.compile(r"^\s*<<<\s*(.+)$")
_RULE_RE = re.compile(r"^-{20,}\s*$")
# The template's sentences and the reason each states.
_TEMPLATES = (
    ("the user(s) account is disabled", "suspend"),
    ("was not delivered within", "expired"),
    ("remote host is not responding", "expired"),
    ("was rejected by a remote mail server", "filtered"),
)


def detect(mail: Mail) -> Report | None:
    if "ezweb.ne.jp" not in mail.from_lc:
        return None
    records: list[DeliveryRecord] = []
    sentences: list[str] = []
    transcript: list[str] = []
    for line in mail.report_text.splitlines():
        if _RULE_RE.match(line):
            break  # the returned message's headers follow
        m = _RCPT_RE.match(line)
        if m:
            if records:
                _close(records[-1], transcript)
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
            transcript = []
        elif _SENT_RE.match(line) or _REPLY_RE.match(line):
            transcript.append(line.strip())
        elif line.strip() and line.isascii():
            sentences.append(line.strip())
    if records:
        _close(records[-1], transcript)
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
        if not rec.diagnostic:
            rec.diagnostic = text
        if hint and (hint == "suspend" or not rec.smtp_command):
            rec.reason_hint = hint
    if not records:
        return None
    return make_report(mail, NAME, records)


def _close(rec: DeliveryRecord, transcript: list[str]) -> None:
    for line in transcript:
        sent = _SENT_RE.match(line)
        if sent:
            rec.smtp_command = sent.group(1).split()[0].upper()
        reply = _REPLY_RE.match(line)
        if reply:
            rec.diagnostic = squeeze(reply.group(1))
