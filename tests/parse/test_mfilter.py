"""m-FILTER: a Japanese notice with "-------server message" sections."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_reply_command_and_original() -> None:
    report = parse((FIXTURES / "lhost-mfilter-01.eml").read_bytes())
    assert report.detector == "mfilter"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.com"
    assert (rec.reply_code, rec.smtp_command) == ("550", "DATA")
    assert rec.diagnostic == "550 unknown user <kijitora@example.com>"
    assert report.original.message_id == "<000000000000000@exmaple.com>"


def test_original_mail_info_variant() -> None:
    [rec] = parse((FIXTURES / "lhost-mfilter-03.eml").read_bytes()).records
    assert rec.recipient == "kijitora@example.org"
    assert rec.diagnostic == "550 kijitora@example.org... No such user"
