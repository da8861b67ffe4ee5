"""Exim's "Mail delivery failed" text, delay warnings and pipe deliveries."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_two_addresses_refused_after_rcpt() -> None:
    report = load("lhost-exim-02.eml")
    assert report.detector == "exim"
    assert report.kind == Kind.BOUNCE
    assert [r.recipient for r in report.records] == ["kijitora@example.jp", "sabatora@example.jp"]
    rec = report.records[0]
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.1.1", "550", "RCPT")
    assert rec.remote_mta == "mx.example.jp"
    assert rec.diagnostic.endswith("550 5.1.1 <kijitora@example.jp>... User Unknown")
    assert report.records[1].status == "5.2.1"
    # Inline copy after "------ This is a copy of the message, including all the headers."
    assert report.original.message_id == "<E1X58pB-0004bW-2s@marutamachi.example.org>"
    assert report.original.subject == "test from Exim 1"


def test_file_delivery_takes_the_recipient_from_x_failed_recipients() -> None:
    report = load("lhost-exim-07.eml")
    [rec] = report.records
    assert rec.recipient == "shiba@example.com"
    assert rec.diagnostic == "mailbox is full: retry timeout exceeded"


def test_pipe_delivery_uses_generated_by_and_the_pipe_output() -> None:
    report = load("lhost-exim-53.eml")
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert "Failed to read response template" in rec.diagnostic


def test_delay_warning_is_a_delay() -> None:
    report = load("lhost-exim-38.eml")
    assert report.kind == Kind.DELAY
    [rec] = report.records
    assert rec.action == "delayed"
    assert (rec.reply_code, rec.smtp_command) == ("450", "MAIL")
    assert rec.remote_mta == "mta-nyaan.example.co.jp"
