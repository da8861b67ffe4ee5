"""PostgreSQL monthly partitions of the large tables (``messages``, ``bounce_events``).

Migration 0007 turns both into ``PARTITION BY RANGE`` on their time column, one
partition per calendar month (UTC, as stored) plus a DEFAULT partition that takes a
row for a month nobody created. :func:`ensure_months` creates the months ahead (the
retention job calls it daily); a month created after rows already landed in DEFAULT
takes those rows over in the same transaction. Retention drops whole months
(:func:`drop`) instead of deleting rows. SQLite has no partitions: every function here
is a no-op there (``is_partitioned`` is False).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from sqlalchemy import Connection, text

# The partitioned tables and the column each is partitioned on (never NULL).
PARTITIONED: dict[str, str] = {"messages": "received_at", "bounce_events": "occurred_at"}
_BOUND = re.compile(r"FROM \('([^']+)'\) TO \('([^']+)'\)")


@dataclass(frozen=True, slots=True)
class Partition:
    name: str
    start: dt.datetime | None  # None: the DEFAULT partition
    end: dt.datetime | None


def month_start(value: dt.datetime | dt.date) -> dt.date:
    return dt.date(value.year, value.month, 1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def partition_name(table: str, month: dt.date) -> str:
    return f"{table}_{month:%Y_%m}"


def default_name(table: str) -> str:
    return f"{table}_default"


def _at(month: dt.date) -> dt.datetime:
    return dt.datetime(month.year, month.month, 1)


def is_partitioned(conn: Connection, table: str) -> bool:
    if conn.dialect.name != "postgresql":
        return False
    found = conn.execute(
        text("SELECT 1 FROM pg_partitioned_table WHERE partrelid = to_regclass(:t)"),
        {"t": table},
    ).first()
    return found is not None


def partitions(conn: Connection, table: str) -> list[Partition]:
    """The table's partitions, months in order, DEFAULT last."""
    rows = conn.execute(
        text(
            "SELECT c.relname, pg_get_expr(c.relpartbound, c.oid) FROM pg_inherits i "
            "JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(:t)"
        ),
        {"t": table},
    ).all()
    months: list[Partition] = []
    default: list[Partition] = []
    for name, bound in rows:
        found = _BOUND.search(bound or "")
        if found is None:
            default.append(Partition(name, None, None))
            continue
        start, end = (dt.datetime.fromisoformat(v) for v in found.groups())
        months.append(Partition(name, start, end))
    months.sort(key=lambda p: p.start or dt.datetime.min)
    return months + default


def create_default(conn: Connection, table: str) -> None:
    conn.execute(text(f'CREATE TABLE "{default_name(table)}" PARTITION OF "{table}" DEFAULT'))


def create_month(conn: Connection, table: str, month: dt.date) -> str:
    """A new, empty partition for ``month`` (DEFAULT must hold none of its rows)."""
    name = partition_name(table, month)
    conn.execute(text(f'CREATE TABLE "{name}" PARTITION OF "{table}" FOR VALUES {_range(month)}'))
    return name


def _range(month: dt.date) -> str:
    return f"FROM ('{month.isoformat()}') TO ('{add_months(month, 1).isoformat()}')"


def ensure_month(conn: Connection, table: str, month: dt.date) -> str | None:
    """Create ``month``'s partition if there is none; its name, or None if it existed.

    Rows of that month already in DEFAULT move into it (PostgreSQL refuses to create a
    partition whose rows DEFAULT holds)."""
    name = partition_name(table, month)
    start, end = _at(month), _at(add_months(month, 1))
    if any(p.start == start for p in partitions(conn, table)):
        return None
    column = PARTITIONED[table]
    default = default_name(table)
    bounds = {"start": start, "end": end}
    in_range = f'"{column}" >= :start AND "{column}" < :end'
    waiting = conn.execute(
        text(f'SELECT 1 FROM "{default}" WHERE {in_range} LIMIT 1'), bounds
    ).first()
    if waiting is None:
        return create_month(conn, table, month)
    conn.execute(text(f'CREATE TABLE "{name}" (LIKE "{table}" INCLUDING DEFAULTS)'))
    conn.execute(
        text(
            f'WITH moved AS (DELETE FROM "{default}" WHERE {in_range} RETURNING *) '
            f'INSERT INTO "{name}" SELECT * FROM moved'
        ),
        bounds,
    )
    if table == "messages":
        # The delete trigger let go of these keys: the same messages hold them again.
        conn.execute(
            text(
                f"INSERT INTO message_keys (idempotency_key, received_at) "
                f'SELECT idempotency_key, received_at FROM "{name}" ON CONFLICT DO NOTHING'
            )
        )
    conn.execute(
        text(f'ALTER TABLE "{table}" ATTACH PARTITION "{name}" FOR VALUES {_range(month)}')
    )
    return name


def ensure_months(conn: Connection, now: dt.datetime, ahead: int) -> list[str]:
    """This month's and the next ``ahead`` months' partitions of both tables; the new ones."""
    created: list[str] = []
    for table in PARTITIONED:
        if not is_partitioned(conn, table):
            continue
        for n in range(ahead + 1):
            name = ensure_month(conn, table, add_months(month_start(now), n))
            if name is not None:
                created.append(name)
    return created


def months_before(conn: Connection, table: str, cutoff: dt.datetime) -> list[Partition]:
    """The month partitions that end on or before ``cutoff`` (all their rows are older)."""
    if not is_partitioned(conn, table):
        return []
    return [p for p in partitions(conn, table) if p.end is not None and p.end <= cutoff]


def drop(conn: Connection, partition: Partition) -> None:
    conn.execute(text(f'DROP TABLE "{partition.name}"'))
