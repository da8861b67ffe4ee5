"""Zoho Mail: "address reason, ERROR_CODE :550, ERROR_CODE :text" lines."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_two_recipients() -> None:
    report = parse((FIXTURES / "lhost-zoho-02.eml").read_bytes())
    assert report.detector == "zoho"
    got = [(r.recipient, r.status, r.reply_code) for r in report.records]
    assert got == [
        ("mikeneko@example.co.jp", "5.2.1", "550"),
        ("sabineko@example.co.jp", "5.2.2", "550"),
    ]
    assert (
        report.original.message_id
        == "<14a3e1d1c33.f7b5d16d10424.9039632619844387192@zoho.example.com>"
    )


def test_temporary_code_without_text() -> None:
    [rec] = parse((FIXTURES / "lhost-zoho-05.eml").read_bytes()).records
    assert rec.recipient == "kijitora@7jo.example.jp"
    assert rec.reply_code == "421"
    # Zoho gave up ("This is a permanent error"): a failure, whatever the reply class.
    assert rec.action == "failed"
    assert rec.diagnostic == "421 Host not reachable."
