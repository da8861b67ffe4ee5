"""The bounce of United Internet's mail systems (GMX, WEB.DE, mail.com, 1&1/IONOS).

An Exim-derived text:

    This is a permanent error. The following address(es) failed:

    "user@example.jp":
    SMTP error from remote server after RCPT command:
    host: mx.example.jp
    5.1.1 <user@example.jp>... User Unknown

    --- The header of the original message is following. ---

The address may be bare, quoted or followed by a colon; the lines after it,
up to the next address, say what happened.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.text import squeeze

MARKER = "--- the header of the original message is following. ---"
_INTRO_RE = re.compile(r"following address(?:\(es\)|es)?\s+failed:", re.I)
_RCPT_RE = re.compile(r"""^\s*["<]?([^\s"<>][^\s"<>@]*+@[^\s"<>:]+)[">]?:?\s*$""")
_HOST_RE = re.compile(r"\bhost:?\s+([A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9])")
_COMMAND_RE = re.compile(
    r"\b(?:after|for) (RCPT|MAIL|DATA|TEXT|EHLO|HELO)\b(?: TO| FROM)? command", re.I
)


def parse(mail: Mail, name: str) -> Report | None:
    text = mail.text
    intro = _INTRO_RE.search(text)
    if intro is None:
        return None
    body = text[intro.end() :]
    cut = body.lower().find(MARKER)
    if cut >= 0:
        set_inline_original(mail, body[cut + len(MARKER) :])
        body = body[:cut]
    records: list[DeliveryRecord] = []
    lines: list[str] = []
    for line in body.splitlines():
        m = _RCPT_RE.match(line)
        if m:
            if records:
                _close(records[-1], lines)
            records.append(DeliveryRecord(recipient=m.group(1), action="failed"))
            lines = []
        elif records and line.strip():
            lines.append(line.strip())
    if not records:
        return None
    _close(records[-1], lines)
    return make_report(mail, name, records)


def _close(rec: DeliveryRecord, lines: list[str]) -> None:
    text = squeeze(" ".join(lines))
    host = _HOST_RE.search(text)
    if host:
        rec.remote_mta = host.group(1)
    cmd = _COMMAND_RE.search(text)
    if cmd:
        verb = cmd.group(1).upper()
        # "TEXT" is the message text: the DATA phase.
        rec.smtp_command = "DATA" if verb == "TEXT" else verb
    # The reply is what follows the last "reason:" or "host: name" preamble.
    for sep in (" reason: ",):
        if sep in text:
            text = text.rsplit(sep, 1)[1]
    if host and text.startswith("SMTP error"):
        text = text[host.end() :].strip() or text
    rec.diagnostic = text
