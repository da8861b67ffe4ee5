"""The last-resort detector: plain bounces in no known format, read conservatively."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import fallback, parse
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def mail(name: str) -> Mail:
    return Mail.from_bytes((FIXTURES / name).read_bytes())


def test_failed_address_list_of_an_unknown_mta() -> None:
    report = parse((FIXTURES / "rfc3464-37.eml").read_bytes())
    assert report.detector == "fallback"
    [rec] = report.records
    assert rec.recipient == "kijitora@neko.nyaan.example.com"
    assert rec.diagnostic == "kijitora@neko.nyaan.example.com ... unknown host"
    assert rec.action == "failed"
    # The copy after "Message text follows:" is the original, not the report.
    assert report.original.message_id == "<ffffffffffff000000002222000000000@e3.example.com>"


def test_address_after_an_introduction() -> None:
    report = parse((FIXTURES / "rfc3464-39.eml").read_bytes())
    assert report.detector == "fallback"
    assert [r.recipient for r in report.records] == ["kijitora@nyaan.example.net"]


def test_help_addresses_and_the_bounce_own_parties_never_count() -> None:
    # Postfix text with "please contact <support@...>" and the sender's To.
    report = fallback.detect(mail("lhost-postfix-07.eml"))
    assert report is not None
    assert [r.recipient for r in report.records] == ["kijitora@user.example.or.jp"]


def test_an_auto_reply_is_not_a_bounce() -> None:
    assert fallback.detect(mail("rfc3834-01.eml")) is None


def test_x_failed_recipients_header_names_the_recipients() -> None:
    data = (FIXTURES / "lhost-exim-07.eml").read_bytes()
    report = fallback.detect(Mail.from_bytes(data))
    assert report is not None
    assert [r.recipient for r in report.records] == ["shiba@example.com"]
