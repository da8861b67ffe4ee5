"""The unidentified "X3" MTA: a framed "Delivery Status Notification" text."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_technical_details() -> None:
    report = parse((FIXTURES / "lhost-x3-01.eml").read_bytes())
    assert report.detector == "x3"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.3.0", "553", "RCPT")
    assert rec.remote_mta == "192.0.2.8"
    # The attached message has a blank line too many after its part headers.
    assert report.original.subject == "Nyaaaaaaaan"


def test_remote_code_over_the_dsn_status() -> None:
    # The DSN says 5.1.1, the remote server's reply 5.2.2 (over quota).
    [rec] = parse((FIXTURES / "lhost-x3-06.eml").read_bytes()).records
    assert rec.recipient == "xxxx@xxxx.net"
    assert (rec.status, rec.reply_code) == ("5.2.2", "552")
