"""MX Logic: Exim-derived, address and reply on one line."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_reply_continues_on_the_next_line() -> None:
    report = parse((FIXTURES / "lhost-mxlogic-03.eml").read_bytes())
    assert report.detector == "mxlogic"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.co.jp"
    assert rec.reply_code == "550"
    assert rec.diagnostic == "550 unknown user <kijitora@example.co.jp>"
    assert report.original.message_id == "<0000.0000000000000000@mx4145.example.org>"
