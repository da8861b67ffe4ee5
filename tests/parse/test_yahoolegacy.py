"""Yahoo!'s older qmail-derived bounce ("Message from <domain>.")."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_three_recipients() -> None:
    report = parse((FIXTURES / "lhost-x2-02.eml").read_bytes())
    assert report.detector == "yahoolegacy"
    assert [r.recipient for r in report.records] == [
        "kijitora@example.com",
        "mikeneko@example.com",
        "sabineko@example.com",
    ]
    assert "account has been disabled or discontinued" in report.records[1].diagnostic


def test_queue_timeout() -> None:
    [rec] = parse((FIXTURES / "lhost-x2-06.eml").read_bytes()).records
    assert rec.recipient == "kijitora-nyaan@neko.example.com"
    assert rec.status == "4.4.1"
    assert "in the queue too long" in rec.diagnostic
