"""Exchange 5.5-2003: "did not reach the following recipient(s)" blocks."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import exchange2003
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_text_only_report() -> None:
    report = parse((FIXTURES / "lhost-exchange2003-01.eml").read_bytes())
    assert report.detector == "exchange2003"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.action == "failed"
    assert rec.diagnostic.startswith("The recipient name is not recognized")
    # 000C05A6 is Exchange's own "unknown recipient" number.
    assert rec.reason_hint == "userunknown"
    assert rec.remote_mta == "gw"


def test_two_recipients_and_the_returned_message() -> None:
    report = parse((FIXTURES / "lhost-exchange2003-02.eml").read_bytes())
    assert [r.recipient for r in report.records] == [
        "kijitora@example.co.jp",
        "mikeneko@example.co.jp",
    ]
    for rec in report.records:
        assert "MTS-ID" not in rec.diagnostic
        assert rec.remote_mta == "xs.example.co.jp"
    assert report.original.message_id == "<000000000000000.0000000@example.jp>"


def test_ignores_other_formats() -> None:
    mail = Mail.from_bytes((FIXTURES / "lhost-postfix-01.eml").read_bytes())
    assert exchange2003.detect(mail) is None


# Exchange 2003 lists one recipient by its address alone and the next with a date.
BARE_AND_DATED = b"""\
From: System Administrator <postmaster@corp.example.com>
To: list-bounces@lists.example.org
Subject: Undeliverable: Weekly digest

Your message did not reach some or all of the intended recipients.

      Subject:	Weekly digest
      Sent:	12/4/2001 10:12 AM

The following recipient(s) could not be reached:

      jdoe@example.com
            A configuration error in the e-mail system caused the message to bounce.
            <mail.corp.example.com #5.3.5>

      second@example.com on 12/4/2001 10:12 AM
            You do not have permission to send to this recipient.
            <mail.corp.example.com #5.7.1>
"""


def test_address_alone_or_after_a_display_name() -> None:
    report = parse(BARE_AND_DATED)
    assert report.detector == "exchange2003"
    assert [(r.recipient, r.status) for r in report.records] == [
        ("jdoe@example.com", "5.3.5"),
        ("second@example.com", "5.7.1"),
    ]
    named = BARE_AND_DATED.replace(
        b"      jdoe@example.com\n", b"      'John Doe' <jdoe@example.com> on 12/4/2001 10:12 AM\n"
    )
    assert [r.recipient for r in parse(named).records] == [
        "jdoe@example.com",
        "second@example.com",
    ]
