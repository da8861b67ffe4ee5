"""au one net (KDDI): "Could not be delivered to: <address>"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_recipient_and_reason() -> None:
    report = parse((FIXTURES / "lhost-kddi-01.eml").read_bytes())
    assert report.detector == "kddi"
    [rec] = report.records
    assert rec.recipient == "kijitora@x0000000000000.dion.ne.jp"
    assert rec.diagnostic == "As their mailbox is full."
