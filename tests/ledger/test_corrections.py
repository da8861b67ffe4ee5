"""The phrase a correction's rule is drafted from, on every corpus bounce: short enough
for a rule, free of the one recipient's address, and found again in its own message by
the engine's rule matching (else the rule would correct nothing)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import select

from bounceback.classify.rules import MAX_TEXT, make_rule
from bounceback.ledger import Ledger, rules_store
from bounceback.ledger import tables as t
from bounceback.ledger.corrections import (
    Verdict,
    apply,
    distinctive_phrase,
    draft,
    preview,
    suggested_bounce_type,
)
from bounceback.ledger.replay import replay
from bounceback.model import RawMessage
from bounceback.parse import parse
from support.samples import dsn

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
    assert suggested_bounce_type(Verdict.NOT_A_BOUNCE, "Invalid") == ""  # ignored: no category
    assert suggested_bounce_type(Verdict.HARD, "Sender") == "Invalid"  # else it never counts
    assert suggested_bounce_type(Verdict.HARD, "Quota") == ""
    assert suggested_bounce_type(Verdict.SOFT, "Invalid") == ""


# --- "not a bounce": an ignore rule, applied through a replay ------------------------
T0 = dt.datetime(2026, 3, 1, 12, 0)
FORWARDED = "550 5.1.1 Relay for this recipient is retired, not the address"


def _feed(ledger: Ledger, *messages: bytes) -> list[str]:
    raws = [("m", RawMessage(data=m, source="t", received_at=T0)) for m in messages]
    return [o.outcome for o in ledger.process(raws)]


def test_not_a_bounce_stops_the_bounce_counting(ledger: Ledger) -> None:
    ledger.add_contact("gone@example.org")
    ledger.add_contact("other@example.org")
    ledger.add_campaign("spring")
    ledger.record_send("gone@example.org", "spring", message_id="<g@s.example>")
    assert _feed(
        ledger,
        dsn("gone@example.org", "5.1.1", FORWARDED, message_id="<g@s.example>"),
        dsn("other@example.org", "5.1.1", serial=2),
    ) == ["matched", "matched"]
    assert ledger.is_suppressed("gone@example.org")
    assert ledger.campaign_stats("spring")["hard_bounces"] == 1
    event = ledger.contact_view("gone@example.org")["history"][0]  # type: ignore[index]

    drafted = draft(ledger, event["id"], Verdict.NOT_A_BOUNCE, "admin")
    assert drafted is not None and drafted.values["type"] == "ignore"
    assert drafted.values["text"] == "Relay for this recipient is retired, not the address"
    shown = preview(ledger, event["id"], drafted.values)
    assert shown.matches_this is True
    assert [c["event"] for c in shown.by_rule] == [event["id"]]
    assert shown.by_rule[0]["new"]["ignored"] is True
    assert ledger.is_suppressed("gone@example.org")  # a dry run changes nothing

    saved, report = apply(ledger, drafted.values)
    assert saved["type"] == "ignore" and report.run_id is not None
    view = ledger.contact_view("gone@example.org")
    assert view is not None
    assert not view["bounced"] and not view["on_hold"] and not view["suppressed"]
    assert view["history"][0]["undone"]  # kept, marked undone by the replay
    assert ledger.campaign_stats("spring")["hard_bounces"] == 0
    with ledger.engine.connect() as conn:
        undo_id = conn.execute(
            select(t.events.c.undo_id).where(t.events.c.id == event["id"])
        ).scalar_one()
    assert undo_id == report.run_id
    # The other bounce is untouched; a new such message is ignored, not quarantined.
    assert ledger.is_suppressed("other@example.org")
    assert _feed(ledger, dsn("gone@example.org", "5.1.1", FORWARDED, serial=3)) == ["ignored"]
    assert replay(ledger, rules_store.current_rules(ledger)).events_changed == 0
