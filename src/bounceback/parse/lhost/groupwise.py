"""Novell (Micro Focus) GroupWise Internet Agent: "Message status - undeliverable".

    The message that you sent was undeliverable to the following:

        user@example.net (user not found)

GWIA names itself in X-Mailer ("Novell GroupWise Internet Agent 7.0.1") and in its
Received line ("with Novell_GroupWise"). Each failed recipient is an indented line,
the reason in parentheses; a local user may be listed without a domain, and then
there is no address to report.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail

NAME = "groupwise"

_HEADING = "was undeliverable to the following"
_LINE_RE = re.compile(r"^\s*<?([^\s<>()][^\s<>()@]*+@[^\s<>()]++)>?\s*+(?:\((.*)\))?\s*$")
# GWIA's own verdicts on the mailboxes it holds, in its fixed wording.
_OWN_REASONS = {
    "user not found": "userunknown",
    "host not found": "hostunknown",
}


def _is_groupwise(mail: Mail) -> bool:
    if mail.header("X-Mailer").lstrip().lower().startswith("novell groupwise"):
        return True
    return "with novell_groupwise" in mail.received_lc


def detect(mail: Mail) -> Report | None:
    if not _is_groupwise(mail):
        return None
    text = mail.report_text
    at = text.lower().find(_HEADING)
    if at < 0:
        return None
    records: list[DeliveryRecord] = []
    for line in text[at:].split("\n")[1:]:
        if not line.strip():
            if records:
                break
            continue
        m = _LINE_RE.match(line)
        if m is None:
            if line[:1] in (" ", "\t"):
                continue  # a local user listed without a domain: no address to report
            break
        reason = (m.group(2) or "").strip()
        records.append(
            DeliveryRecord(
                recipient=m.group(1),
                action="failed",
                diagnostic=reason,
                reason_hint=_OWN_REASONS.get(reason.lower(), ""),
            )
        )
    if not records:
        return None
    return make_report(mail, NAME, records)
