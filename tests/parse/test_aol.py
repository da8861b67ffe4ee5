"""AOL: notices from AOL's outbound relays, Postfix's template or a DSN."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import aol
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_dsn_with_two_recipients() -> None:
    report = parse((FIXTURES / "rhost-aol-03.eml").read_bytes())
    assert report.detector == "aol"
    got = [(r.recipient, r.status) for r in report.records]
    assert got == [("sabineko@example.jp", "5.2.2"), ("mikeneko@example.jp", "5.1.1")]
    assert {r.reporting_mta for r in report.records} == {"omr-m09.mx.aol.com"}


def test_postfix_template() -> None:
    report = parse((FIXTURES / "rhost-aol-05.eml").read_bytes())
    assert report.detector == "aol"
    [rec] = report.records
    assert (rec.recipient, rec.status) == ("nyan@haineko.org", "5.4.4")
    assert rec.diagnostic.startswith("Host or domain name not found.")


def test_from_aol_without_aols_stamp_is_not_aol() -> None:
    data = (FIXTURES / "rhost-aol-05.eml").read_bytes()
    unstamped = data.replace(b"x-aol-sid:", b"x-other-sid:").replace(b"X-AOL-IP:", b"X-Other-IP:")
    assert aol.detect(Mail.from_bytes(unstamped)) is None
    assert parse(unstamped).detector == "postfix"
