"""The "NOTICE: Delivery Failure." report of an unidentified MTA."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_recipient_reply_host_and_step() -> None:
    report = parse((FIXTURES / "lhost-x2-07.eml").read_bytes())
    assert report.detector == "deliveryfailure"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.co.jp"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.4.14", "554", "DATA")
    assert rec.remote_mta == "192.0.2.1"
    assert rec.diagnostic.startswith("554 5.4.14 Hop count exceeded - possible mail loop")
