"""McAfee Email Gateway: "had delivery problems" text and a terse DSN."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import mcafee
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_records_from_the_appliance_notice() -> None:
    report = parse((FIXTURES / "lhost-mcafee-02.eml").read_bytes())
    assert report.detector == "mcafee"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("kijitora@example.jp", "5.1.1", "550")
    assert rec.remote_mta == "192.0.2.248"
    assert report.original.message_id == "<0000000000000000000.neko@smtp-gw56.example.com>"


def test_unknown_user_without_enhanced_code() -> None:
    [rec] = parse((FIXTURES / "lhost-mcafee-01.eml").read_bytes()).records
    assert rec.recipient == "kijitora@example.co.jp"
    assert rec.diagnostic == "550 Unknown user kijitora@example.co.jp"


def test_a_relayed_bounce_with_the_nai_header_is_not_mcafee() -> None:
    # The appliance stamps every message it passes; only its own notice counts.
    data = (FIXTURES / "lhost-postfix-02.eml").read_bytes()
    stamped = b"X-NAI-Header: Modified by McAfee Email Gateway\n" + data
    assert mcafee.detect(Mail.from_bytes(stamped)) is None
    assert parse(stamped).detector == "postfix"
