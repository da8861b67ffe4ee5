"""A delivery failure sent as a message disposition notification (RFC 8098).

Some gateways and mail clients report that a message was refused, or removed
unread, in the read-receipt format (multipart/report;
report-type=disposition-notification):

    Your message could not be delivered to the following recipient: ...

    Reporting-UA: mail.example.com; MailGate
    Final-Recipient: rfc822;user@example.com
    Disposition: automatic-action/MDN-sent-automatically; deleted

A receipt that says the message was displayed is no bounce and is left alone;
one whose disposition is "deleted" (or, in RFC 2298's older form, "failed" /
"denied", or an "error" / "mailbox-terminated" modifier), or whose text says the
message was not delivered, is reported as a failure for its Final-Recipient.
"""

from __future__ import annotations

import re
from email.message import Message

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import mime
from bounceback.parse.autoreply import QUOTED_FIELD_RE
from bounceback.parse.base import make_report
from bounceback.parse.fallback import own_parties
from bounceback.parse.mail import Mail, parse_fields
from bounceback.parse.registry import Band
from bounceback.parse.text import address_field, find_address, find_addresses, squeeze

NAME = "mdnfailure"
ORDER = Band.DISGUISED

_FAILED_DISPOSITIONS = ("deleted", "failed", "denied")
_FAILED_MODIFIERS = ("error", "failed", "mailbox-terminated", "expired")
_FAILED_TEXT_RE = re.compile(
    r"(?:could|can)(?:not|n't) be delivered|was(?:n't| not) delivered|not been delivered|"
    r"undeliverable|deleted without being read|delivery (?:has )?failed|"
    r"(?:unable|failed) to deliver|"
    r"rejected|no such (?:user|mailbox|recipient)|user unknown",
    re.I,
)
_TEXT_CHARS = 3000


def _fields(mail: Mail) -> dict[str, str]:
    """The disposition-notification part's fields, lower-case names."""
    for part in mail.msg.walk():
        if mime.content_type(part) != "message/disposition-notification":
            continue
        payload = part.get_payload()
        if isinstance(payload, list):
            # The parser read the fields as the headers of an inner message.
            inner = payload[0] if payload and isinstance(payload[0], Message) else None
            if inner is not None:
                return {k.lower(): str(v) for k, v in inner.items()}
        elif isinstance(payload, str):
            return {k.lower(): v for group in parse_fields(payload) for k, v in group}
    return {}


def _failed_disposition(value: str) -> bool:
    """Whether a Disposition field ("action/sending-mode; type/modifier") says it failed."""
    _, _, rest = value.lower().partition(";")
    kind, _, modifiers = rest.strip().partition("/")
    if kind.strip() in _FAILED_DISPOSITIONS:
        return True
    return any(m.strip() in _FAILED_MODIFIERS for m in modifiers.split(","))


def _recipient(mail: Mail, fields: dict[str, str]) -> str:
    for name in ("final-recipient", "original-recipient"):
        address = find_address(address_field(fields.get(name, "")))
        if address:
            return address
    # A person's client that removed the message unread sends the notice itself.
    sender = find_address(mail.from_)
    parties = own_parties(mail) - {sender.lower()}
    local = sender.partition("@")[0].lower()
    if sender and local not in ("postmaster", "mailer-daemon") and sender.lower() not in parties:
        return sender
    named = {a.lower(): a for a in find_addresses(mail.report_text[:_TEXT_CHARS])}
    usable = [a for key, a in named.items() if key not in parties]
    return usable[0] if len(usable) == 1 else ""


def detect(mail: Mail) -> Report | None:
    if mail.report_type != "disposition-notification":
        return None
    fields = _fields(mail)
    text = mail.report_text[:_TEXT_CHARS]
    # The receipt quotes the message's own Subject: ("Your claim was rejected").
    said_failed = _FAILED_TEXT_RE.search(QUOTED_FIELD_RE.sub("", text))
    if not said_failed and not _failed_disposition(fields.get("disposition", "")):
        return None  # a read receipt
    recipient = _recipient(mail, fields)
    if not recipient:
        return None
    record = DeliveryRecord(recipient=recipient, action="failed", diagnostic=squeeze(text)[:500])
    report = make_report(mail, NAME, [record])
    if not report.original.message_id:
        report.original.message_id = fields.get("original-message-id", "").strip()
    return report
