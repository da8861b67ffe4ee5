"""BIGLOBE: "----- Non-delivered information -----"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_recipient_and_reason() -> None:
    report = parse((FIXTURES / "lhost-biglobe-01.eml").read_bytes())
    assert report.detector == "biglobe"
    [rec] = report.records
    assert rec.recipient == "postmaster@mxr.biglobe.ne.jp"
    assert (
        rec.diagnostic == "The number of messages in recipient's mailbox exceeded the local limit."
    )
