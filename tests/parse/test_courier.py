"""Courier: a standard DSN completed by the SMTP dialogue in its text."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_dialogue_gives_the_command_and_remote_host() -> None:
    report = parse((FIXTURES / "lhost-courier-02.eml").read_bytes())
    assert report.detector == "courier"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.smtp_command == "DATA"
    assert rec.remote_mta == "mfsmax.example.jp"  # "dns; mfsmax.example.jp [203.0.113.1]"
    assert rec.diagnostic == "550 Unknown user kijitora@example.jp"
    assert rec.reply_code == "550"
