"""SendGrid: X-SendGrid fields and its non-standard "Action: expired"."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_expired_is_final_and_hinted() -> None:
    report = parse((FIXTURES / "lhost-sendgrid-03.eml").read_bytes())
    assert report.detector == "sendgrid"
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "kijitora@example.org"
    assert rec.action == "failed"
    assert rec.reason_hint == "expired"
    assert rec.diagnostic == "Connection timed out"
    assert rec.status == ""
