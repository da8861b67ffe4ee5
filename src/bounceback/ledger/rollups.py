"""The stats rollups: ``daily_stats`` (bounce events) and ``send_stats`` (sends).

Kept up to date in the same transaction as the rows they count: the caller hands
over a batch, the counts are summed in memory and written with one upsert per key
(``INSERT .. ON CONFLICT DO UPDATE SET count = count + excluded.count``), in key
order so two writers never deadlock. Undo subtracts. :func:`rebuild_stats`
recomputes both from the events and the send log (migration 0003's backfill and
``bounceback stats rebuild``).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import Connection, Date, Engine, and_, case, cast, delete, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite

from bounceback.ledger import tables as t

CATEGORIES = ("hard", "soft", "complaint", "delay", "other")
_DAILY_KEY = ["day", "campaign_id", "domain", "reason", "category"]
_SEND_KEY = ["day", "campaign_id", "domain"]
_REASON_LENGTH = 32
_DOMAIN_LENGTH = 255

DailyKey = tuple[dt.date, int, str, str, str]
SendKey = tuple[dt.date, int, str]


def category(kind: str, hardbounce: bool) -> str:
    """The campaign counters' notion: a bounce is hard or soft by ``hardbounce``."""
    if kind == "bounce":
        return "hard" if hardbounce else "soft"
    if kind in ("complaint", "delay"):
        return kind
    return "other"


def domain_of(email: str) -> str:
    return email.rpartition("@")[2].lower()[:_DOMAIN_LENGTH]


def daily_key(row: Mapping[str, Any]) -> DailyKey:
    """The rollup key of one bounce_events row (as a mapping of its columns)."""
    at: dt.datetime = row["occurred_at"]
    return (
        at.date(),
        int(row["campaign_id"] or 0),
        (row["domain"] or "")[:_DOMAIN_LENGTH],
        (row["reason"] or "")[:_REASON_LENGTH],
        category(str(row["kind"]), bool(row["hardbounce"])),
    )


def _upsert(conn: Connection, table: Any, key: list[str], rows: list[dict[str, Any]]) -> None:
    ins: Any = (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)
    stmt = ins.on_conflict_do_update(
        index_elements=key, set_={"count": table.c.count + ins.excluded["count"]}
    )
    conn.execute(stmt, rows)  # executemany: one cached statement (multi-VALUES compiles each time)


def add_events(conn: Connection, rows: Iterable[Mapping[str, Any]], sign: int = 1) -> None:
    """Count (``sign`` 1) or uncount (-1) bounce_events rows in ``daily_stats``."""
    tally: Counter[DailyKey] = Counter()
    for row in rows:
        tally[daily_key(row)] += sign
    bump_daily(conn, tally)


def bump_daily(conn: Connection, tally: Mapping[DailyKey, int]) -> None:
    keys = sorted(k for k, n in tally.items() if n)
    if not keys:
        return
    _upsert(
        conn,
        t.daily_stats,
        _DAILY_KEY,
        [dict(zip(_DAILY_KEY, k, strict=True), count=tally[k]) for k in keys],
    )
    if any(tally[k] < 0 for k in keys):
        # Undo leaves empty rows behind: drop them, so the rollup holds live counts only.
        ds = t.daily_stats.c
        days = sorted({k[0] for k in keys if tally[k] < 0})
        conn.execute(delete(t.daily_stats).where(ds.day.in_(days), ds.count <= 0))


def add_sends(
    conn: Connection, sends: Iterable[tuple[dt.datetime, int | None, str]], sign: int = 1
) -> None:
    """Count sends given as (sent_at, campaign_id, email) in ``send_stats``."""
    tally = _tally_sends(sends, sign)
    keys = sorted(k for k, n in tally.items() if n)
    if keys:
        rows = [dict(zip(_SEND_KEY, k, strict=True), count=tally[k]) for k in keys]
        _upsert(conn, t.send_stats, _SEND_KEY, rows)


def _tally_sends(
    sends: Iterable[tuple[dt.datetime, int | None, str]], sign: int = 1
) -> Counter[SendKey]:
    tally: Counter[SendKey] = Counter()
    for sent_at, campaign_id, email in sends:
        tally[(sent_at.date(), int(campaign_id or 0), domain_of(email))] += sign
    return tally


def _day(conn: Connection, column: Any) -> Any:
    if conn.dialect.name == "postgresql":
        return cast(column, Date)
    return func.date(column, type_=Date)


def rebuild_stats_conn(conn: Connection) -> dict[str, int]:
    """Recompute both rollups from bounce_events and sends, in ``conn``'s transaction."""
    e = t.events.c
    # Retention pruned the events before this: those days keep the counts they have.
    horizon = _pruned_before(conn)
    if horizon is None:
        conn.execute(delete(t.daily_stats))
    else:
        conn.execute(delete(t.daily_stats).where(t.daily_stats.c.day >= horizon.date()))
    conn.execute(delete(t.send_stats))
    day = _day(conn, e.occurred_at)
    kind_category = case(
        (and_(e.kind == "bounce", e.hardbounce), "hard"),
        (e.kind == "bounce", "soft"),
        (e.kind == "complaint", "complaint"),
        (e.kind == "delay", "delay"),
        else_="other",
    )
    campaign = func.coalesce(e.campaign_id, 0)
    grouped = (
        select(day, campaign, e.domain, e.reason, kind_category, func.count())
        .where(e.undone_at.is_(None))
        .where(e.occurred_at >= (horizon or dt.datetime.min))
        .group_by(day, campaign, e.domain, e.reason, kind_category)
    )
    conn.execute(insert(t.daily_stats).from_select([*_DAILY_KEY, "count"], grouped))
    # Sends: the domain is the part after the last "@", which SQL cannot say the same
    # way on both databases; stream the log and count here (memory: one entry per key).
    s = t.sends.c
    # yield_per on the statement: on the connection it would stick (Alembic's too).
    result = conn.execute(
        select(s.sent_at, s.campaign_id, s.email).execution_options(yield_per=20_000)
    )
    tally = _tally_sends(result)
    keys = sorted(tally)
    for start in range(0, len(keys), 5_000):
        chunk = keys[start : start + 5_000]
        conn.execute(
            insert(t.send_stats),
            [dict(zip(_SEND_KEY, k, strict=True), count=tally[k]) for k in chunk],
        )
    daily_rows = conn.execute(select(func.count()).select_from(t.daily_stats)).scalar_one()
    return {"daily_stats": int(daily_rows), "send_stats": len(keys)}


def _pruned_before(conn: Connection) -> dt.datetime | None:
    """The first midnight from which no event was pruned (None: nothing ever was)."""
    from bounceback.ledger.retention import pruned_before

    horizon = pruned_before(conn)
    if horizon is None:
        return None
    start = dt.datetime.combine(horizon.date(), dt.time())
    return start if start == horizon else start + dt.timedelta(days=1)


def rebuild_stats(engine: Engine) -> dict[str, int]:
    """Recompute both rollups in one transaction; returns how many rows each holds."""
    with engine.begin() as conn:
        return rebuild_stats_conn(conn)
