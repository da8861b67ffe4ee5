"""fml (a Japanese mailing-list manager): notices to a poster from the list.

fml answers a post it will not distribute with a fixed notice naming the
list, e.g. "You are not a member of this mailing list <list@example.org>." or
"Duplicated Message-ID in <list@example.org>." (a loop alert). The failed
"recipient" is the list's address. fml names itself in X-MLServer.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._textbounce import after, set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import squeeze

NAME = "fml"
ORDER = Band.PRODUCT_TEXT

# fml's fixed notices and the reason each states.
_NOTICES = (
    (
        re.compile(
            r"^.*\bnot a member of this mailing list <([^\s<>][^\s<>@]*+@[^\s<>]++)>.*$",
            re.I | re.M,
        ),
        "rejected",
    ),
    (
        re.compile(
            r"^.*\bDuplicated Message-ID in <([^\s<>][^\s<>@]*+@[^\s<>]++)>.*$", re.I | re.M
        ),
        "systemerror",
    ),
)


def detect(mail: Mail) -> Report | None:
    if not mail.header("X-MLServer").lower().startswith("fml"):
        return None
    text = mail.report_text
    for regex, reason in _NOTICES:
        m = regex.search(text)
        if m:
            rec = DeliveryRecord(
                recipient=m.group(1),
                action="failed",
                diagnostic=squeeze(m.group(0)),
                reason_hint=reason,
            )
            # fml quotes the post, indented, after "Original mail as follows:".
            set_inline_original(mail, after(mail.text, "original mail as follows:"))
            return make_report(mail, NAME, [rec])
    return None
