"""Bounce variants from outside the Sisimai set, second round: made-up messages.

Some bounce generators (CommuniGate Pro, and copies that passed through tools which
drop a blank line) put the returned message's header fields straight under the
part's own Content-Type line, with no blank line between: the returned headers are
then the part's headers, and its body is the returned message's body.
"""

from __future__ import annotations

from bounceback.classify import classify
from bounceback.parse import parse

# A DSN whose message/rfc822 part has no blank line after its Content-Type.
RFC822_PART_WITHOUT_BLANK = b"""\
Return-Path: <>
From: <MAILER-DAEMON@mx.example.net>
To: <sender@example.org>
Subject: Undeliverable mail: Spring offers
Message-ID: <receipt-7@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="r1"

--r1
Content-Type: text/plain; charset="utf-8"

Failed to deliver to '<gone@example.net>'
LOCAL module(account gone) reports:
 account is not found

--r1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Original-Recipient: rfc822;<gone@example.net>
Final-Recipient: rfc822;<gone@example.net>
Action: failed
Status: 5.1.1

--r1
Content-Type: message/rfc822
Received: from out.example.org ([192.0.2.8] verified)
  by mx.example.net (CommuniGate Pro SMTP 6.1)
  with ESMTP id 4711 for gone@example.net; Tue, 08 May 2007 19:35:26 +0300
Message-ID: <offer-42@example.org>
Date: Tue, 8 May 2007 19:35:16 +0300
From: "Shop" <sender@example.org>
To: gone@example.net
Subject: Spring offers
MIME-Version: 1.0
Content-Type: multipart/alternative; boundary="inner"

--inner
Content-Type: text/plain

Hello

--inner--

--r1--
"""

# The same mistake in a text/rfc822-headers part (Postfix's "Undelivered Message
# Headers"), where only the returned headers were meant to be there.
HEADERS_PART_WITHOUT_BLANK = b"""\
Return-Path: <>
From: MAILER-DAEMON@mail.example.com (Mail Delivery System)
To: sender@example.org
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="q1"

--q1
Content-Description: Notification
Content-Type: text/plain; charset=us-ascii

This is the mail system at host mail.example.com.

<full@example.com>: maildir delivery failed: mailbox is full

--q1
Content-Description: Delivery report
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.com

Final-Recipient: rfc822; full@example.com
Action: failed
Status: 5.2.2
Diagnostic-Code: X-Postfix; maildir delivery failed: mailbox is full

--q1
Content-Description: Undelivered Message Headers
Content-Type: text/rfc822-headers
Received: from out.example.org (out.example.org [192.0.2.9])
\tby mail.example.com (Postfix) with ESMTP id 1B48
\tfor <full@example.com>; Thu, 13 Sep 2007 08:25:29 +0300 (EEST)
Message-ID: <news-9@example.org>
Date: Thu, 13 Sep 2007 08:25:04 +0300
From: "News" <sender@example.org>
To: full@example.com
Subject: September news

--q1--
"""


def test_returned_headers_under_the_part_content_type_are_the_original() -> None:
    report = parse(RFC822_PART_WITHOUT_BLANK)
    [bounce] = classify(report)
    assert bounce.record.recipient == "gone@example.net"
    assert report.original.message_id == "<offer-42@example.org>"
    assert report.original.subject == "Spring offers"
    assert report.original.to == "gone@example.net"


def test_returned_headers_part_without_blank_line_is_read() -> None:
    report = parse(HEADERS_PART_WITHOUT_BLANK)
    [bounce] = classify(report)
    assert bounce.record.recipient == "full@example.com"
    assert bounce.reason == "mailboxfull"
    assert report.original.message_id == "<news-9@example.org>"
    assert report.original.subject == "September news"


def test_a_part_with_only_its_own_fields_still_takes_the_inner_message() -> None:
    # The usual layout: a blank line after the part's headers.
    fixed = RFC822_PART_WITHOUT_BLANK.replace(
        b"Content-Type: message/rfc822\nReceived:", b"Content-Type: message/rfc822\n\nReceived:"
    )
    report = parse(fixed)
    assert report.original.message_id == "<offer-42@example.org>"
    assert report.original.subject == "Spring offers"


# AOL's own (AIRmail) notice: plain text, the recipients named by screen name.
AOL_AIRMAIL = b"""\
Return-Path: <>
Received: from air-xx01.mail.aol.com (air-xx01.mail.aol.com [172.19.1.2])
\tby omr-xx01.mx.aol.com (v117.7) with ESMTP id MAILOMRXX011; Wed, 14 Oct 2009 05:42:11 -0400
From: Mail Delivery Subsystem <MAILER-DAEMON@aol.com>
Date: Wed, 14 Oct 2009 05:38:51 EDT
To: <news@example.org>
Subject: Mail Delivery Problem
Mailer: AIRmail [v125.7]
X-AOL-IP: 172.19.1.2
Message-ID: <n1@omr-xx01.mx.aol.com>


Sorry news@example.org. Your mail to the following recipients could not be \
delivered because they are not accepting mail with attachments or embedded images:
\tsomescreenname
\tother.name@aol.com
"""


def test_aol_airmail_notice_names_screen_names_as_aol_addresses() -> None:
    report = parse(AOL_AIRMAIL)
    assert report.detector == "aol"
    bounces = classify(report)
    assert [b.record.recipient for b in bounces] == [
        "somescreenname@aol.com",
        "other.name@aol.com",
    ]
    # The recipients' own settings refused it: not a domain that takes no mail.
    assert {b.reason for b in bounces} == {"filtered"}
    assert not any(b.hardbounce for b in bounces)


def test_a_part_with_a_message_id_of_its_own_still_takes_the_inner_message() -> None:
    # Some generators give every MIME part a Message-ID (the bounce's own): that
    # alone is not the returned message's header block.
    own_id = RFC822_PART_WITHOUT_BLANK.replace(
        b"Content-Type: message/rfc822\nReceived:",
        b"Message-ID: <receipt-7@mx.example.net>\nContent-Transfer-Encoding: quoted-printable\n"
        b"Content-Type: message/rfc822\n\nReceived:",
    )
    report = parse(own_id)
    assert report.original.message_id == "<offer-42@example.org>"
    assert report.original.subject == "Spring offers"
