"""A bounce forwarded as an attachment under a notice that names no recipient."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_attached_bounce_is_read() -> None:
    # Trend Micro IMSVA relays a Mirapoint DSN as message/rfc822.
    report = parse((FIXTURES / "lhost-x5-01.eml").read_bytes())
    assert report.detector.startswith("forwarded:")
    [rec] = report.records
    assert rec.recipient == "kijitora@neko.example.org"
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")


def test_plain_bounce_is_not_claimed() -> None:
    report = parse((FIXTURES / "lhost-postfix-01.eml").read_bytes())
    assert not report.detector.startswith("forwarded")
