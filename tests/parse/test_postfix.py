"""Postfix: DSN plus notification text, text-only bounces, lost delivery reports."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_text_only_bounce_in_iso_2022_jp() -> None:
    report = load("lhost-postfix-07.eml")
    assert report.detector == "postfix"
    [rec] = report.records
    assert rec.recipient == "kijitora@user.example.or.jp"
    assert rec.action == "failed"
    assert rec.reply_code == "550"
    assert rec.remote_mta == "mx.user.example.or.jp"
    assert rec.diagnostic.endswith("User unknown")
    assert report.original.subject == "Nyaaan"


def test_quoted_local_part_keeps_its_quotes() -> None:
    report = load("lhost-postfix-32.eml")
    [rec] = report.records
    assert rec.recipient == '"neko....nyaan...."@libsisimai.org'
    assert rec.status == "5.1.1"


def test_delivery_report_unavailable_falls_back_to_the_returned_message() -> None:
    report = load("lhost-postfix-64.eml")
    [rec] = report.records
    assert rec.recipient == "xxxx@wanadoo.fr"
    assert rec.status == ""


def test_bounce_forwarded_as_plain_text_is_read_from_its_dsn_fields() -> None:
    report = load("lhost-postfix-49.eml")
    [rec] = report.records
    assert rec.recipient == "kijitora-neko-nyaan@ntt.example.ne.jp"
    assert rec.reply_code == "421"
