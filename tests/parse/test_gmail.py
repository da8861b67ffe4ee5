"""Gmail's plain-text bounce: recipients, delays, remote reply, inline original."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_permanent_failure_with_remote_reply() -> None:
    report = load("lhost-gmail-01.eml")
    assert report.detector == "gmail"
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "userunknown@example.jp"
    assert rec.action == "failed"
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")
    assert rec.remote_mta == "mx.example.jp"
    # The remote server's words, not Google's preamble.
    assert rec.diagnostic == "550 5.1.1 <userunknown@example.jp>... User Unknown"
    assert report.original.message_id == "<D992C2C3-F175-4C4D-97E2-53A90E4E5BF5@gmail.com>"


def test_delay_is_a_delay_and_drops_the_state_suffix() -> None:
    report = load("lhost-gmail-06.eml")
    assert report.kind == Kind.DELAY
    [rec] = report.records
    assert rec.recipient == "kijitora@example.jp"
    assert rec.action == "delayed"
    assert rec.status == "4.2.2"
    assert "(state" not in rec.diagnostic


def test_connection_failure_names_the_host() -> None:
    [rec] = load("lhost-gmail-15.eml").records
    assert rec.recipient == "mikeneko@libsisimai.org"
    assert rec.remote_mta == "libsisimai.org"
    assert rec.diagnostic.startswith("The recipient server did not accept our requests")
    assert rec.status == ""
