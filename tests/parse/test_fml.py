"""fml: a mailing list's notices to a poster."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_not_a_member() -> None:
    report = parse((FIXTURES / "lhost-fml-02.eml").read_bytes())
    assert report.detector == "fml"
    [rec] = report.records
    assert rec.recipient == "neko-nyaan@example.org"
    assert rec.reason_hint == "rejected"


def test_loop_alert() -> None:
    [rec] = parse((FIXTURES / "lhost-fml-03.eml").read_bytes()).records
    assert rec.recipient == "neko@example.co.jp"
    assert rec.reason_hint == "systemerror"
