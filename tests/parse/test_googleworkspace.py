"""Google's current bounce: DSN fields, or X-Failed-Recipients, plus the response text."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_empty_delivery_status_falls_back_to_the_header_and_response() -> None:
    report = load("lhost-googleworkspace-01.eml")
    assert report.detector == "googleworkspace"
    [rec] = report.records
    assert rec.recipient == "neko-nyaan-cat-meeting@google-groups.example.com"
    assert rec.action == "failed"
    assert rec.diagnostic.startswith("Unspecified Error (SENT_SECOND_EHLO)")


def test_missing_diagnostic_code_takes_googles_explanation() -> None:
    [rec] = load("rhost-gsuite-02.eml").records
    assert rec.recipient == "kijitora@example.it"
    assert rec.status == "5.0.0"
    assert "the address couldn't be found" in rec.diagnostic
    assert "Learn more" not in rec.diagnostic


def test_delivery_incomplete_is_a_delay() -> None:
    report = load("rhost-gsuite-06.eml")
    assert report.kind == Kind.DELAY
    [rec] = report.records
    assert rec.recipient == "sotoneko@nora.nyaan.jp"
    assert rec.status == "4.4.1"
    assert rec.diagnostic.startswith("The recipient server did not accept our requests")


def test_without_fields_or_header_the_sentence_names_the_recipient() -> None:
    data = (FIXTURES / "rhost-gsuite-02.eml").read_bytes()
    start = data.index(b"Content-Type: message/delivery-status")
    end = data.index(b"--001a1140640e599149054b769e99", start)
    report = parse(data[:start] + b"Content-Type: text/x-removed\n\n" + data[end:])
    assert report.detector == "googleworkspace"
    assert [r.recipient for r in report.records] == ["kijitora@example.it"]
