"""Failures reported in the read-receipt format (multipart/report; disposition-notification)."""

from __future__ import annotations

from bounceback.model import Kind
from bounceback.parse import parse

# A client removed the message unread: a failure for the reader.
DELETED_UNREAD = b"""\
From: "Anna Berg" <anna.berg@corp.example.com>
To: list-bounces@lists.example.org
Subject: Not read: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <mdn-1@corp.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="m1"

--m1
Content-Type: text/plain; charset="utf-8"

Your message

  To: anna.berg@corp.example.com
  Subject: Weekly digest
  Sent: Tue, 4 Dec 2001 10:12:03 -0500

was deleted without being read on Tue, 4 Dec 2001 10:12:09 -0500.

--m1
Content-Type: message/disposition-notification

Reporting-UA: corp.example.com; Microsoft Exchange Server
Final-Recipient: rfc822;anna.berg@corp.example.com
Original-Message-ID: <digest-5@lists.example.org>
Disposition: automatic-action/MDN-sent-automatically; deleted

--m1--
"""

# A gateway's rejection wrapped as a disposition notification.
REJECTED = b"""\
From: postmaster@corp.example.com
To: list-bounces@lists.example.org
Subject: Undeliverable: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <mdn-2@corp.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="m1"

--m1
Content-Type: text/plain; charset="utf-8"

Your message could not be delivered to the following recipient:

  ghost@corp.example.com
  550 5.1.1 Recipient address rejected: User unknown

--m1
Content-Type: message/disposition-notification

Reporting-UA: corp.example.com; MailGate
Final-Recipient: rfc822;ghost@corp.example.com
Original-Message-ID: <digest-5@lists.example.org>
Disposition: automatic-action/MDN-sent-automatically; deleted

--m1--
"""

# A plain read receipt.
READ = b"""\
From: "Anna Berg" <anna.berg@corp.example.com>
To: list-bounces@lists.example.org
Subject: Read: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <mdn-3@corp.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=disposition-notification; boundary="m1"

--m1
Content-Type: text/plain; charset="utf-8"

Your message was read on Tue, 4 Dec 2001 10:12:09 -0500.

--m1
Content-Type: message/disposition-notification

Reporting-UA: corp.example.com; Microsoft Exchange Server
Final-Recipient: rfc822;anna.berg@corp.example.com
Original-Message-ID: <digest-5@lists.example.org>
Disposition: manual-action/MDN-sent-manually; displayed

--m1--
"""


def test_deleted_without_being_read_is_a_bounce() -> None:
    report = parse(DELETED_UNREAD)
    assert report.detector == "mdnfailure"
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "anna.berg@corp.example.com"
    assert rec.action == "failed"
    assert "deleted without being read" in rec.diagnostic
    assert report.original.message_id == "<digest-5@lists.example.org>"


def test_rejection_in_a_disposition_notification() -> None:
    report = parse(REJECTED)
    assert report.detector == "mdnfailure"
    [rec] = report.records
    assert rec.recipient == "ghost@corp.example.com"
    assert rec.status == "5.1.1"
    assert rec.reply_code == "550"


def test_failure_said_by_the_disposition_field_alone() -> None:
    quiet = DELETED_UNREAD.replace(
        b"was deleted without being read on Tue, 4 Dec 2001 10:12:09 -0500.", b"Notice."
    )
    report = parse(quiet)
    assert report.detector == "mdnfailure"
    assert [r.recipient for r in report.records] == ["anna.berg@corp.example.com"]


def test_a_read_receipt_is_no_bounce() -> None:
    report = parse(READ)
    assert report.detector != "mdnfailure"
    assert report.kind != Kind.BOUNCE
    assert not report.records


def test_a_read_receipt_for_a_subject_with_failure_words_is_no_bounce() -> None:
    quoted = READ.replace(
        b"Your message was read on",
        b"Your message\n\n  Subject: Your claim was rejected\n\nwas read on",
    )
    assert parse(quoted).kind != Kind.BOUNCE
