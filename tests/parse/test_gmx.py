"""GMX: United Internet's Exim-derived bounce."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_two_quoted_recipients() -> None:
    report = parse((FIXTURES / "lhost-gmx-03.eml").read_bytes())
    assert report.detector == "gmx"
    got = [(r.recipient, r.status, r.smtp_command, r.remote_mta) for r in report.records]
    assert got == [
        ("mikeneko@example.co.jp", "5.2.1", "RCPT", "mx.example.co.jp"),
        ("sabineko@example.co.jp", "5.2.2", "RCPT", "mx.example.co.jp"),
    ]
    assert report.records[1].diagnostic == "5.2.2 <sabineko@example.co.jp>... Mailbox Full"
    # The header copy's folded lines lost their indentation; the fields still read.
    assert report.original.message_id.startswith("<trinity-a789f317")
