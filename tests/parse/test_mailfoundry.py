"""MailFoundry: "Unable to deliver message to:"."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_server_and_reply() -> None:
    report = parse((FIXTURES / "lhost-mailfoundry-02.eml").read_bytes())
    assert report.detector == "mailfoundry"
    [rec] = report.records
    assert rec.recipient == "kijitora@example.org"
    assert rec.remote_mta == "mail.example.org"
    assert rec.reply_code == "552"
    assert rec.diagnostic.startswith("552 sorry, mailbox kijitora@example.org is over quota")
