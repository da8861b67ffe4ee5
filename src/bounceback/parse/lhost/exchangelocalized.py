"""Exchange 5.5 / 2000 / 2003 non-delivery reports in a language other than English.

The server writes its report in the language it was installed with, so the
headings exchange2003 looks for ("did not reach the following recipient(s)")
read "hat folgende(n) Empfänger nicht erreicht", "Impossible de joindre le(s)
destinataire(s) suivant(s)", ... The blocks keep their shape in every language,
and so does the trailer Exchange ends each one with:

    jdoe@example.de am 04.12.2001 10:12
        Die E-Mail-Adresse konnte nicht gefunden werden.
        <mx.example.de #5.1.1>

(or Exchange 5.5's "MSEXCH:IMS:..." line). Runs after the detectors of newer
Exchange and Office 365 reports, which also print "<host #5.x.x ...>" inside
their own format.
"""

from __future__ import annotations

import re

from bounceback.model import Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost.exchange2003 import block_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "exchange2003"  # the same format, the same name
ORDER = Band.EXCHANGE + 5

# "<host #5.1.1>" ending a block (not "<host #5.0.0 smtp;550 ...>", a quoted reply).
_TRAILER_RE = re.compile(r"<[A-Za-z0-9][A-Za-z0-9.\-]{0,253} #[245]\.\d{1,3}\.\d{1,3}>")


def _is_localized_exchange(mail: Mail) -> bool:
    low = mail.text_lc
    if "msexch:" in low:
        return True
    return (" #5." in low or " #4." in low) and bool(_TRAILER_RE.search(mail.report_text))


def detect(mail: Mail) -> Report | None:
    if not _is_localized_exchange(mail):
        return None
    records = block_records(mail.report_text)
    if not records:
        return None
    return make_report(mail, NAME, records)
