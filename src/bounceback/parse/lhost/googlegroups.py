"""Google Groups: a post to a group that does not exist or does not accept it.

Google's mailer-daemon answers in the sender's language (English, Japanese,
Arabic, Greek, ...), always with a link to groups.google.com and the group's
address in X-Failed-Recipients. The template states one category, a post the
group refused, so the reason is given as a hint.
"""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._google import failed_recipients, from_google
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "googlegroups"
ORDER = Band.PRODUCT_TEXT

_MARKERS = ("groups.google.com", "google groups")


def _about_groups(mail: Mail) -> bool:
    text = mail.report_text.lower()
    return any(m in text for m in _MARKERS)


def detect(mail: Mail) -> Report | None:
    if not from_google(mail) or mail.msg.get("X-Failed-Recipients") is None:
        return None
    if not _about_groups(mail):
        return None
    recipients = failed_recipients(mail)
    if not recipients:
        return None
    # The first paragraph after the greeting says what happened.
    paragraphs = [p for p in mail.report_text.split("\n\n") if p.strip()]
    diagnostic = squeeze(paragraphs[1] if len(paragraphs) > 1 else mail.report_text)[:500]
    records = [
        DeliveryRecord(recipient=r, action="failed", diagnostic=diagnostic, reason_hint="rejected")
        for r in recipients
    ]
    return make_report(mail, NAME, records)
