"""Retention (``bounceback db prune``) on SQLite and a real PostgreSQL: what goes, what
stays correct (address state, campaign counts, rollups), replay and undo after it.

Time is passed in: NOW is a fixed instant, the bounces are stored "in the past"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import func, select

from bounceback.config import RetentionConfig
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.ledger.replay import replay, undo
from bounceback.ledger.retention import PruneReport, prune
from bounceback.ledger.rollups import rebuild_stats
from bounceback.model import RawMessage
from support.samples import dsn

NOW = dt.datetime(2026, 12, 8, 12, 0)
OLD = dt.datetime(2025, 6, 10, 9, 0)  # before the 12-month horizon (2025-12-01)
RECENT = NOW - dt.timedelta(days=40)  # kept, but past the 30-day raw horizon
FRESH = NOW - dt.timedelta(days=2)
CONFIG = RetentionConfig(
    raw_message_days=30, bounce_event_months=12, quarantined_unmatched_days=60, batch_size=2
)


def feed(ledger: Ledger, when: dt.datetime, *messages: bytes) -> list[str]:
    raws = [
        (f"m{n}", RawMessage(data=m, source="t", received_at=when)) for n, m in enumerate(messages)
    ]
    return [o.outcome for o in ledger.process(raws)]


def count(ledger: Ledger, table: Any) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def daily_totals(ledger: Ledger) -> dict[str, int]:
    d = t.daily_stats.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(d.category, func.sum(d.count)).group_by(d.category)).all()
    return {str(category): int(total) for category, total in rows}


def figures(report: PruneReport) -> dict[str, Any]:
    out = report.as_dict()
    for key in ("dry_run", "partitions_created", "bytes_reclaimed"):
        out.pop(key)
    return out


def populate(ledger: Ledger) -> None:
    for email in ("old@example.org", "both@example.org", "new@example.org"):
        ledger.add_contact(email)
    ledger.add_campaign("spring")
    ledger.record_send("both@example.org", "spring", message_id="<b1@s.example>")
    ledger.record_send("old@example.org", "spring", message_id="<o1@s.example>")
    assert feed(
        ledger,
        OLD,
        dsn("old@example.org", "5.1.1", serial=1, message_id="<o1@s.example>"),
        dsn("both@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=2,
            message_id="<b1@s.example>"),
        dsn("nobody@example.org", "5.1.1", serial=3),
    ) == ["matched", "matched", "unmatched"]  # fmt: skip
    assert feed(
        ledger,
        RECENT,
        dsn("both@example.org", "5.2.2", "552 5.2.2 Mailbox full", serial=4),
        dsn("nobody@example.org", "5.1.1", serial=5),
        b"\x00\xff garbage",
    ) == ["matched", "unmatched", "quarantined"]
    assert feed(ledger, FRESH, dsn("new@example.org", "5.2.2", serial=6)) == ["matched"]


def test_dry_run_says_exactly_what_a_prune_removes(ledger: Ledger) -> None:
    populate(ledger)
    events, messages = count(ledger, t.events), count(ledger, t.messages)
    preview = prune(ledger, NOW, CONFIG, dry_run=True)
    assert (count(ledger, t.events), count(ledger, t.messages)) == (events, messages)
    assert preview.events_before == dt.datetime(2025, 12, 1)
    assert (preview.events, preview.messages, preview.addresses) == (3, 3, 2)
    # The recent unmatched message and the quarantined one: past 60 days? No: 40 days.
    assert (preview.held_messages, preview.held_events) == (0, 0)
    assert preview.raw_cleared == 1  # the recent matched one (quarantined keep theirs)

    done = prune(ledger, NOW, CONFIG)
    assert figures(done) == figures(preview)
    assert (count(ledger, t.events), count(ledger, t.messages)) == (events - 3, messages - 3)
    assert (
        prune(ledger, NOW, CONFIG, dry_run=True)
        .lines()[0]
        .startswith("would remove 0 bounce events, 0 messages")
    )


def test_quarantined_and_unmatched_go_after_their_days(ledger: Ledger) -> None:
    populate(ledger)
    later = NOW + dt.timedelta(days=25)  # the RECENT ones are 65 days old now
    report = prune(ledger, later, CONFIG)
    assert (report.held_messages, report.held_events) == (2, 1)
    m = t.messages.c
    with ledger.engine.connect() as conn:
        outcomes = list(conn.execute(select(m.outcome).order_by(m.id)).scalars())
    assert outcomes == ["matched", "matched"]


def test_address_state_holds_and_suppression_stay_after_pruning(ledger: Ledger) -> None:
    populate(ledger)
    before = {e: ledger.contact_view(e) for e in ("old@example.org", "both@example.org")}
    assert before["old@example.org"] is not None and before["old@example.org"]["bounced"]
    assert ledger.is_suppressed("old@example.org")
    prune(ledger, NOW, CONFIG)
    for email, view in before.items():
        after = ledger.contact_view(email)
        assert after is not None and view is not None
        for key in ("bounced", "on_hold", "hold_type", "suppressed", "bounce_counts"):
            assert after[key] == view[key], (email, key)
    with ledger.engine.connect() as conn:
        marked = conn.execute(select(t.pruned_addresses)).all()
        kept = conn.execute(select(t.suppressions.c.bounce_event_id)).scalars().all()
    assert sorted(row.events for row in marked) == [1, 1]
    assert kept == [None]  # the suppression stays; its event is gone


def test_rollups_and_campaign_counts_keep_their_totals(ledger: Ledger) -> None:
    populate(ledger)
    totals = daily_totals(ledger)
    stats = ledger.campaign_stats("spring")
    prune(ledger, NOW, CONFIG)
    assert daily_totals(ledger) == totals
    after = ledger.campaign_stats("spring")
    assert (after["hard_bounces"], after["soft_bounces"]) == (
        stats["hard_bounces"],
        stats["soft_bounces"],
    )
    rebuild_stats(ledger.engine)  # keeps the days before the horizon as they were
    assert daily_totals(ledger) == totals


def test_undo_leaves_an_address_with_pruned_history_and_says_so(ledger: Ledger) -> None:
    populate(ledger)
    prune(ledger, NOW, CONFIG)
    window = (RECENT - dt.timedelta(minutes=1), RECENT + dt.timedelta(minutes=1))
    report = undo(ledger, *window)
    assert report.history_pruned == ["both@example.org"]
    view = ledger.contact_view("both@example.org")
    # Not rebuilt from what is left (which would forget the pruned soft bounce).
    assert view is not None and view["bounce_counts"] == {"Quota": 2}
    # An address whose whole history is still there is rebuilt as before.
    fresh = undo(ledger, FRESH - dt.timedelta(minutes=1), FRESH + dt.timedelta(minutes=1))
    assert fresh.history_pruned == [] and [a["email"] for a in fresh.addresses] == []
    view = ledger.contact_view("new@example.org")
    assert view is not None and view["bounce_counts"] == {}


def test_replay_says_which_bounces_it_can_no_longer_read(ledger: Ledger) -> None:
    populate(ledger)
    prune(ledger, NOW, CONFIG)
    report = replay(ledger, None, dry_run=True)
    assert report.unreadable == 1  # RECENT's matched bounce: its raw bytes were cleared
    assert report.unreadable_until == RECENT
    # Still readable: FRESH's bounce and the unmatched one (kept whole while it is kept).
    assert report.events_checked == 2
