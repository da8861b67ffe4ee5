"""Microsoft Exchange Server 2007 and later, on premises.

The NDR is a human part (per recipient, a sentence from Exchange's template)
with a section for administrators, and usually a delivery-status part:

    Delivery has failed to these recipients or groups:
    user@example.jp<mailto:user@example.jp>
    The recipient's e-mail address was not found in the recipient's e-mail system. ...
    Sent by Microsoft Exchange Server 2007
    Diagnostic information for administrators:
    Generating server: mx.example.org
    user@example.jp
    #550 5.1.1 RESOLVER.ADR.RecipNotFound; not found ##
      (2010 and later: Remote Server at mx.example.jp (192.0.2.1) returned '550 ...')
    Original message headers:

Exchange Online writes the same NDR from Microsoft's hosts; those are the
office365 module's, and this one reads the section with its helpers.
Exchange 2013+ stamps X-MS-Exchange-Message-Is-Ndr; older versions are known
by the template's English lines.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.lhost import office365
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band

NAME = "exchange2007"
ORDER = Band.EXCHANGE

# Exchange 2010+: "<date> - Remote Server at mx.example.jp (192.0.2.1) returned '550 ...'",
# one line per attempt, the last attempt first.
_REMOTE_AT_RE = re.compile(
    r"\bRemote Server at ([A-Za-z0-9][A-Za-z0-9.\-]*+)[^']*?\breturned '([^']*)'", re.I
)


def _is_exchange(mail: Mail) -> bool:
    if "\nx-ms-exchange-message-is-ndr" in mail.header_names_lc:
        return True
    low = mail.text_lc
    if "sent by microsoft exchange server" in low:
        return True
    return "diagnostic information for administrators" in low and "generating server:" in low


def detect(mail: Mail) -> Report | None:
    if not _is_exchange(mail):
        return None
    text = mail.report_text
    generating, admin = office365._admin_section(text, mail.text_lc)
    if office365._from_microsoft_cloud(mail, generating):
        return None  # Exchange Online: the office365 module's
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        # No delivery-status part: the administrators' section, else the list.
        addresses = list(admin) or office365._listed(text)
        records = [DeliveryRecord(recipient=a, action="failed") for a in addresses]
    if not records:
        return None
    for rec in records:
        remote, reply = admin.get(rec.recipient.lower(), ("", ""))
        at = _REMOTE_AT_RE.search(reply)
        if at:
            remote, reply = remote or at.group(1), at.group(2)
        if not rec.diagnostic and reply:
            rec.diagnostic = reply
        if not rec.remote_mta:
            rec.remote_mta = remote
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
