"""McAfee Email (and Web) Security Appliance: a DSN with a fixed text part.

    X-NAI-Header: Modified by McAfee Email and Web Security Appliance
    Subject: Delivery Status

        --- The following addresses had delivery problems ---
    <user@example.jp>   (5.1.1 <user@example.jp>... User unknown)

The delivery-status part carries the records (often only Original-Recipient);
the sendmail module reads this "had delivery problems" layout, the DSN reader
anything else.
"""

from __future__ import annotations

from bounceback.model import Report
from bounceback.parse import dsn
from bounceback.parse.lhost import sendmail
from bounceback.parse.lhost._via import read_with
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "mcafee"
ORDER = Band.GATEWAY


def detect(mail: Mail) -> Report | None:
    # Network Associates (NAI) marks every message the appliance rewrites, a
    # bounce relayed through it too: its own notice also has its template line.
    if "mcafee" not in mail.header("X-NAI-Header").lower():
        return None
    if "had delivery problems" not in mail.text_lc and mail.subject_lc != "delivery status":
        return None
    return read_with(NAME, mail, (sendmail.detect, dsn.detect))
