"""X.400 gateways and Exchange: recipients written inside X.400 or Exchange address forms.

Made-up messages in the shapes these gateways print: Exchange 5.5's
"c=US;a= ;p=...;dda:SMTP=user@host;" recipient line, a gateway's
"/RFC-822=user(a)host/O=.../" O/R address with RFC 2156 escapes, Exchange's
encapsulated "IMCEASMTP-user+40host@..." address, and a DSN whose
Final-Recipient is an X.400 address.
"""

from __future__ import annotations

from bounceback.parse import parse
from bounceback.parse.lhost.x400 import x400_address
from bounceback.parse.text import find_address, find_addresses

# Exchange 5.5 names the recipient by its X.400 address.
EXCHANGE55_X400 = b"""\
Received: by exch1.example.com with Internet Mail Service (5.5.2653.19)
	id <ABCD1234>; Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <ndr-1@exch1.example.com>
From: System Administrator <postmaster@example.com>
To: list-bounces@lists.example.org
Subject: Undeliverable: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
MIME-Version: 1.0
X-Mailer: Internet Mail Service (5.5.2653.19)
Content-Type: multipart/mixed; boundary="----_=_NextPart_000_01C17CD2.4E3A1B20"

------_=_NextPart_000_01C17CD2.4E3A1B20
Content-Type: text/plain; charset="iso-8859-1"

Your message

  To:      list@lists.example.org
  Subject: Weekly digest
  Sent:    Tue, 4 Dec 2001 10:12:03 -0500

did not reach the following recipient(s):

c=US;a= ;p=Example Corp;o=Exchange;dda:SMTP=jdoe@example.com; on Tue, 4 Dec 2001 10:12:09 -0500
    The recipient name is not recognized
	The MTS-ID of the original message is: c=us;a= ;p=example corp;l=EXCH1-011204151209Z-1234
    MSEXCH:IMS:Example Corp:Main:EXCH1 0 (000C05A6) Unknown Recipient

------_=_NextPart_000_01C17CD2.4E3A1B20
Content-Type: message/rfc822

Message-ID: <digest-77@lists.example.org>
From: list-bounces@lists.example.org
To: list@lists.example.org
Subject: Weekly digest
Date: Tue, 4 Dec 2001 10:12:03 -0500

Hello
------_=_NextPart_000_01C17CD2.4E3A1B20--
"""

# A gateway prints the O/R address with the escaped RFC-822 attribute.
GATEWAY_RFC822 = b"""\
From: X.400 Gateway <postmaster@gw.example.de>
To: list-bounces@lists.example.org
Subject: Non-delivery notification: Weekly digest
Date: Mon, 3 Mar 1997 08:00:00 +0100
Message-ID: <x400-1@gw.example.de>

Your message was not delivered to the following recipient:

  /RFC-822=hans.mueller(a)firma_ag.example.de/O=FIRMA/PRMD=FIRMA/ADMD=DBP/C=DE/

Reason:      Unable to transfer
Diagnostic:  Unrecognized OR name
(MTS-ID C=DE;A=DBP;P=FIRMA;L=GW1-970303070000Z-42)

Original message follows:

From: list-bounces@lists.example.org
To: list@lists.example.org
Subject: Weekly digest
"""

# Exchange 2000's notice with an encapsulated SMTP address.
IMCEA = b"""\
From: Microsoft Exchange <postmaster@corp.example.com>
To: list-bounces@lists.example.org
Subject: Undeliverable: Weekly digest
Date: Tue, 4 Dec 2001 10:12:09 -0500
Message-ID: <ndr-2@corp.example.com>
Content-Type: text/plain

Your message did not reach some or all of the intended recipients.

      Subject:	Weekly digest
      Sent:	12/4/2001 10:12 AM

The following recipient(s) could not be reached:

      IMCEASMTP-jane+2Edoe+40example+2Enet@corp.example.com on 12/4/2001 10:12 AM
            The e-mail account does not exist at the organization this message was sent to.
            <mail.corp.example.com #5.1.1>
"""

X400_DSN = b"""\
From: postmaster@gw.example.de
To: list-bounces@lists.example.org
Subject: Delivery Status Notification (Failure)
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="xb"

--xb
Content-Type: text/plain

Your message could not be delivered.

--xb
Content-Type: message/delivery-status

Reporting-MTA: x400; GW1.EXAMPLE.DE

Final-Recipient: x400; /RFC-822=eva(u)lang(a)example.de/O=EXAMPLE/ADMD=DBP/C=DE/
Action: failed
Status: 5.1.1

--xb--
"""

# The gateway's report also prints the sender's own X.400 address.
SENDER_IN_X400 = b"""\
From: X.400 Gateway <postmaster@gw.example.de>
To: list-bounces@lists.example.org
Subject: Non-delivery notification
Date: Mon, 3 Mar 1997 08:00:00 +0100

Originator: /RFC-822=list-bounces(a)lists.example.org/ADMD= /C=DE/

Your message was not delivered to the following recipient:

  /RFC-822=otto(a)example.de/O=EXAMPLE/ADMD=DBP/C=DE/

Reason: Unable to transfer
Diagnostic: Unrecognized OR name
"""


def test_exchange55_recipient_by_its_x400_address() -> None:
    report = parse(EXCHANGE55_X400)
    assert report.detector == "exchange2003"
    [rec] = report.records
    assert rec.recipient == "jdoe@example.com"
    assert "recipient name is not recognized" in rec.diagnostic
    assert rec.reason_hint == "userunknown"  # Exchange's own 000C05A6


def test_gateway_report_with_escaped_rfc822_attribute() -> None:
    report = parse(GATEWAY_RFC822)
    assert report.detector == "x400"
    [rec] = report.records
    # "(a)" is "@" and "_" stays as written; the MTS-ID only names the message.
    assert rec.recipient == "hans.mueller@firma_ag.example.de"
    assert rec.diagnostic == "Reason: Unable to transfer Diagnostic: Unrecognized OR name"
    assert rec.action == "failed"


def test_the_sender_x400_address_is_not_a_recipient() -> None:
    report = parse(SENDER_IN_X400)
    assert [r.recipient for r in report.records] == ["otto@example.de"]


def test_encapsulated_exchange_address_is_decoded() -> None:
    report = parse(IMCEA)
    assert [r.recipient for r in report.records] == ["jane.doe@example.net"]
    assert report.records[0].status == "5.1.1"


def test_dsn_with_an_x400_final_recipient() -> None:
    report = parse(X400_DSN)
    assert report.detector == "x400"
    [rec] = report.records
    assert rec.recipient == "eva_lang@example.de"
    assert rec.status == "5.1.1"


def test_address_forms() -> None:
    assert x400_address("/RFC-822=a(p)b(a)example.org/C=DE/") == "a%b@example.org"
    assert x400_address("c=US;a= ;p=Org;dda:SMTP=x.y@example.com;") == "x.y@example.com"
    assert x400_address("/S=Doe/G=John/O=Org/C=US/") == ""
    assert find_address("dda:SMTP=jo@example.com;") == "jo@example.com"
    assert find_address("RFC-822=jo@example.com") == "jo@example.com"
    assert find_address("IMCEASMTP-jo+2Ebo+40example+2Ecom@ex.example.net") == "jo.bo@example.com"
    # A VERP address keeps its "=": only the gateways' own type names are removed.
    assert find_addresses("list-bounces+jo=example.com@lists.example.org") == [
        "list-bounces+jo=example.com@lists.example.org"
    ]
