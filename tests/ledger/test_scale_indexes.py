"""What keeps the ledger fast at 100 million events (issue 14, bench/scale_100m.py):
a contact's timeline and the foreign key from suppressions read by index, never by
walking every event. The plans are checked on PostgreSQL with sequential scans made
prohibitively expensive, so a missing index or an unindexable query shows in the plan
whatever the (tiny) table sizes here."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, event, insert, text

from bounceback.ledger import Ledger, contacts
from bounceback.ledger import tables as t

AT = dt.datetime(2026, 3, 1, 12, 0)


def _event(**values: Any) -> dict[str, Any]:
    base = {"email": "x@example.com", "domain": "example.com", "kind": "bounce"}
    return base | {"occurred_at": AT} | values


def _seed(ledger: Ledger) -> dict[str, int]:
    """A contact with two addresses, an event by contact only, one by its old address
    only, and another contact's event."""
    with ledger.engine.begin() as conn:
        cid, other = (
            conn.execute(insert(t.contacts).values(name=n).returning(t.contacts.c.id)).scalar_one()
            for n in ("Kiji", "Shiba")
        )
        now, old, theirs = (
            conn.execute(
                insert(t.addresses)
                .values(contact_id=owner, email=email, bounce_counts={})
                .returning(t.addresses.c.id)
            ).scalar_one()
            for owner, email in (
                (cid, "kiji@example.jp"),
                (cid, "kiji-old@example.jp"),
                (other, "shiba@example.com"),
            )
        )
        ids = {}
        for name, values in (
            ("by_contact", {"contact_id": cid}),
            ("by_old_address", {"address_id": old}),
            ("theirs", {"contact_id": other, "address_id": theirs}),
        ):
            ids[name] = conn.execute(
                insert(t.events).values(**_event(**values)).returning(t.events.c.id)
            ).scalar_one()
    return ids | {"address": now}


def _indexes(conn: Connection, sql: str, params: Any) -> set[str]:
    """The names of the indexes PostgreSQL's plan for ``sql`` reads (a partitioned
    table's are its partitions' own: bounce_events_2026_03_contact_id_idx...)."""
    conn.execute(text("SET LOCAL enable_seqscan = off"))
    cur = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
    cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
    names: set[str] = set()

    def walk(node: dict[str, Any]) -> None:
        if "Index Name" in node:
            names.add(node["Index Name"])
        for child in node.get("Plans", []):
            walk(child)

    walk(cur.fetchone()[0][0]["Plan"])
    return names


def _reads(names: set[str], column: str) -> bool:
    return any(column in name for name in names)


def test_timeline_finds_events_by_contact_and_by_each_address(ledger: Ledger) -> None:
    ids = _seed(ledger)
    found = contacts.contact_timeline(ledger, "kiji@example.jp")
    assert found is not None
    timeline, _ = found
    assert {e["id"] for e in timeline["events"]} == {ids["by_contact"], ids["by_old_address"]}


def test_timeline_reads_the_contact_and_address_indexes(ledger: Ledger) -> None:
    if ledger.engine.dialect.name != "postgresql":
        return  # the plan is PostgreSQL's; SQLite runs the same query above
    _seed(ledger)
    seen: list[tuple[str, Any]] = []

    def record(_conn: Any, _cur: Any, sql: str, params: Any, _ctx: Any, _many: bool) -> None:
        if "FROM bounce_events" in sql and "ORDER BY" in sql:
            seen.append((sql, params))

    event.listen(ledger.engine, "before_cursor_execute", record)
    try:
        assert contacts.contact_timeline(ledger, "kiji@example.jp") is not None
    finally:
        event.remove(ledger.engine, "before_cursor_execute", record)
    ((sql, params),) = seen
    with ledger.engine.begin() as conn:
        names = _indexes(conn, sql, params)
    assert _reads(names, "contact_id") and _reads(names, "address_id"), names
    assert not _reads(names, "occurred_at"), names  # not every event, newest first


def test_forgetting_an_event_finds_its_suppressions_by_index(ledger: Ledger) -> None:
    """Every deleted event (a pruned month, an erasure) sets the suppressions naming it
    to NULL: the foreign key's ON DELETE SET NULL, or on partitioned PostgreSQL the
    retention job's own UPDATE. One search per event: it must not read the whole list."""
    ids = _seed(ledger)
    with ledger.engine.begin() as conn:
        conn.execute(
            insert(t.suppressions).values(
                email="kiji@example.jp", reason="userunknown", bounce_event_id=ids["by_contact"]
            )
        )
        if conn.dialect.name != "postgresql":
            return
        names = _indexes(
            conn,
            "UPDATE suppressions SET bounce_event_id = NULL WHERE bounce_event_id = %s",
            (ids["by_contact"],),
        )
    assert "ix_suppressions_bounce_event_id" in names, names
