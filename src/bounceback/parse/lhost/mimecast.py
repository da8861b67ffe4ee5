"""Mimecast: "[Postmaster] Email Delivery Failure" alerts.

    An email that you attempted to send to the following address could not be delivered:
    -- user@example.org

    The problem appears to be :
    -- Recipient email address is possibly incorrect

    Additional information follows :
    -- 5.4.1 Recipient address rejected: Access denied. [...]

The older wording is "an email you addressed to email address :". One alert
is sent per failed recipient.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "mimecast"
ORDER = Band.PRODUCT_TEXT

_ITEM_RE = re.compile(r"^\s*--\s+(.+)$")
_SMTP_PREFIX_RE = re.compile(r"^([245]\.\d{1,3}\.\d{1,3})\s+SMTP;\s*", re.I)


def _items_after(text: str, marker: str) -> list[str]:
    """The "-- value" lines right after the line holding ``marker``."""
    low = text.lower()
    at = low.find(marker)
    if at < 0:
        return []
    out: list[str] = []
    for line in text[at:].splitlines()[1:]:
        m = _ITEM_RE.match(line)
        if m:
            out.append(m.group(1).strip())
        elif out or line.strip():
            break
    return out


def detect(mail: Mail) -> Report | None:
    low = mail.text_lc
    if "additional information follows :" not in low or "the problem appears to be :" not in low:
        return None
    text = mail.report_text
    rcpts = _items_after(text, "could not be delivered:") or _items_after(
        text, "addressed to email address :"
    )
    problem = " ".join(_items_after(text, "the problem appears to be :"))
    detail = " ".join(_items_after(text, "additional information follows :"))
    detail = _SMTP_PREFIX_RE.sub(r"\1 ", detail)
    diagnostic = squeeze(detail or problem)
    records = [
        DeliveryRecord(recipient=r, action="failed", diagnostic=diagnostic)
        for r in rcpts
        if "@" in r
    ]
    if not records:
        return None
    return make_report(mail, NAME, records)
