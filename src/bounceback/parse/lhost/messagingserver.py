"""Sun Java System / Oracle Communications Messaging Server (and its ancestor PMDF).

The text part repeats the DSN as prose, one block per recipient:

    Recipient address: @smtp.example.net:user@server
    Original address: user@example.net
    Reason: LMTP transmission failure has occurred
    Diagnostic code: smtp;522 5.2.0 Delivery failed: Over quota
    Remote system: dns;mx.example.net (TCP|192.0.2.1|...) (mx -- ESMTP ...)

The Final-Recipient is often an internal routing form (a source route or an
unqualified host), so the original address the sender wrote is the recipient.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, find_status

NAME = "messagingserver"
ORDER = Band.PRODUCT_TEXT

_INTRO = "this report relates to a message you sent with the following header fields"
_PMDF_INTRO = "cannot be delivered to the following recipients"
# VMS Mail's own condition code for a mailbox that does not exist.
_VMS_NO_SUCH_USER = "%MAIL-E-NOSUCHUSR"
_FIELD_RE = re.compile(
    r"^\s*(Recipient address|Original address|Reason|Diagnostic code|Remote system):\s*(.*)$",
    re.I,
)


def _is_messaging_server(mail: Mail) -> bool:
    # The raw header, not get_boundary(): a substring test is far cheaper.
    if "boundary_(id_" in str(mail.msg.get("Content-Type", "")).lower() and (
        _INTRO in mail.text_lc[:1000]
    ):
        return True
    if "messaging server" in mail.received_lc and _INTRO in mail.text_lc[:1000]:
        return True
    # PMDF and the VMS-era gateways print the same blocks without either mark.
    head = mail.text_lc[:3000]
    at = head.find("recipient address:")
    return at >= 0 and (_PMDF_INTRO in head or "reason:" in head[at:])


def _routed(addr: str) -> bool:
    """An internal form: a source route or a host without a dot."""
    return ":" in addr or "." not in addr.rpartition("@")[2]


def detect(mail: Mail) -> Report | None:
    if not _is_messaging_server(mail):
        return None
    records: list[DeliveryRecord] = []
    for line in mail.report_text.splitlines():
        m = _FIELD_RE.match(line)
        if not m:
            continue
        name, value = m.group(1).lower(), m.group(2).strip()
        if name == "recipient address":
            records.append(DeliveryRecord(recipient=value, action="failed"))
        elif not records:
            continue
        elif name == "original address":
            records[-1].original_recipient = value
        elif name == "reason":
            records[-1].diagnostic = value
            if value.upper().startswith(_VMS_NO_SUCH_USER):
                records[-1].reason_hint = "userunknown"
        elif name == "diagnostic code":
            kind, sep, text = value.partition(";")
            records[-1].diagnostic = text.strip() if sep else value
            records[-1].diagnostic_type = kind.strip().lower() if sep else ""
        elif name == "remote system":
            records[-1].remote_mta = value
    dsn = dsn_records(mail)
    if not records:
        records = dsn
    else:
        for rec in records:
            for d in dsn:
                if {find_address(d.recipient), find_address(d.original_recipient)} & {
                    find_address(rec.recipient),
                    find_address(rec.original_recipient),
                }:
                    rec.status = find_status(d.status)
                    rec.action = d.action or rec.action
                    rec.reporting_mta = d.reporting_mta
                    rec.last_attempt = d.last_attempt
                    break
    for rec in records:
        rcpt = find_address(rec.recipient) or rec.recipient
        original = find_address(rec.original_recipient)
        if original and (not rcpt or _routed(rcpt) or original.lower() != rcpt.lower()):
            # The address the sender wrote, not the one the server rewrote it to.
            rec.recipient = rec.original_recipient
        # "dns;mx.example.net (TCP|...) (...)": the host name only.
        rec.remote_mta = (
            rec.remote_mta.partition(";")[2].split()[0]
            if ";" in rec.remote_mta
            else (rec.remote_mta.split()[0] if rec.remote_mta.split() else "")
        )
    if not records:
        return None
    return make_report(mail, NAME, records)
