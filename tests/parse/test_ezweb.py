"""au EZweb: fixed English sentences and SMTP transcripts."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_domain_filter_rejection() -> None:
    report = parse((FIXTURES / "lhost-ezweb-01.eml").read_bytes())
    assert report.detector == "ezweb"
    [rec] = report.records
    assert rec.recipient == "this-message-rejected-by-the-domain-filter@ezweb.ne.jp"
    assert rec.reason_hint == "filtered"


def test_disabled_account() -> None:
    [rec] = parse((FIXTURES / "lhost-ezweb-03.eml").read_bytes()).records
    assert rec.recipient == "this-local-part-does-not-exist-on-the-site@ezweb.ne.jp"
    assert rec.diagnostic == "The user(s) account is disabled."
    assert rec.reason_hint == "suspend"


def test_transcript_gives_the_reply() -> None:
    [rec] = parse((FIXTURES / "lhost-ezweb-07.eml").read_bytes()).records
    assert rec.recipient == "this-local-part-does-not-exist@ezweb.ne.jp"
    assert (rec.reply_code, rec.smtp_command) == ("550", "RCPT")
    assert rec.diagnostic == "550 <this-local-part-does-not-exist@ezweb.ne.jp>: User unknown"
    assert rec.reason_hint == ""
