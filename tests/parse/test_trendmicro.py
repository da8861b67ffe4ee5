"""Trend Micro InterScan."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_transcript() -> None:
    report = parse((FIXTURES / "lhost-trendmicro-01.eml").read_bytes())
    assert report.detector == "trendmicro"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.co.jp"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.1.1", "550", "RCPT")


def test_unable_to_deliver_notice() -> None:
    report = parse((FIXTURES / "lhost-trendmicro-03.eml").read_bytes())
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.diagnostic.startswith("Unable to deliver message to <kijitora@example.jp>")
