"""PowerMTA: a DSN with X-PowerMTA-* fields."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import powermta
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_record_keeps_the_bounce_category_as_a_note() -> None:
    report = parse((FIXTURES / "lhost-powermta-01.eml").read_bytes())
    assert report.detector == "powermta"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("kijitora@example.jp", "5.2.1", "550")
    assert rec.remote_mta == "mx.example.jp"
    assert rec.diagnostic == (
        "550 5.2.1 <kijitora@example.jp>... User Unknown (PowerMTA bounce category: bad-mailbox)"
    )
    # PowerMTA's category is a note, never the reason by itself.
    assert rec.reason_hint == ""


def test_other_dsns_are_not_powermta() -> None:
    for name in ("rfc3464-04.eml", "lhost-postfix-02.eml"):
        data = (FIXTURES / name).read_bytes()
        assert powermta.detect(Mail.from_bytes(data)) is None, name
