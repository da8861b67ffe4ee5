"""Mail.Ru (mail.ru, corp.mail.ru): Exim's notice behind a Russian preface.

    From: mailer-daemon@corp.mail.ru
    Subject: Ваше сообщение не доставлено. Mail failure.

    Это письмо создано автоматически сервером Mail.Ru, ...
      user@example.jp
        SMTP error from remote mail server after RCPT TO:<user@example.jp>: ...
    **********************
    This message was created automatically by mail delivery software.
    ... The following address(es) failed: (Exim's own text, repeated in English)

Mail.Ru runs Exim, so the exim module reads the records.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse.lhost import exim
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "mailru"
ORDER = Band.PROVIDER_DOMAIN

_DOMAINS = ("mail.ru",)


def detect(mail: Mail) -> Report | None:
    if "mail.ru" not in mail.from_lc or not in_domains(sender_domain(mail), _DOMAINS):
        return None
    return read_with(NAME, mail, (exim.detect,))
