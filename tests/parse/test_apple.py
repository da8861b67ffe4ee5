"""Apple iCloud: Postfix's notice from iCloud's relays."""

from __future__ import annotations

from pathlib import Path

from bounceback.parse import parse
from bounceback.parse.lhost import apple
from bounceback.parse.mail import Mail

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def test_notice_from_an_icloud_relay() -> None:
    report = parse((FIXTURES / "rhost-apple-01.eml").read_bytes())
    assert report.detector == "apple"
    [rec] = report.records
    assert (rec.recipient, rec.status, rec.reply_code) == ("kijitora@example.jp", "5.1.6", "550")
    assert rec.reporting_mta == "mail-in2.apple.com"


def test_messaging_server_bounce_stays_with_its_reader() -> None:
    data = (FIXTURES / "lhost-messagingserver-02.eml").read_bytes()
    assert parse(data).detector == "messagingserver"


def test_a_person_at_icloud_is_not_a_notice() -> None:
    data = (FIXTURES / "rhost-apple-01.eml").read_bytes()
    person = data.replace(b"<Mailer-Daemon@mail-in2.apple.com>", b"<neko@icloud.com>", 1)
    assert person != data
    assert apple.detect(Mail.from_bytes(person)) is None
