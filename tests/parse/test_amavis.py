"""amavisd-new: the content filter's DSN."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import amavis
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_relay_refused_recipient() -> None:
    report = parse((FIXTURES / "lhost-amavis-01.eml").read_bytes())
    assert report.detector == "amavis"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("neko@example.co.jp", "5.1.1", "550")
    assert rec.remote_mta == "127.0.0.1"
    assert rec.diagnostic.endswith("User unknown in virtual mailbox table")
    assert (
        report.original.message_id == "<Qdmail.0.0.0e_8ed60e1eb3e559f02254e3437c3110b1@example.net>"
    )


def test_other_dsns_are_not_amavis() -> None:
    for name in ("rfc3464-04.eml", "lhost-postfix-02.eml", "lhost-barracuda-01.eml"):
        data = (FIXTURES / name).read_bytes()
        assert amavis.detect(Mail.from_bytes(data)) is None, name
