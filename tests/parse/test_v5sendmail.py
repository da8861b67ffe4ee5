"""Pre-DSN sendmail: recipients and reasons from the session transcript alone."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_each_recipient_gets_its_own_remote_reply() -> None:
    report = load("lhost-v5sendmail-05.eml")
    assert report.detector == "v5sendmail"
    by = {r.recipient: r for r in report.records}
    assert set(by) == {
        "kijitora@example.edu",
        "kuroneko@example.or.jp",
        "kijitora@example.org",
        "mikeneko@example.co.jp",
    }
    user = by["mikeneko@example.co.jp"]
    assert (user.reply_code, user.smtp_command, user.remote_mta) == (
        "550",
        "RCPT",
        "mail.example.co.jp",
    )
    assert "No such user here" in user.diagnostic
    host = by["kuroneko@example.or.jp"]
    # No remote dialogue for it: the reason sendmail printed, with its code.
    assert host.diagnostic.startswith("550 Host unknown")
    assert host.remote_mta == ""
    assert report.original.subject == "Nyaan"


def test_sender_refusal_is_attributed_to_mail_from() -> None:
    report = load("lhost-v5sendmail-07.eml")
    by = {r.recipient: r for r in report.records}
    assert by["kijitora@example.org"].smtp_command == "MAIL"
    assert "open relay" in by["kijitora@example.org"].diagnostic
    assert by["hachiware@example.edu"].smtp_command == "RCPT"
