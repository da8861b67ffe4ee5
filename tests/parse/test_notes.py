"""Lotus Notes SMTP MTA: "------- Failure Reasons --------"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_iso_2022_jp_reason() -> None:
    report = parse((FIXTURES / "lhost-notes-02.eml").read_bytes())
    assert report.detector == "notes"
    [rec] = report.records
    assert rec.recipient == "kijitora@u1.example.co.jp"
    assert rec.diagnostic == "ディレクトリのリストにありません"
    assert report.original.message_id == "<000000000.0000000000000.notes@example.co.jp>"


def test_english_reason() -> None:
    [rec] = parse((FIXTURES / "lhost-notes-03.eml").read_bytes()).records
    assert rec.recipient == "kijitora@example.com"
    assert rec.diagnostic == "User not listed in public Name & Address Book"
