"""Sendmail's DSN with its text: fatal-error list and session transcript."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_dsn_recipients_with_transcript_command() -> None:
    report = load("lhost-sendmail-02.eml")
    assert report.detector == "sendmail"
    recipients = [r.recipient for r in report.records]
    # The DSN decides who failed; the text only completes its records.
    assert recipients == ["userunknown@example.org", "filtered@example.com"]
    first = report.records[0]
    assert (first.status, first.reply_code, first.smtp_command) == ("5.1.1", "550", "DATA")
    assert report.original.message_id == "<C6625D0F-A302-4980-BEAB-2AF883EA0116@example.jp>"


def test_mangled_dsn_recipient_is_named_by_the_fatal_list() -> None:
    report = load("lhost-sendmail-15.eml")
    [rec] = report.records
    assert rec.recipient == "kijitora@example.org"  # the DSN says "@mx.example.org"
    assert rec.status == "5.1.2"


def test_exit_code_diagnostic_is_replaced_by_the_transcript() -> None:
    report = load("lhost-sendmail-13.eml")
    [rec] = report.records
    assert rec.diagnostic == "550 5.0.0 Insufficient permission"
    assert rec.reply_code == "550"


def test_forwarded_quoted_dsn_is_still_read() -> None:
    report = load("lhost-sendmail-14.eml")
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert rec.status == "5.1.1"
    assert rec.remote_mta == "mx.example.com"


def test_the_remote_enhanced_code_wins_over_the_dsn_status() -> None:
    report = load("lhost-sendmail-36.eml")
    [rec] = report.records
    # Status says 5.1.1; the remote server answered "550 5.7.1 IP address blacklisted".
    assert rec.status == "5.7.1"
    assert rec.diagnostic == "550 5.7.1 IP address blacklisted by recipient"


def test_a_generic_code_in_the_text_does_not_override_a_specific_status() -> None:
    report = load("lhost-sendmail-13.eml")
    [rec] = report.records
    assert rec.status == "5.3.0"  # the transcript's "550 5.0.0" says less
