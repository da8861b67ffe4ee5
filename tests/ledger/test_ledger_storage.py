"""The schema: migrations equal the models, SQLite settings, seeded bounce types."""

from __future__ import annotations

from pathlib import Path

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from ledger_support import make_config
from sqlalchemy import select, text

from bounceback.ledger import Ledger, partitions
from bounceback.ledger import tables as t
from bounceback.ledger.db import HEAD, current_revision, ensure_schema
from bounceback.ledger.models import Base


def test_migrations_build_exactly_the_models(ledger: Ledger) -> None:
    assert current_revision(ledger.engine) == HEAD
    with ledger.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    # PostgreSQL's monthly partitions (migration 0007) differ on purpose, and only so.
    assert [d for d in diffs if not partitions.intended_difference(d)] == []
    if ledger.engine.dialect.name == "sqlite":
        assert diffs == []
    ensure_schema(ledger.engine)  # current: nothing to do, nothing breaks


def test_bounce_types_are_seeded_from_the_design(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        types = {r.name: r.threshold for r in conn.execute(select(t.bounce_types))}
    assert types["Invalid"] == 1 and types["Quota"] == 3 and types["Away"] == 30
    assert types["Sender"] is None and len(types) == 12


def test_sqlite_runs_in_wal_with_foreign_keys(ledger: Ledger) -> None:
    with ledger.engine.connect() as conn:
        if conn.dialect.name != "sqlite":
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "2s"
            return
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_first_use_migrates_an_empty_database(tmp_path: Path) -> None:
    ledger = Ledger.open(make_config(f"sqlite:///{tmp_path}/fresh/ledger.db"))
    try:
        assert current_revision(ledger.engine) == HEAD
    finally:
        ledger.close()
