"""Digital Arts m-FILTER (and mail systems that copy its report): a Japanese notice.

以下のメールアドレスへの送信に失敗しました。   (sending to these addresses failed)
user@example.com

-------server message
550 unknown user <user@example.com>

-------SMTP command
DATA

-------original message   (or "-------original mail info")
"""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, paragraph
from bounceback.parse.lhost._textbounce import after, set_inline_original
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import SMTP_COMMANDS, find_address, join_reply_lines

NAME = "mfilter"
ORDER = Band.PRODUCT_TEXT

_FAILED = "以下のメールアドレスへの送信に失敗しました"


def detect(mail: Mail) -> Report | None:
    if "-------server message" not in mail.text_lc:
        return None
    text = mail.text
    rcpts = [
        a for a in (find_address(x) for x in paragraph(after(text, _FAILED).splitlines())) if a
    ]
    if not rcpts:
        return None
    reply = join_reply_lines(
        "\n".join(paragraph(after(text, "-------server message").splitlines()))
    )
    command = " ".join(paragraph(after(text, "-------smtp command").splitlines())).strip().upper()
    command = command.split()[0] if command.split() and command.split()[0] in SMTP_COMMANDS else ""
    # "-------original message" or "-------original mail info" (headers only).
    set_inline_original(mail, after(text, "-------original "))
    records = [
        DeliveryRecord(recipient=r, action="failed", diagnostic=reply, smtp_command=command)
        for r in rcpts
    ]
    return make_report(mail, NAME, records)
