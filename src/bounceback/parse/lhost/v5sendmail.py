"""Sendmail before DSNs (version 5 and its descendants): a plain-text transcript.

The message holds "----- Transcript of session follows -----" and "----- Unsent
message follows -----" and no delivery-status part; each failed recipient is a
"NNN <address>... text" line of the transcript, after the remote host's reply.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.base import make_report, merge_records
from bounceback.parse.lhost.sendmail import fatal_list_records, transcript_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "v5sendmail"
ORDER = Band.MTA


def detect(mail: Mail) -> Report | None:
    if mail.status_groups or "transcript of session follows" not in mail.text_lc:
        return None
    text = mail.report_text
    records = merge_records(transcript_records(text), fatal_list_records(text))
    for rec in records:
        rec.action = rec.action or (
            "delayed" if "deferred:" in rec.diagnostic.lower() else "failed"
        )
    records = [r for r in records if "@" in r.recipient and not r.recipient.startswith("@")]
    if not records:
        return None
    return make_report(mail, NAME, records)
