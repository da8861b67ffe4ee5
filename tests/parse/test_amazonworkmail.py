"""Amazon WorkMail: DSN fields printed as text under "Technical report:"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_fields_in_text_part() -> None:
    report = parse((FIXTURES / "lhost-amazonworkmail-05.eml").read_bytes())
    assert report.detector == "amazonworkmail"
    [rec] = report.records
    assert rec.recipient == "sabatora@example.libsisimai.org"
    assert rec.status == "4.4.7"
    assert rec.reply_code == "554"
    assert "Connection timed out" in rec.diagnostic
    assert rec.reporting_mta == "a27-130.smtp-out.us-west-2.amazonses.com"
