"""Mail.Ru: Exim's notice behind a Russian preface, read by the exim module."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import mailru
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_two_recipients_from_the_exim_list() -> None:
    report = parse((FIXTURES / "lhost-mailru-03.eml").read_bytes())
    assert report.detector == "mailru"
    got = [(r.recipient, r.status, r.smtp_command) for r in report.records]
    # Each address once, although the Russian preface repeats the list.
    assert got == [
        ("mikeneko@example.jp", "5.2.2", "RCPT"),
        ("sabineko@example.jp", "5.2.1", "RCPT"),
    ]
    assert all(r.action == "failed" for r in report.records)


def test_plain_exim_is_not_mailru() -> None:
    data = (FIXTURES / "lhost-exim-02.eml").read_bytes()
    assert mailru.detect(Mail.from_bytes(data)) is None
    assert parse(data).detector == "exim"
