"""The phrase a correction's rule is drafted from, on every corpus bounce: short enough
for a rule, free of the one recipient's address, and found again in its own message by
the engine's rule matching (else the rule would correct nothing)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounceback.classify.rules import MAX_TEXT, make_rule
from bounceback.ledger.corrections import Verdict, distinctive_phrase, suggested_bounce_type
from bounceback.parse import parse

EMAILS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
SAMPLES = sorted(p.name for p in EMAILS.glob("*.eml"))


@pytest.mark.parametrize("name", SAMPLES)
def test_the_drafted_phrase_matches_its_own_bounce(name: str) -> None:
    report = parse((EMAILS / name).read_bytes())
    for record in report.records:
        phrase = distinctive_phrase(record.diagnostic)
        if not record.diagnostic.strip():
            assert phrase == ""
            continue
        if not phrase:
            continue  # a diagnostic of codes and addresses only: nothing general to draw on
        assert len(phrase) <= MAX_TEXT
        if record.recipient:
            assert record.recipient.lower() not in phrase.lower()
        rule = make_rule(text=phrase, type="hard", section="body")
        assert rule.matches(report, record), (name, phrase)


def test_the_phrase_drops_codes_addresses_and_advice() -> None:
    assert (
        distinctive_phrase(
            "550 5.1.1 <jane@example.org>: Recipient address rejected: User unknown in"
            " local recipient table"
        )
        == "Recipient address rejected: User unknown in local recipient table"
    )
    assert (
        distinctive_phrase(
            "smtp; 550-5.1.1 The email account that you tried to reach does not exist. Please"
            " try double-checking the recipient's email address"
        )
        == "The email account that you tried to reach does not exist"
    )
    long = "word " * 40
    assert len(distinctive_phrase(long)) <= MAX_TEXT and not distinctive_phrase(long).endswith(" ")
    assert distinctive_phrase("") == "" and distinctive_phrase("<a@b.example>") == ""


def test_the_suggested_bounce_type() -> None:
    assert suggested_bounce_type(Verdict.NOT_A_BOUNCE, "Invalid") == "Sender"
    assert suggested_bounce_type(Verdict.HARD, "Sender") == "Invalid"  # else it never counts
    assert suggested_bounce_type(Verdict.HARD, "Quota") == ""
    assert suggested_bounce_type(Verdict.SOFT, "Invalid") == ""
