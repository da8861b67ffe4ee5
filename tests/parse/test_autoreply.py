"""RFC 3834 auto-replies: found by header or subject, never taken for bounces."""

from __future__ import annotations

from email.header import Header
from pathlib import Path

import pytest

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


@pytest.mark.parametrize(
    ("name", "sender"),
    [
        ("rfc3834-01.eml", "kijitora@example.net"),  # Auto-Submitted: auto-replied
        ("rfc3834-02.eml", "nekonyaan@example.org"),  # subject "Automatic reply:"
        ("rfc3834-05.eml", "foo@bar.net"),  # Auto-Submitted, meaningless subject
    ],
)
def test_autoreplies(name: str, sender: str) -> None:
    report = load(name)
    assert (report.detector, report.kind) == ("rfc3834", Kind.AUTOREPLY)
    [rec] = report.records
    assert rec.recipient == sender
    assert rec.reason_hint == "vacation"


def test_the_replied_message_is_named_by_in_reply_to() -> None:
    assert load("rfc3834-05.eml").original.message_id == "<foobar@dummy.org>"


@pytest.mark.parametrize(
    "name",
    # Bounces that say Auto-Submitted: auto-replied too.
    ["lhost-x6-01.eml", "lhost-googlegroups-02.eml", "lhost-gmail-01.eml"],
)
def test_bounces_are_never_autoreplies(name: str) -> None:
    assert load(name).kind != Kind.AUTOREPLY


def test_vacation_subject_in_other_languages() -> None:
    for subject in ("Abwesenheitsnotiz: Test", "Réponse automatique : Test", "自動応答: テスト"):
        encoded = Header(subject, "utf-8").encode()
        data = (
            f"From: a@example.org\nTo: b@example.com\nSubject: {encoded}\n"
            "Content-Type: text/plain; charset=utf-8\n\nI am away.\n"
        ).encode()
        assert parse(data).kind == Kind.AUTOREPLY, subject


def test_auto_submitted_bounce_text_is_not_an_autoreply() -> None:
    # RFC 3464 tells MTAs to mark bounces Auto-Submitted too.
    data = (
        b"From: Mail Robot <robot@mx.example.org>\nTo: a@example.com\n"
        b"Subject: Your message\nAuto-Submitted: auto-replied\n\n"
        b"Your message to b@example.org could not be delivered.\n"
        b"550 5.1.1 <b@example.org>: Recipient address rejected\n"
    )
    assert parse(data).kind != Kind.AUTOREPLY
    vacation = data.replace(
        b"Your message to b@example.org could not be delivered.\n"
        b"550 5.1.1 <b@example.org>: Recipient address rejected\n",
        b"I am on leave until Monday.\n",
    )
    assert parse(vacation).kind == Kind.AUTOREPLY
