"""Yandex Mail (yandex.ru): Postfix's notice behind a Russian preface.

    From: mailer-daemon@yandex.ru
    Это письмо отправлено почтовым сервером yandex.ru. ...
    This is the mail system at host yandex.ru. (Postfix's template follows)

Yandex's outbound relays run Postfix, so the postfix module reads the records.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost import postfix
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "yandex"
ORDER = Band.PROVIDER_DOMAIN

# Yandex's own domains; its bounces come from mailer-daemon@yandex.ru.
_DOMAINS = ("yandex.ru", "yandex.net", "yandex.com", "yandex.com.tr", "yandex.by", "yandex.kz")


def detect(mail: Mail) -> Report | None:
    if "yandex" not in mail.from_lc or not in_domains(sender_domain(mail), _DOMAINS):
        return None
    return read_with(NAME, mail, (postfix.detect, dsn.detect))
