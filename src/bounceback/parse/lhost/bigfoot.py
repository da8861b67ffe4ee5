"""Bigfoot (bigfoot.com) forwarding service: a Sendmail-style DSN from LiteMail.

    From: Mail Delivery Subsystem <MAILER-DAEMON@bigfoot.com>
    Received: by LITEMAIL00.bigfoot.com (LiteMail v3.03(LITEMAIL00)) ...
       ----- The following addresses had permanent fatal errors -----
       ----- Transcript of session follows -----

The notice follows Sendmail's template, so the sendmail module reads it.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost import sendmail
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "bigfoot"
ORDER = Band.PROVIDER_DOMAIN

_DOMAINS = ("bigfoot.com", "bigfoot.net")


def detect(mail: Mail) -> Report | None:
    from_bigfoot = "bigfoot" in mail.from_lc and in_domains(sender_domain(mail), _DOMAINS)
    if not from_bigfoot and "(litemail" not in mail.received_lc:
        return None
    return read_with(NAME, mail, (sendmail.detect, dsn.detect))
