"""Apache James: the recipient is in the "Message details" RCPT TO line."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_recipient_and_error_from_the_details() -> None:
    # Its multipart/alternative lost its boundary parameter: the core repairs it.
    report = parse((FIXTURES / "lhost-apachejames-01.eml").read_bytes())
    assert report.detector == "apachejames"
    [rec] = report.records
    assert rec.recipient == "000000000000@vtext.example.com"
    assert rec.reply_code == "550"
    assert "no such user here" in rec.diagnostic
    assert report.original.subject == "Test message"
