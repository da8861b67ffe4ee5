"""Bounces whose remote host is a provider: Facebook, MessageLabs."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_fields_before_final_recipient_still_belong_to_it() -> None:
    # Facebook prints Diagnostic-Code and Status above Final-Recipient.
    [rec] = load("rhost-facebook-03.eml").records
    assert rec.recipient == "kijitora@facebook.com"
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")
    assert "Refused due to recipient preferences" in rec.diagnostic


def test_messagelabs_without_recipient_fields() -> None:
    report = load("rhost-messagelabs-01.eml")
    assert report.detector == "messagelabs"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.messagelabs.com"
    assert rec.reply_code == "550"
    assert rec.diagnostic.startswith("550-Please turn on SMTP Authentication")
    assert rec.reporting_mta == "server-0.bemta-0.messagelabs.com"


def test_messagelabs_with_recipient_fields() -> None:
    [rec] = load("rhost-messagelabs-02.eml").records
    assert rec.recipient == "kijitora@neko.example.org"
    assert (rec.status, rec.reply_code) == ("5.0.0", "550")
    assert rec.remote_mta == "mail.neko.example.org"
