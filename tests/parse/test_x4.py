"""The qmail-based "X4" MTA: "child status 100..." reasons."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_reason_without_the_exit_status() -> None:
    report = parse((FIXTURES / "lhost-x4-01.eml").read_bytes())
    assert report.detector == "x4"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert rec.diagnostic == (
        "The e-mail message could not be delivered because the user's mailfolder is full."
    )
    assert report.original.message_id == "<1d487c58d0faacf5c0cc6519bd15395f@example.com>"
