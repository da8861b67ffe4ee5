"""AOL Mail (aol.com): notices from AOL's outbound relays (omr-*.mx.aol.com).

    From: MAILER-DAEMON@AOL.com (Mail Delivery System)   Postfix's template
    From: Postmaster <Postmaster@AOL.com>                 a DSN, "Undeliverable: ..."
    x-aol-sid: 3039ac1afea7590816126e54

The relays run Postfix; older notices are a plain DSN with an HTML part.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost import postfix
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail

NAME = "aol"
ORDER = 90

_DOMAINS = ("aol.com",)


def detect(mail: Mail) -> Report | None:
    if "aol.com" not in mail.from_lc or not in_domains(sender_domain(mail), _DOMAINS):
        return None
    # AOL's relays stamp their own messages; a message forged "from AOL" lacks it.
    if not mail.header("X-AOL-SID") and not mail.header("X-AOL-IP"):
        return None
    return read_with(NAME, mail, (postfix.detect, dsn.detect))
