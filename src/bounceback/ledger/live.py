"""One counter for what people change while the service runs: user rules, dashboard
settings, hold thresholds.

Every such change bumps it in its own transaction. A ledger reads it once before each
piece of work (one indexed lookup) and re-reads what it caches only when it moved, so
another process sharing the database applies an edit before its next batch.
"""

from __future__ import annotations

from sqlalchemy import Connection, Integer, Text, cast, select, update
from sqlalchemy.exc import DBAPIError

from bounceback.ledger import tables as t
from bounceback.ledger.db import dialect_insert, unavailable
from bounceback.ledger.store import Store

VERSION_KEY = "live.version"


def bump(conn: Connection) -> None:
    """Count one change. The UPDATE locks the counter's row until commit, so writers on
    PostgreSQL take turns (SQLite has one writer anyway)."""
    s = t.settings.c
    conn.execute(
        dialect_insert(conn, t.settings)
        .values(key=VERSION_KEY, value="0")
        .on_conflict_do_nothing(index_elements=["key"])
    )
    conn.execute(
        update(t.settings)
        .where(s.key == VERSION_KEY)
        .values(value=cast(cast(s.value, Integer) + 1, Text))
    )


def version(conn: Connection) -> str:
    found = conn.execute(select(t.settings.c.value).where(t.settings.c.key == VERSION_KEY))
    return str(found.scalar() or "0")


def current(store: Store) -> str:
    """The counter now; a locked or unreachable database says so, as the rest does."""
    try:
        with store.engine.connect() as conn:
            return version(conn)
    except DBAPIError as exc:
        raise unavailable(exc) from exc
