"""LMail / LSMTP / LISTSERV "Error-For:" reports (made-up messages in their shape)."""

from __future__ import annotations

from bounceback.classify import classify
from bounceback.parse import parse

# LMail's own report: field blocks after "--> Error description:".
LMAIL = b"""\
Date:     Fri, 8 Jan 1993 20:04:50 +0100
From:     RFC822 mailer (LMail release 1.1a/1.7e) <MAILER@VM.EXAMPLE.EDU>
Subject:  Undelivered mail
To:       list-bounces@lists.example.org
X-Report-Type: Nondelivery; boundary="> Error description:"

An error was detected while processing the enclosed message. A list of
the affected recipients follows. This list is in a special format that
allows software like LISTSERV to automatically take action on incorrect
addresses; you can safely ignore the numeric codes.

--> Error description:
Error-For:  KLAUS@VM.EXAMPLE.EDU
Alias:      klaus.berg@example.edu
Error-Code: 3
Error-Text: No such local user.

Error-For:  MARIE@VM.EXAMPLE.EDU
Error-Code: 3
Error-Text: No such local user.

Error-End:  Two errors reported.

------------------------- Rejected message (5 lines) --------------------------
Date:        Fri, 8 Jan 1993 20:04:47 +0100
From:        List <list-bounces@lists.example.org>
To:          KLAUS@VM.EXAMPLE.EDU, MARIE@VM.EXAMPLE.EDU

text
"""

# A looser copy: the reply indented under "Error-for:", a copy of the message after.
LSMTP = b"""\
From: "LSMTP Mail Delivery Subsystem" <MAILER-DAEMON@mail.example.edu>
To: list-bounces@lists.example.org
Subject: Undeliverable mail
Date: Thu, 12 Oct 2000 14:02:11 -0400
Message-ID: <LSMTP-1@mail.example.edu>
MIME-Version: 1.0
Content-Type: text/plain

The enclosed message could not be delivered to some of its recipients.

Error-for:  prof_smith@cs.example.edu
            550 5.1.1 <prof_smith@cs.example.edu>... User unknown

Error-for:  <lab-admin@cs.example.edu>
  Host unknown (Name server: cs.example.edu: host not found)

------------------------- Rejected message -----------------------
From: list-bounces@lists.example.org
To: list@lists.example.org
Subject: news
"""

# A VM user id that is no address: the alias it was reached under is.
LOCAL_ID = LMAIL.replace(
    b"Error-For:  MARIE@VM.EXAMPLE.EDU", b"Error-For:  MARIE\nAlias:      marie.roux@example.edu"
)


def test_lmail_field_blocks() -> None:
    report = parse(LMAIL)
    assert report.detector == "lmail"
    assert [r.recipient for r in report.records] == [
        "KLAUS@VM.EXAMPLE.EDU",
        "MARIE@VM.EXAMPLE.EDU",
    ]
    assert all(r.diagnostic == "No such local user." for r in report.records)
    assert report.records[0].original_recipient == "klaus.berg@example.edu"
    # Nothing from the rejected message's own header (its From and To).
    assert all("lists.example.org" not in r.recipient for r in report.records)


def test_local_user_id_reports_its_alias() -> None:
    report = parse(LOCAL_ID)
    assert [r.recipient for r in report.records] == [
        "KLAUS@VM.EXAMPLE.EDU",
        "marie.roux@example.edu",
    ]


def test_lsmtp_replies_under_each_address() -> None:
    report = parse(LSMTP)
    assert report.detector == "lmail"
    first, second = report.records
    assert first.recipient == "prof_smith@cs.example.edu"
    assert first.status == "5.1.1"
    assert second.recipient == "lab-admin@cs.example.edu"
    assert second.diagnostic == "Host unknown (Name server: cs.example.edu: host not found)"
    assert [b.reason for b in classify(report)] == ["userunknown", "hostunknown"]
