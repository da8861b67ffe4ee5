"""Yandex: Postfix's notice from mailer-daemon@yandex.ru."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import yandex
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_two_recipients() -> None:
    report = parse((FIXTURES / "lhost-yandex-02.eml").read_bytes())
    assert report.detector == "yandex"
    got = [(r.recipient, r.status, r.reply_code, r.remote_mta) for r in report.records]
    assert got == [
        ("mikeneko@example.jp", "5.2.1", "550", "mx.example.jp"),
        ("sabineko@example.jp", "5.2.2", "550", "mx.example.jp"),
    ]
    assert report.original.message_id == "<28011417886669@web21h.yandex.ru>"


def test_plain_postfix_is_not_yandex() -> None:
    data = (FIXTURES / "lhost-postfix-02.eml").read_bytes()
    assert yandex.detect(Mail.from_bytes(data)) is None
    assert parse(data).detector == "postfix"
