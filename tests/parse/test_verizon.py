"""Verizon Wireless MMS and SMS gateways."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_mms_recipient_from_the_original_block() -> None:
    report = parse((FIXTURES / "lhost-verizon-01.eml").read_bytes())
    assert report.detector == "verizon"
    [rec] = report.records
    assert rec.recipient == "0000000000@vzwpix.com"
    assert rec.diagnostic == "No valid recipients for this MM"


def test_sms_reply_and_rcpt_to() -> None:
    report = parse((FIXTURES / "lhost-verizon-02.eml").read_bytes())
    assert report.detector == "verizon"
    [rec] = report.records
    assert rec.recipient == "may-be-straycat-nyaaaaaan@vtext.com"
    assert rec.reply_code == "550"
    assert "no such user here" in rec.diagnostic
