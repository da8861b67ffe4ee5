"""Replay under another rule set, and undo of an incident, on both databases."""

from __future__ import annotations

import datetime as dt

from ledger_support import fixture_bytes
from sqlalchemy import select

from bounceback.classify import loads as load_rules
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.ledger.replay import replay, undo
from bounceback.model import RawMessage
from support.samples import dsn

T0 = dt.datetime(2026, 3, 1, 12, 0)
FULL = "552 5.2.2 Mailbox full"


def feed(ledger: Ledger, when: dt.datetime, *messages: bytes) -> None:
    raws = [("m", RawMessage(data=m, source="t", received_at=when)) for m in messages]
    assert all(o.outcome == "matched" for o in ledger.process(raws))


def test_replay_dry_run_shows_and_apply_changes(ledger: Ledger) -> None:
    ledger.add_contact("full@example.org")
    ledger.add_campaign("spring")
    ledger.record_send("full@example.org", "spring", message_id="<f@s.example>")
    feed(ledger, T0, dsn("full@example.org", "5.2.2", FULL, message_id="<f@s.example>"))
    assert ledger.campaign_stats("spring")["soft_bounces"] == 1
    rules = load_rules(
        '[[rules]]\nid = "full-is-dead"\nsection = "body"\ntext = "Mailbox full"\ntype = "hard"\n'
    )

    preview = replay(ledger, rules, dry_run=True)
    assert (preview.events_checked, preview.events_changed) == (1, 1)
    assert preview.changes[0]["old"]["hardbounce"] is False
    assert preview.changes[0]["new"]["hardbounce"] is True
    assert preview.addresses[0]["suppressed"] == [False, True]
    view = ledger.contact_view("full@example.org")
    assert view is not None and not view["bounced"]  # dry run: nothing changed

    applied = replay(ledger, rules)
    assert applied.run_id is not None
    view = ledger.contact_view("full@example.org")
    assert view is not None and view["bounced"] and view["suppressed"]
    assert view["history"][0]["rule"] == "user:full-is-dead"
    stats = ledger.campaign_stats("spring")
    assert (stats["hard_bounces"], stats["soft_bounces"]) == (1, 0)
    assert replay(ledger, rules).events_changed == 0  # replaying again: nothing new


def test_undo_reverses_an_incident_and_keeps_history(ledger: Ledger) -> None:
    ledger.add_contact("a@victim.example")
    ledger.add_contact("b@victim.example")
    ledger.add_contact("c@other.example")
    feed(
        ledger,
        T0,
        dsn("a@victim.example", "5.1.1", serial=1),
        dsn("b@victim.example", "5.1.1", serial=2),
        dsn("c@other.example", "5.1.1", serial=3),
    )
    assert len(ledger.holds()) == 3
    window = (T0 - dt.timedelta(minutes=5), T0 + dt.timedelta(minutes=5))

    preview = undo(ledger, *window, domain="victim.example", dry_run=True)
    assert preview.events_changed == 2 and len(ledger.holds()) == 3

    report = undo(ledger, *window, domain="victim.example")
    assert report.run_id is not None and len(report.addresses) == 2
    view = ledger.contact_view("a@victim.example")
    assert view is not None
    assert view["email"] == "a@victim.example" and not view["bounced"] and not view["on_hold"]
    assert view["bulk_mail"] == "allowed" and not view["suppressed"]
    assert view["history"][0]["undone"]  # history stays, marked
    assert [h["email"] for h in ledger.holds()] == ["c@other.example"]
    assert ledger.is_suppressed("c@other.example")
    with ledger.engine.connect() as conn:
        run = conn.execute(select(t.undo_runs)).one()
    assert run.domain_filter == "victim.example" and run.summary["restored"] == 2
    # A second undo of the same window finds nothing left to undo.
    assert undo(ledger, *window, domain="victim.example").events_changed == 0


def test_undo_by_reason_keeps_manual_suppressions(ledger: Ledger) -> None:
    ledger.add_contact("m@example.org")
    ledger.suppress("m@example.org", "asked us", source="manual")
    feed(ledger, T0, dsn("m@example.org", "5.1.1"))
    undo(ledger, T0 - dt.timedelta(hours=1), T0 + dt.timedelta(hours=1), reason="userunknown")
    view = ledger.contact_view("m@example.org")
    assert view is not None and not view["on_hold"]
    assert ledger.is_suppressed("m@example.org")  # the person's own wish stays


# Two refused recipients in one Postfix DSN, each with its own diagnostic.
TWO = "lhost-postfix-02.eml"  # filtered@ then userunknown@example.co.jp, both hard
IGNORE_FIRST = (
    '[[rules]]\nid = "not-first"\nsection = "diagnostic"\n'
    'text = "<filtered@example.co.jp>"\ntype = "ignore"\n'
)


def test_replay_undoes_the_records_an_ignore_rule_drops(ledger: Ledger) -> None:
    ledger.add_contact("filtered@example.co.jp")
    ledger.add_contact("userunknown@example.co.jp")
    feed(ledger, T0, fixture_bytes(TWO))
    assert ledger.is_suppressed("filtered@example.co.jp")
    rules = load_rules(IGNORE_FIRST)

    report = replay(ledger, rules)
    assert report.events_changed == 1 and report.run_id is not None
    [change] = report.changes
    assert (change["email"], change["rule"], change["new"]["ignored"]) == (
        "filtered@example.co.jp",
        "user:not-first",
        True,
    )
    dropped = ledger.contact_view("filtered@example.co.jp")
    assert dropped is not None and not dropped["on_hold"] and not dropped["suppressed"]
    assert dropped["history"][0]["undone"]
    # The other recipient of the same message still counts, and stays as it was.
    assert ledger.is_suppressed("userunknown@example.co.jp")
    assert replay(ledger, rules).events_changed == 0


def test_an_event_stored_after_an_ignored_record_replays_as_itself(ledger: Ledger) -> None:
    # At ingest the first record is ignored: the second's event must keep naming the
    # second record, or a replay would take the first's (ignored) verdict for it.
    ledger.add_contact("userunknown@example.co.jp")
    ledger.rules = load_rules(IGNORE_FIRST)
    feed(ledger, T0, fixture_bytes(TWO))
    with ledger.engine.connect() as conn:
        stored = conn.execute(select(t.events.c.email, t.events.c.position)).all()
    assert [(r.email, r.position) for r in stored] == [("userunknown@example.co.jp", 1)]
    assert replay(ledger, ledger.rules).events_changed == 0
    assert ledger.is_suppressed("userunknown@example.co.jp")
