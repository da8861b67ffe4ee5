"""Bounce variants from outside the Sisimai set: made-up messages in their formats.

Each is modelled on a kind of real bounce the corpus lacks (a site-translated
qmail bounce; a DSN whose only reason is in its text, under a heading line).
"""

from __future__ import annotations

from bounceback.classify import classify
from bounceback.model import Kind
from bounceback.parse import parse

# qmail-send with the site's own (translated) wording: none of the English
# sentences, only the "invoked for bounce" stamp and the "<address>:" blocks.
QMAIL_TRANSLATED = b"""\
Return-Path: <>
Received: (qmail 74903 invoked for bounce); 30 Oct 2006 18:53:46 -0000
Date: 30 Oct 2006 18:53:46 -0000
From: MAILER-DAEMON@mx.example.com.ar
To: sender@example.org
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"
Subject: failure notice

--b1

(mx.example.com.ar)
Su mensaje no pudo ser entregado - Your message could not be delivered.

<nobody@example.com.ar>:
Sorry, no mailbox here by that name. (#5.1.1)

--- Mensaje original adjunto.

--b1
Content-Type: message/rfc822

From: Sender <sender@example.org>
To: nobody@example.com.ar
Subject: Newsletter
Message-ID: <n1@example.org>

hello

--b1--
"""

# A DSN without Diagnostic-Code; the text names the address on a heading line
# and gives the reason on the lines under it (CommuniGate Pro's layout).
REASON_UNDER_HEADING = b"""\
Return-Path: <>
From: <MAILER-DAEMON@mail.example.net>
To: <sender@example.org>
Subject: Undeliverable mail: Newsletter
Message-ID: <receipt-1@mail.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type="delivery-status"; boundary="b2"

--b2
Content-Type: text/plain; charset="utf-8"

Failed to deliver to '<fred@example.net>'
LOCAL module(account fred) reports:
 account is full (quota exceeded)

--b2
Content-Type: message/delivery-status

Reporting-MTA: dns; mail.example.net

Original-Recipient: rfc822;<fred@example.net>
Final-Recipient: LOCAL;<fred>
Action: failed
Status: 5.0.0

--b2
Content-Type: text/rfc822-headers

From: Sender <sender@example.org>
To: Fred <fred@example.net>
Subject: Newsletter
Message-ID: <n2@example.org>

--b2--
"""


def test_translated_qmail_bounce_is_read_by_its_received_stamp() -> None:
    report = parse(QMAIL_TRANSLATED)
    assert report.kind == Kind.BOUNCE
    assert report.detector == "qmail"
    [rec] = report.records
    assert rec.recipient == "nobody@example.com.ar"
    assert rec.status == "5.1.1"
    assert "no mailbox here by that name" in rec.diagnostic
    assert report.original.message_id == "<n1@example.org>"


def test_qmail_stamp_for_a_delivery_is_not_a_bounce() -> None:
    # "invoked from network" is an ordinary delivery by qmail, not a bounce.
    plain = QMAIL_TRANSLATED.replace(b"invoked for bounce", b"invoked from network")
    assert parse(plain).detector != "qmail"


def test_reason_under_a_heading_line_is_the_diagnostic() -> None:
    report = parse(REASON_UNDER_HEADING)
    [rec] = report.records
    assert rec.recipient == "fred@example.net"
    # The heading alone says nothing; the quoted address leaves no "'< >'" behind.
    assert "account is full (quota exceeded)" in rec.diagnostic
    assert "'<" not in rec.diagnostic
    [bounce] = classify(report)
    assert bounce.reason == "mailboxfull"


# An autoresponder's acknowledgement: no Auto-Submitted, only "Precedence: bulk"
# and its subject.
ACKNOWLEDGEMENT = b"""\
Return-Path: <>
To: <newsletter-bounces@example.org>
From: John Smith <john@example.net>
Subject: Thank you for your e-mail
Date: Thu, 15 Jul 2010 14:33:27 +0200
Message-Id: <ack-1@mx.example.net>
Precedence: bulk

Thank you for your e-mail.
I will endeavour to reply as soon as possible.
"""


def test_acknowledgement_subject_is_an_autoreply() -> None:
    report = parse(ACKNOWLEDGEMENT)
    assert report.kind == Kind.AUTOREPLY
    [rec] = report.records
    assert rec.recipient == "john@example.net"


