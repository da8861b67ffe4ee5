"""Feedback reports: ARF fields, several recipients, JMRP, Apple unsubscribe."""

from __future__ import annotations

import base64
from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_original_rcpt_to_wins_over_enclosed_to() -> None:
    report = load("arf-14.eml")
    assert (report.detector, report.kind) == ("arf", Kind.COMPLAINT)
    [rec] = report.records
    # The enclosed message says To: kijitora@yahoo.com; the report knows better.
    assert rec.recipient == "kijitora@y.example.com"
    assert rec.feedback_type == "abuse"
    assert rec.reason_hint == "feedback"


def test_every_original_rcpt_to_and_source_ip_without_report_type() -> None:
    report = load("arf-16.eml")
    assert report.kind == Kind.COMPLAINT
    assert [r.recipient for r in report.records] == [
        "kijitora@example.com",
        "sironeko@example.com",
        "mikeneko@example.com",
        "sabatora@example.com",
        "sirokiji@example.org",
        "kuroneko@example.com",
        "sabineko@example.com",
    ]
    assert {r.remote_mta for r in report.records} == {"192.0.2.1"}


def test_auth_failure_report_with_headers_only() -> None:
    [rec] = load("arf-19.eml").records
    assert rec.feedback_type == "auth-failure"
    assert rec.recipient == "kijitora@example.org"


def test_redacted_report_has_no_recipient() -> None:
    report = load("arf-11.eml")
    assert report.kind == Kind.COMPLAINT
    assert [r.recipient for r in report.records] == [""]


def test_original_mail_from_is_the_return_path() -> None:
    # Only the report names the envelope sender; the enclosed copy has no Return-Path.
    report = load("arf-16.eml")
    assert report.original.return_path == "neko@example.jp"


def test_microsoft_jmrp() -> None:
    report = load("arf-22.eml")
    assert (report.detector, report.kind) == ("arf", Kind.COMPLAINT)
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert rec.remote_mta == "192.0.2.222"


def test_apple_unsubscribe_is_opt_out() -> None:
    report = load("arf-26.eml")
    assert report.kind == Kind.COMPLAINT
    [rec] = report.records
    assert (rec.recipient, rec.feedback_type) == ("example@icloud.com", "opt-out")


def test_a_bounce_is_not_a_complaint() -> None:
    assert load("lhost-gmail-01.eml").kind != Kind.COMPLAINT


def test_forwarded_outlook_message_is_not_a_jmrp_report() -> None:
    data = (FIXTURES / "arf-22.eml").read_bytes()
    data = data.replace(b"From: staff@hotmail.com", b"From: someone@example.org", 1)
    data = data.replace(b"complaint about message from", b"Fwd: look at this from", 1)
    assert parse(data).kind != Kind.COMPLAINT


def test_base64_encoded_feedback_part() -> None:
    fields = b"Feedback-Type: fraud\r\nVersion: 1\r\nOriginal-Rcpt-To: <x@example.net>\r\n"
    data = (
        b"From: fbl@example.com\nSubject: report\nMIME-Version: 1.0\n"
        b"Content-Type: multipart/report; report-type=feedback-report; boundary=B\n\n"
        b"--B\nContent-Type: text/plain\n\nreport\n"
        b"--B\nContent-Type: message/feedback-report\nContent-Transfer-Encoding: base64\n\n"
        + base64.encodebytes(fields)
        + b"--B--\n"
    )
    [rec] = parse(data).records
    assert (rec.recipient, rec.feedback_type) == ("x@example.net", "fraud")
