"""AOL Mail (aol.com): notices from AOL's outbound relays (omr-*.mx.aol.com).

    From: MAILER-DAEMON@AOL.com (Mail Delivery System)   Postfix's template
    From: Postmaster <Postmaster@AOL.com>                 a DSN, "Undeliverable: ..."
    x-aol-sid: 3039ac1afea7590816126e54

The relays run Postfix; older notices are a plain DSN with an HTML part. The
oldest (AOL's own AIRmail, "Mail Delivery Problem") are plain text naming the
recipients by screen name, one per indented line:

    Sorry sender@example.com. Your mail to the following recipients could not be
    delivered because they are not accepting mail with attachments or embedded images:
    \tscreenname
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.lhost import postfix
from bounceback.parse.lhost._via import in_domains, read_with, sender_domain
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "aol"
ORDER = Band.PROVIDER_DOMAIN

_DOMAINS = ("aol.com",)

# The sentence (with its "because ..." reason) and the indented screen names under it.
_AIRMAIL_RE = re.compile(
    r"(your mail to the following recipients could not be delivered[^:\n]*):[ \t]*\n"
    r"((?:[ \t]+[^\s@]+(?:@[^\s@]+)?[ \t]*(?:\n|$))+)",
    re.I,
)


def _airmail(mail: Mail) -> Report | None:
    found = _AIRMAIL_RE.search(mail.text)
    if found is None:
        return None
    why = found.group(1)
    # "...because they are not accepting mail with attachments" (or "from you"): the
    # recipient's own settings refused it, not a missing domain ("not accepting mail").
    hint = "filtered" if "because they are not accepting mail" in why.lower() else ""
    records = [
        # A bare screen name is the AOL address of that name.
        DeliveryRecord(
            recipient=name if "@" in name else f"{name}@aol.com",
            action="failed",
            diagnostic=why,
            reason_hint=hint,
        )
        for name in found.group(2).split()
    ]
    return make_report(mail, NAME, records)


def detect(mail: Mail) -> Report | None:
    if "aol.com" not in mail.from_lc or not in_domains(sender_domain(mail), _DOMAINS):
        return None
    # AOL's relays stamp their own messages; a message forged "from AOL" lacks it.
    if not mail.header("X-AOL-SID") and not mail.header("X-AOL-IP"):
        return None
    return read_with(NAME, mail, (postfix.detect, dsn.detect)) or _airmail(mail)
