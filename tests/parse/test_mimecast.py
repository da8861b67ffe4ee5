"""Mimecast: "[Postmaster] Email Delivery Failure"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_alert_items() -> None:
    report = parse((FIXTURES / "lhost-mimecast-01.eml").read_bytes())
    assert report.detector == "mimecast"
    [rec] = report.records
    assert rec.recipient == "sabineko@neko.ef.example.org"
    assert rec.status == "5.4.1"
    assert rec.diagnostic.startswith("5.4.1 Recipient address rejected: Access denied.")
