"""DragonFly Mail Agent: "There was an error delivering your mail to <x>."."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_remote_refusal_after_data() -> None:
    report = load("lhost-dragonfly-01.eml")
    assert report.detector == "dragonfly"
    [rec] = report.records
    assert rec.recipient == "pseudo-local-part@google.example.com"
    assert (rec.status, rec.reply_code, rec.smtp_command) == ("5.7.26", "550", "DATA")
    assert rec.remote_mta == "gmail-smtp-in.l.google.com"
    assert "DmarcRejection" in rec.diagnostic
    assert report.original.message_id == "<66681288.e06d1.3824794@df.example.jp>"


def test_queue_timeout_has_no_code() -> None:
    report = load("lhost-dragonfly-29.eml")
    [rec] = report.records
    assert rec.recipient == "expired@libsisimai.net"
    assert rec.status == ""  # left for the classifier to derive
    assert rec.diagnostic == "Could not deliver for the last 432000 seconds. Giving up."
