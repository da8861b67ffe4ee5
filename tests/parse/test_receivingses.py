"""Amazon SES email receiving: bounces sent back by a receipt rule."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_temporary_failure_with_action_before_recipient() -> None:
    report = parse((FIXTURES / "lhost-receivingses-03.eml").read_bytes())
    assert report.detector == "receivingses"
    # "Action: failed" stands before Final-Recipient and still counts: final.
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "temperror@neko.example.jp"
    assert (rec.action, rec.status, rec.reply_code) == ("failed", "4.0.0", "450")
    assert rec.reporting_mta == "inbound-smtp.us-west-2.amazonaws.com"
