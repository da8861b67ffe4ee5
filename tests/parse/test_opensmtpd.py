"""OpenSMTPD: "address: reason" lines, with or without a terse DSN part."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_text_only_notice() -> None:
    report = load("lhost-opensmtpd-02.eml")
    assert report.detector == "opensmtpd"
    assert [(r.recipient, r.status) for r in report.records] == [
        ("mailboxfull@example.jp", "5.2.2"),
        ("userunknown@example.jp", "5.1.1"),
    ]
    assert report.original.subject == "test from OpenSMTPD"


def test_text_completes_the_terse_dsn() -> None:
    report = load("lhost-opensmtpd-17.eml")
    first, second = report.records
    # The DSN says only 5.0.0; the text holds the remote reply.
    assert (first.status, first.reply_code) == ("5.1.1", "550")
    assert (second.status, second.reply_code) == ("5.2.2", "552")
    assert "Mailbox full" in second.diagnostic


def test_delay_notice() -> None:
    report = load("lhost-opensmtpd-12.eml")
    assert report.kind == Kind.DELAY
    [rec] = report.records
    assert rec.action == "delayed"
    assert rec.diagnostic == "No MX found for domain"
