"""Netscape / iPlanet Messaging Server's notice, wherever it comes from.

It opens "This Message was undeliverable due to the following reason:"; the
layout is read by _netscape.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.lhost._netscape import INTRO, parse
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "netscape"
ORDER = Band.PRODUCT_TEXT + 1


def detect(mail: Mail) -> Report | None:
    if INTRO not in mail.text_lc[:1000]:
        return None
    return parse(mail, NAME)
