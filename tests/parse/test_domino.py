"""Domino: "was not delivered to: ... because: ..."."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_text_report() -> None:
    report = parse((FIXTURES / "lhost-domino-01.eml").read_bytes())
    assert report.detector == "domino"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.diagnostic == "User some.name (kijitora@example.jp) not listed in Domino Directory"


def test_text_recipient_leads_the_dsn() -> None:
    # The DSN's Final-Recipient is the routed address; the text has the one sent to.
    report = parse((FIXTURES / "lhost-domino-03.eml").read_bytes())
    [rec] = report.records
    assert rec.recipient == "kijitora@neko.example.com"
    assert rec.status == "5.0.0"
    assert rec.remote_mta == "neko22.example.org"
    assert "Maximum hop count exceeded" in rec.diagnostic
