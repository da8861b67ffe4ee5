"""qmail-send's plain-text bounce: one ``<address>:`` block per recipient."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_two_recipients_refused_at_rcpt() -> None:
    report = load("lhost-qmail-02.eml")
    assert report.detector == "qmail"
    assert report.kind == Kind.BOUNCE
    assert [r.recipient for r in report.records] == [
        "userunknown@example.jp",
        "filtered@example.jp",
    ]
    first, second = report.records
    assert (first.status, first.reply_code, first.smtp_command) == ("5.1.1", "550", "RCPT")
    assert first.remote_mta == "192.0.2.153"
    assert "User Unknown" in first.diagnostic
    assert second.status == "5.2.1"
    # The returned message is inline text after qmail's marker line.
    assert report.original.subject == "TEST #4"


def test_multiline_reply_is_joined_without_repeated_prefixes() -> None:
    report = load("lhost-qmail-14.eml")
    [rec] = report.records
    assert rec.smtp_command == "DATA"  # "failed after I sent the message"
    assert (rec.status, rec.reply_code) == ("5.7.26", "550")
    assert "domain's DMARC policy. Please contact" in rec.diagnostic
    assert "550-5.7.26 DMARC" not in rec.diagnostic
    assert report.original.message_id == "<20240624085401.44481.qmail@nq.example.jp>"


def test_indimail_variant_with_enclosed_marker() -> None:
    report = load("lhost-qmail-25.eml")
    assert [r.recipient for r in report.records] == [
        "mailboxfull@libsisimai.net",
        "userunknown@libsisimai.net",
    ]
    assert [r.status for r in report.records] == ["5.2.2", "5.1.1"]
    assert report.original.message_id == "<20240626063258.85881.qmail@email.example.jp>"
