"""Real RFC 3464 delivery status notifications, generated: for tests, demos and benchmarks.

The bytes are what a Postfix-like MTA sends back: multipart/report with a human
part, a message/delivery-status part and the returned headers (with Message-ID
and X-Bounceback-ID when given), delivered to the return path.
"""

from __future__ import annotations

import datetime as dt
from email.utils import format_datetime

_TEMPLATE = """\
Return-Path: <>
Delivered-To: {return_path}
Received: by mx.sender.example (Postfix) id 3F1A2B; {date}
Date: {date}
From: MAILER-DAEMON@mx.sender.example (Mail Delivery System)
Subject: Undelivered Mail Returned to Sender
To: {return_path}
Auto-Submitted: auto-replied
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status;
    boundary="{boundary}"
Message-Id: <{serial}.bounce@mx.sender.example>

This is a MIME-encapsulated message.

--{boundary}
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mx.sender.example.

I'm sorry to have to inform you that your message could not
be delivered to one or more recipients.

<{recipient}>: host {remote}[192.0.2.25] said: {diagnostic}

--{boundary}
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.sender.example
{envid}Arrival-Date: {date}

Final-Recipient: rfc822; {recipient}
Original-Recipient: rfc822;{recipient}
Action: {action}
Status: {status}
Remote-MTA: dns; {remote}
Diagnostic-Code: smtp; {diagnostic}

--{boundary}
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers

Return-Path: <{return_path}>
From: News <news@sender.example>
To: <{recipient}>
Subject: Spring news
Message-ID: {message_id}
{stamp}Date: {date}

--{boundary}--
"""


def dsn(
    recipient: str,
    status: str = "5.1.1",
    diagnostic: str = "",
    *,
    return_path: str = "bounces@sender.example",
    message_id: str = "",
    bounceback_id: str = "",
    envelope_id: str = "",
    serial: int = 1,
    date: dt.datetime | None = None,
) -> bytes:
    """The bytes of one DSN for ``recipient`` with ``status`` (4.x.x: delayed)."""
    when = date or dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)
    code = "550" if status.startswith("5") else "450"
    text = _TEMPLATE.format(
        return_path=return_path,
        recipient=recipient,
        status=status,
        action="failed" if status.startswith("5") else "delayed",
        diagnostic=diagnostic or f"{code} {status} <{recipient}>: Recipient address rejected",
        remote="mx.recipient.example",
        message_id=message_id or f"<{serial}.news@sender.example>",
        stamp=f"X-Bounceback-ID: {bounceback_id}\n" if bounceback_id else "",
        envid=f"Original-Envelope-Id: {envelope_id}\n" if envelope_id else "",
        boundary=f"B{serial:08d}.sender.example",
        serial=serial,
        date=format_datetime(when),
    )
    return text.replace("\n", "\r\n").encode("ascii")


def minimal_dsn(diagnostic: str, recipient: str = "kijitora@example.jp") -> bytes:
    """The least an RFC 3464 report can be: one failed recipient and its diagnostic, no
    Status field (the classifier must read everything from ``diagnostic``)."""
    return (
        "From: MAILER-DAEMON@mx.example.org\r\n"
        "To: sender@example.com\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        "MIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
        "--b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered.\r\n\r\n"
        "--b\r\nContent-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mx.example.org\r\n\r\n"
        f"Final-Recipient: rfc822; {recipient}\r\n"
        "Action: failed\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        "--b--\r\n"
    ).encode()


# The project's seed examples (issue 2): a diagnostic and how it must come out
# (hardbounce, reason, bounce type). Shared by the classify and the rules API tests.
MICROSOFT_BLOCK_LIST = (
    "550 5.7.1 Unfortunately, messages from [1.2.3.4] weren't sent. Please contact your "
    "Internet service provider since part of their network is on our block list"
)
SEED_EXAMPLES: list[tuple[str, bool, str, str]] = [
    ("552 5.2.2 Mailbox has exceeded the limit", False, "mailboxfull", "Quota"),
    (
        "550 5.2.1 The email account that you tried to reach is disabled",
        False,
        "suspend",
        "Inactive",
    ),
    ("550 No such recipient", True, "userunknown", "Invalid"),
    ("domain name does not exist", True, "hostunknown", "DNS"),
    (MICROSOFT_BLOCK_LIST, False, "blocked", "Sender"),
]
