"""1&1 / IONOS (kundenserver.de): United Internet's Exim-derived bounce."""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.lhost._unitedinternet import MARKER, parse
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "einsundeins"
ORDER = Band.PRODUCT_TEXT - 1


def detect(mail: Mail) -> Report | None:
    if (
        "kundenserver" not in mail.from_lc
        and "1und1" not in mail.from_lc
        and "ionos" not in mail.from_lc
    ):
        return None
    if MARKER not in mail.text_lc:
        return None
    return parse(mail, NAME)
