"""The unidentified "X6" MTA: "We had trouble delivering your message."."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_refused_message() -> None:
    report = parse((FIXTURES / "lhost-x6-01.eml").read_bytes())
    assert report.detector == "x6"
    [rec] = report.records
    assert rec.recipient == "kijitora@nyaan.example.org"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.4.6", "554", "DATA")
    assert rec.remote_mta == "192.0.2.223"


def test_rejected_recipient() -> None:
    [rec] = parse((FIXTURES / "lhost-x6-02.eml").read_bytes()).records
    assert rec.recipient == "kijitora@libsisimai.org"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.1.1", "550", "RCPT")
    assert rec.remote_mta == "smtpd.libsisimai.org"
    assert rec.diagnostic == "550 5.1.1 User unknown"