def test_bounce_that_thanks_is_still_a_bounce() -> None:
    # The acknowledgement subject never outweighs a bounce's own marks.
    bounce = ACKNOWLEDGEMENT.replace(
        b"Thank you for your e-mail.", b"This message could not be delivered: 550 5.1.1 unknown"
    ).replace(b"From: John Smith <john@example.net>", b"From: MAILER-DAEMON@example.net")
    assert parse(bounce).kind != Kind.AUTOREPLY


def test_bracketed_polish_autoreply_subject() -> None:
    message = ACKNOWLEDGEMENT.replace(
        b"Subject: Thank you for your e-mail",
        b"Subject: [Automatyczna =?iso-8859-2?Q?odpowied=BC?=] test",
    ).replace(b"Precedence: bulk", b"Precedence: junk")
    assert parse(message).kind == Kind.AUTOREPLY


# Sendmail's DSN keeps only the first line of a multi-line reply; its transcript
# has the whole reply, which says it was the sender's callout that failed.
SENDMAIL_FIRST_LINE_ONLY = b"""\
Date: Thu, 1 Jan 2015 18:21:54 GMT
From: Mail Delivery Subsystem <MAILER-DAEMON@mta.example.org>
To: <bounces+x1@example.org>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b3"
Subject: Returned mail: see transcript for details
Auto-Submitted: auto-generated (failure)

--b3

   ----- The following addresses had permanent fatal errors -----
<someone@example.net>
    (reason: 550-Verification failed for <bounces+x1@example.org>)

   ----- Transcript of session follows -----
... while talking to mx.example.net.:
>>> DATA
<<< 550-Verification failed for <bounces+x1@example.org>
<<< 550-The mail server could not deliver mail to bounces+x1@example.org.  The account
<<< 550-or domain may not exist, they may be blacklisted, or missing the proper dns entries.
<<< 550 Sender verify failed
550 5.1.1 <someone@example.net>... User unknown
<<< 503 Valid RCPT command must precede DATA

--b3
Content-Type: message/delivery-status

Reporting-MTA: dns; mta.example.org

Final-Recipient: RFC822; someone@example.net
Action: failed
Status: 5.1.1
Remote-MTA: DNS; mx.example.net
Diagnostic-Code: SMTP; 550-Verification failed for <bounces+x1@example.org>

--b3--
"""


def test_first_line_of_a_reply_is_completed_from_the_transcript() -> None:
    report = parse(SENDMAIL_FIRST_LINE_ONLY)
    assert report.detector == "sendmail"
    [rec] = report.records
    # The failed recipient, never the sender the reply names.
    assert rec.recipient == "someone@example.net"
    assert "Sender verify failed" in rec.diagnostic
    [bounce] = classify(report)
    assert bounce.reason == "rejected"


# GroupWise Internet Agent's plain notice: indented "address (reason)" lines.
GROUPWISE = b"""\
Received: from GW_Domain-MTA by gw.example.org
\twith Novell_GroupWise; Tue, 26 Sep 2006 14:34:00 -0400
Message-Id: <s5193a58.029@gw.example.org>
X-Mailer: Novell GroupWise Internet Agent 7.0.1
Date: Tue, 26 Sep 2006 14:34:00 -0400
From: Mailer-Daemon@gw.example.org
To: sender@example.com
Subject: Message status - undeliverable
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="=__Part1__="

--=__Part1__=
Content-Type: text/plain; charset=UTF-8

The message that you sent was undeliverable to the following:

\tlocaluser (User account is expired)
\tnobody@example.org (user not found)


--=__Part1__=--
"""


def test_groupwise_notice_states_the_reason_for_its_own_mailbox() -> None:
    report = parse(GROUPWISE)
    assert report.detector == "groupwise"
    # The local user without a domain has no address to report; the sender never counts.
    [rec] = report.records
    assert rec.recipient == "nobody@example.org"
    assert rec.diagnostic == "user not found"
    [bounce] = classify(report)
    assert (bounce.reason, bounce.hardbounce) == ("userunknown", True)
    assert bounce.rule == "format:groupwise"


def test_groupwise_relayed_message_is_not_its_notice() -> None:
    # GWIA's X-Mailer on an ordinary message: no undeliverable heading, no claim.
    plain = GROUPWISE.replace(b"was undeliverable to the following", b"was read by")
    assert parse(plain).detector != "groupwise"
