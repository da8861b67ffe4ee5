"""Google Groups refusals, in whatever language Google wrote them."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_group_refusal_from_failed_recipients_header() -> None:
    report = load("lhost-googlegroups-02.eml")
    assert report.detector == "googlegroups"
    [rec] = report.records
    assert rec.recipient == "libsisimai@googlegroups.com"
    assert rec.action == "failed"
    assert rec.reason_hint == "rejected"
    assert "may not exist" in rec.diagnostic
    assert report.original.message_id == "<C49550E2-5112-44DD-9976-042A766A412C@example.jp>"
