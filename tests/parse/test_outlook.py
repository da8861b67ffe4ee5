"""Outlook.com DSNs: the sentence above the recipient list fills a missing diagnostic."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_connection_failure_without_diagnostic_code() -> None:
    report = load("lhost-outlook-07.eml")
    assert report.detector == "outlook"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert (rec.action, rec.status) == ("failed", "4.4.7")
    assert rec.diagnostic.startswith("Unable to deliver message to the following recipients")


def test_delay_skips_the_warning_boilerplate() -> None:
    report = load("lhost-outlook-06.eml")
    assert report.kind == Kind.DELAY
    [rec] = report.records
    assert rec.diagnostic == "Delivery to the following recipients has been delayed."
