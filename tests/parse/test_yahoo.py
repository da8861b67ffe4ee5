"""Yahoo's "Failure Notice": recipient blocks, reply code, bracketed SMTP command."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_reply_spread_over_lines_with_command() -> None:
    report = load("lhost-yahoo-03.eml")
    assert report.detector == "yahoo"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.1.1", "550", "RCPT")
    assert rec.diagnostic == "550 5.1.1 <kijitora@example.jp>... User Unknown"


def test_reply_code_followed_by_colon() -> None:
    [rec] = load("lhost-yahoo-06.eml").records
    assert rec.recipient == "otsu-sakaba-hunter-neko-nyaaaaaaan@ezweb.ne.jp"
    assert rec.reply_code == "550"
    assert rec.status == ""
    assert rec.diagnostic.endswith("User unknown")
