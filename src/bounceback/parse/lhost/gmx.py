"""GMX (and mail.com, WEB.DE): United Internet's Exim-derived bounce."""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.lhost._unitedinternet import MARKER, parse
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "gmx"
ORDER = Band.PRODUCT_TEXT


def detect(mail: Mail) -> Report | None:
    if MARKER not in mail.text_lc:
        return None
    if "kundenserver" in mail.from_lc or "1and1" in mail.text_lc or "1und1" in mail.from_lc:
        return None  # 1&1's own servers: the einsundeins module.
    return parse(mail, NAME)
