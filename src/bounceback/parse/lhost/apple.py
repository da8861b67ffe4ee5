"""Apple iCloud Mail (icloud.com, me.com, mac.com; relays *.apple.com).

    From: <Mailer-Daemon@mail-in2.apple.com> (Mail Delivery System)
    Reporting-MTA: dns; mail-in2.apple.com

iCloud's inbound relays run Postfix behind a Symantec Messaging Gateway and send
Postfix's notice; older iCloud bounces came from Oracle's Messaging Server, which
the messagingserver module (earlier in the order) reads.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost import postfix
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "apple"
ORDER = Band.PROVIDER_DOMAIN

_DOMAINS = ("apple.com", "icloud.com", "me.com", "mac.com")


def detect(mail: Mail) -> Report | None:
    low = mail.from_lc
    if not any(domain in low for domain in _DOMAINS):
        return None
    if "mailer-daemon" not in low and "postmaster" not in low:
        return None
    if not in_domains(sender_domain(mail), _DOMAINS):
        return None
    return read_with(NAME, mail, (postfix.detect, dsn.detect))
