"""au (KDDI) EZweb mobile mail: Netscape Messaging Server's notice under a Japanese preface.

    次のあて先へのメッセージはエラーのため送信できませんでした。
    ...
    The user(s) account is disabled.

    <user@ezweb.ne.jp>

The layout and the English sentences are those of _netscape.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.lhost._netscape import parse
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "ezweb"
ORDER = Band.PRODUCT_TEXT


def detect(mail: Mail) -> Report | None:
    sender = mail.from_lc
    if "ezweb.ne.jp" not in sender or not ("postmaster" in sender or "mailer-daemon" in sender):
        return None
    return parse(mail, NAME)
