"""The unidentified "X1" MTA: "address [reason]" lines."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_address_and_bracketed_reason() -> None:
    report = parse((FIXTURES / "lhost-x1-01.eml").read_bytes())
    assert report.detector == "x1"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.co.jp"
    assert rec.diagnostic == "User unknown"
