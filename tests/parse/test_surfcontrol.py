"""SurfControl E-mail Filter: a DSN after a transcript of the attempts."""

from __future__ import annotations

from pathlib import Path

from mime_edit import without_status_part

from bounceback.parse import parse
from bounceback.parse.lhost import surfcontrol
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_dsn_record_with_the_transcripts_host() -> None:
    report = parse((FIXTURES / "lhost-surfcontrol-01.eml").read_bytes())
    assert report.detector == "surfcontrol"
    [rec] = report.records
    assert (rec.recipient, rec.reply_code) == ("kijitora@example.com", "550")
    assert rec.diagnostic == "550 kijitora@example.com... No such user"
    # The DSN has no Remote-MTA; the transcript names the host that refused.
    assert rec.remote_mta == "192.0.2.5"


def test_transcript_alone() -> None:
    report = parse(without_status_part((FIXTURES / "lhost-surfcontrol-01.eml").read_bytes()))
    assert report.detector == "surfcontrol"
    [rec] = report.records
    assert (rec.recipient, rec.action, rec.reply_code) == ("kijitora@example.com", "failed", "550")
    assert rec.diagnostic == "550 kijitora@example.com... No such user"


def test_other_dsns_are_not_surfcontrol() -> None:
    for name in ("rfc3464-04.eml", "lhost-sendmail-02.eml"):
        data = (FIXTURES / name).read_bytes()
        assert surfcontrol.detect(Mail.from_bytes(data)) is None, name
