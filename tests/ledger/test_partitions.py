"""PostgreSQL monthly partitions (migration 0007): months dropped by retention, rows for
a month nobody created, idempotency across months, converting and reverting a database.
SQLite: no partitions, the same prune by rows, and the file gets its space back."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Iterator

import pytest
from alembic import command
from alembic.config import Config as AlembicConfig
from ledger_support import make_config
from sqlalchemy import Engine, func, select, text

from bounceback.config import RetentionConfig
from bounceback.ledger import Ledger, partitions
from bounceback.ledger import tables as t
from bounceback.ledger.db import _MIGRATIONS, make_engine, upgrade
from bounceback.ledger.retention import prune
from bounceback.model import RawMessage
from support.pgtemp import ThrowawayPostgres
from support.samples import dsn

NOW = dt.datetime(2026, 12, 8, 12, 0)
_names = itertools.count(1)


def feed(ledger: Ledger, when: dt.datetime, *messages: bytes) -> list[str]:
    raws = [("m", RawMessage(data=m, source="t", received_at=when)) for m in messages]
    return [o.outcome for o in ledger.process(raws)]


def where(engine: Engine, table: str) -> list[tuple[str, int]]:
    """(partition, id) of each row."""
    with engine.connect() as conn:
        rows = conn.execute(text(f"SELECT tableoid::regclass::text, id FROM {table} ORDER BY id"))
        return [(str(name), int(i)) for name, i in rows]


@pytest.fixture
def pg_ledger(pg_server: ThrowawayPostgres) -> Iterator[Ledger]:
    url = pg_server.create_database(f"part{next(_names)}", template="bb_template")
    ledger = Ledger.open(make_config(url))
    yield ledger
    ledger.close()


def test_a_redelivery_across_a_month_boundary_is_a_duplicate(pg_ledger: Ledger) -> None:
    pg_ledger.add_contact("a@example.org")
    with pg_ledger.engine.begin() as conn:
        partitions.ensure_month(conn, "messages", dt.date(2026, 1, 1))
        partitions.ensure_month(conn, "messages", dt.date(2026, 2, 1))
    message = dsn("a@example.org", "5.1.1")
    assert feed(pg_ledger, dt.datetime(2026, 1, 31, 23, 59), message) == ["matched"]
    assert feed(pg_ledger, dt.datetime(2026, 2, 1, 0, 1), message) == ["duplicate"]
    assert [p for p, _ in where(pg_ledger.engine, "messages")] == ["messages_2026_01"]
    assert pg_ledger.contact_view("a@example.org")["bounce_counts"] == {"Invalid": 1}  # type: ignore[index]


def test_a_row_for_a_month_without_partition_waits_in_default(pg_ledger: Ledger) -> None:
    pg_ledger.add_contact("a@example.org")
    far = dt.datetime(2031, 5, 2)
    assert feed(pg_ledger, far, dsn("a@example.org", "5.2.2", serial=7)) == ["matched"]
    assert [p for p, _ in where(pg_ledger.engine, "bounce_events")] == ["bounce_events_default"]
    with pg_ledger.engine.begin() as conn:
        created = partitions.ensure_months(conn, far, ahead=0)
    assert created == ["messages_2031_05", "bounce_events_2031_05"]
    assert [p for p, _ in where(pg_ledger.engine, "bounce_events")] == ["bounce_events_2031_05"]
    # The moved message still holds its key: the same bytes again are a duplicate.
    assert feed(pg_ledger, far, dsn("a@example.org", "5.2.2", serial=7)) == ["duplicate"]


def test_prune_drops_whole_months_on_postgresql(pg_ledger: Ledger) -> None:
    pg_ledger.add_contact("a@example.org")
    old = dt.datetime(2024, 3, 5)
    with pg_ledger.engine.begin() as conn:
        partitions.ensure_month(conn, "messages", partitions.month_start(old))
        partitions.ensure_month(conn, "bounce_events", partitions.month_start(old))
    assert feed(pg_ledger, old, dsn("a@example.org", "5.1.1", serial=1)) == ["matched"]
    assert feed(pg_ledger, dt.datetime(2023, 7, 1), dsn("x@example.org", "5.1.1")) == [
        "unmatched"
    ]  # lands in DEFAULT: removed row by row
    config = RetentionConfig(bounce_event_months=12, partitions_ahead=2)
    later = dt.datetime(2027, 6, 8, 12, 0)  # months past what the template made
    preview = prune(pg_ledger, later, config, dry_run=True)
    assert preview.partitions_dropped == ["messages_2024_03", "bounce_events_2024_03"]
    assert preview.partitions_created == [
        f"{table}_{month}"
        for table in ("messages", "bounce_events")
        for month in ("2027_06", "2027_07", "2027_08")
    ]
    report = prune(pg_ledger, later, config)
    assert sorted(report.partitions_dropped) == sorted(preview.partitions_dropped)
    assert (report.events, report.messages) == (preview.events, preview.messages) == (2, 2)
    with pg_ledger.engine.connect() as conn:
        names = [p.name for p in partitions.partitions(conn, "messages")]
        keys = conn.execute(text("SELECT count(*) FROM message_keys")).scalar_one()
    assert "messages_2024_03" not in names and "messages_2027_08" in names
    assert keys == 0  # the pruned messages' keys went with them
    view = pg_ledger.contact_view("a@example.org")
    assert view is not None and view["bounced"] and view["suppressed"]  # state stays


def _alembic(engine: Engine, action: str, revision: str) -> None:
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        cfg.attributes["connection"] = conn
        getattr(command, action)(cfg, revision)


def test_migration_converts_an_existing_database_and_back(pg_server: ThrowawayPostgres) -> None:
    engine = make_engine(pg_server.create_database(f"conv{next(_names)}"))
    try:
        upgrade(engine, "0006")
        ledger = Ledger(engine, make_config("unused"))
        ledger.add_contact("a@example.org")
        for when, serial in ((dt.datetime(2025, 2, 3), 1), (dt.datetime(2026, 11, 9), 2)):
            raw = RawMessage(data=dsn("a@example.org", "5.2.2", serial=serial), received_at=when)
            assert [o.outcome for o in ledger.process([("m", raw)])] == ["matched"]
        before = where(engine, "bounce_events")

        _alembic(engine, "upgrade", "0007")
        assert [p for p, _ in where(engine, "bounce_events")] == [
            "bounce_events_2025_02",
            "bounce_events_2026_11",
        ]
        assert [i for _, i in where(engine, "bounce_events")] == [i for _, i in before]
        ledger = Ledger(engine, make_config("unused"))
        again = RawMessage(data=dsn("a@example.org", "5.2.2", serial=1), received_at=NOW)
        later = RawMessage(data=dsn("a@example.org", "5.2.2", serial=3), received_at=NOW)
        outcomes = [o.outcome for o in ledger.process([("x", again), ("y", later)])]
        assert outcomes == ["duplicate", "matched"]
        ids = [i for _, i in where(engine, "messages")]
        assert ids == sorted(set(ids)) and len(ids) == 3  # the same sequence goes on

        _alembic(engine, "downgrade", "0006")
        assert {p for p, _ in where(engine, "messages")} == {"messages"}
        with engine.connect() as conn:
            unique = conn.execute(
                text(
                    "SELECT count(*) FROM pg_constraint WHERE conname IN "
                    "('messages_idempotency_key_key', 'bounce_events_message_id_fkey')"
                )
            ).scalar_one()
            events = conn.execute(select(func.count()).select_from(t.events)).scalar_one()
        assert (unique, events) == (2, 3)
    finally:
        engine.dispose()


def test_sqlite_gives_the_space_back(tmp_path: object, sqlite_template: object) -> None:
    import shutil
    from pathlib import Path

    path = Path(str(tmp_path)) / "ledger.db"
    shutil.copy(str(sqlite_template), path)
    ledger = Ledger.open(make_config(f"sqlite:///{path}"))
    try:
        ledger.add_contact("a@example.org")
        filler = b"\n".join(b"X-Filler-%d: %s" % (n, b"%032x" % (n * 7919)) for n in range(3000))
        messages = [dsn("a@example.org", "5.2.2", serial=n) + filler for n in range(40)]
        feed(ledger, dt.datetime(2026, 1, 5), *messages)
        report = prune(ledger, NOW, RetentionConfig(raw_message_days=30, batch_size=7))
        assert report.raw_cleared == 40 and report.bytes_reclaimed > 0
        with ledger.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA auto_vacuum").scalar() == 2  # incremental
    finally:
        ledger.close()
