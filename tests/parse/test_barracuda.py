"""Barracuda Spam Firewall: a DSN after its "blocked by our ... Firewall" notice."""

from __future__ import annotations

from pathlib import Path

from mime_edit import without_status_part

from bounceback.parse import parse
from bounceback.parse.lhost import barracuda
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_dsn_records() -> None:
    report = parse((FIXTURES / "lhost-barracuda-01.eml").read_bytes())
    assert report.detector == "barracuda"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("kijitora@example.org", "5.7.1", "550")
    assert rec.diagnostic == "550 5.7.1 Message content rejected, UBE, id=00000-22-225"
    assert rec.reporting_mta == "barracuda.cat.example.jp"


def test_notice_without_dsn_names_the_recipient() -> None:
    report = parse(without_status_part((FIXTURES / "lhost-barracuda-01.eml").read_bytes()))
    assert report.detector == "barracuda"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.org"
    assert rec.action == "failed"
    assert "blocked by our Spam Firewall" in rec.diagnostic


def test_other_dsns_are_not_barracuda() -> None:
    for name in ("rfc3464-04.eml", "lhost-postfix-02.eml"):
        data = (FIXTURES / name).read_bytes()
        assert barracuda.detect(Mail.from_bytes(data)) is None, name
