"""Verizon Wireless: the MMS gateway's (vzwpix.com) and the SMS gateway's (vtext.com) notices.

MMS:  "Message could not be delivered to mobile." and "Error: ...", the
      recipient in the "Original Message:" block's To line.
SMS:  "Error: Invalid user address", "Error message below:" and the SMTP reply,
      the recipient in "Message details:" as "RCPT TO: address".
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after, set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, join_reply_lines, squeeze

NAME = "verizon"
ORDER = Band.PRODUCT_TEXT

_RCPT_TO_RE = re.compile(
    r"^[^\S\n]*RCPT TO:\s*<?([^\s<>][^\s<>@]*+@[^\s<>]+?)>?[^\S\n]*$", re.I | re.M
)
_TO_RE = re.compile(r"^[^\S\n]*To:\s*(.+)$", re.I | re.M)
_ERROR_RE = re.compile(r"^[^\S\n]*Error:\s*(.+)$", re.I | re.M)
# The gateways' own "Error:" wording for a number that is not a subscriber's: a
# stated reason, whatever the SMTP reply quoted under it says.
_OWN_REASONS = {
    "invalid user address": "userunknown",
    "no valid recipients for this mm": "userunknown",
}


def detect(mail: Mail) -> Report | None:
    sender = mail.from_lc
    if "vtext.com" not in sender and "vzwpix.com" not in sender:
        return None
    text = mail.text
    error = _ERROR_RE.search(text)
    records: list[DeliveryRecord] = []
    if "error message below:" in text.lower():
        reply = join_reply_lines(
            "\n".join(paragraph(after(text, "error message below:").splitlines()))
        )
        diagnostic = squeeze(f"{error.group(1) if error else ''} {reply}")
        records = [
            DeliveryRecord(recipient=r, action="failed", diagnostic=diagnostic)
            for r in _RCPT_TO_RE.findall(text)
        ]
    elif "could not be delivered to mobile" in text.lower():
        original = after(text, "original message:")
        to = _TO_RE.search(original)
        addrs = [find_address(a) for a in to.group(1).split(",")] if to else []
        diagnostic = (
            squeeze(error.group(1)) if error else "Message could not be delivered to mobile."
        )
        records = [
            DeliveryRecord(recipient=a, action="failed", diagnostic=diagnostic) for a in addrs if a
        ]
    if not records:
        return None
    hint = _OWN_REASONS.get(squeeze(error.group(1)).lower(), "") if error else ""
    for rec in records:
        rec.reason_hint = hint
    # The SMS gateway lists the original's fields under "Message details:".
    set_inline_original(mail, after(text, "message details:"))
    return make_report(mail, NAME, records)
