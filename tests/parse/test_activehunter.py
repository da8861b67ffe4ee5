"""Active!hunter: a sendmail-style report named in its MIME boundary."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_recipient_and_transcript() -> None:
    report = parse((FIXTURES / "lhost-activehunter-01.eml").read_bytes())
    assert report.detector == "activehunter"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.org"
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")
    assert rec.diagnostic == "550 sorry, no mailbox here by that name (#5.1.1 - chkusr)"
