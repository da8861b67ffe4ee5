"""Bigfoot: a Sendmail-style DSN from LiteMail at bigfoot.com."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import bigfoot
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_sendmail_template_from_bigfoot() -> None:
    report = parse((FIXTURES / "lhost-bigfoot-02.eml").read_bytes())
    assert report.detector == "bigfoot"
    [rec] = report.records
    assert (rec.recipient, rec.reply_code, rec.status) == ("kijitora@example.org", "553", "5.7.1")
    assert rec.diagnostic == "553 Invalid recipient kijitora@example.org (Mode: normal)"
    assert rec.remote_mta == "neko22.mx.example.org"


def test_plain_sendmail_is_not_bigfoot() -> None:
    data = (FIXTURES / "lhost-sendmail-02.eml").read_bytes()
    assert bigfoot.detect(Mail.from_bytes(data)) is None
    assert parse(data).detector == "sendmail"
