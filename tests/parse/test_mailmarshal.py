"""MailMarshal: "Could not be delivered because of"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_reason_and_affected_recipients() -> None:
    report = parse((FIXTURES / "lhost-mailmarshal-02.eml").read_bytes())
    assert report.detector == "mailmarshal"
    [rec] = report.records
    assert rec.recipient == "kijitora@nyaan.example.com"
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")
    assert rec.diagnostic == "550 5.1.1 User unknown"
    assert (rec.remote_mta, rec.reporting_mta) == ("203.0.113.2", "rr1.example.com")
