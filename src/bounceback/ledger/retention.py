"""Retention: ``bounceback db prune`` and serve's daily run of it.

What goes (``[retention]``, 0 = keep forever), in this order, each kind exclusive of
the ones before so a dry run counts exactly what a run removes:

1. whole months of bounce events and messages older than ``bounce_event_months``
   (PostgreSQL: the month partitions are dropped; SQLite and PostgreSQL's DEFAULT
   partition: rows deleted in batches);
2. quarantined and unmatched messages older than ``quarantined_unmatched_days``, with
   their events;
3. the raw bytes of the other messages older than ``raw_message_days`` (the parsed
   records stay; replay says which bounces it can no longer re-read).

What stays correct: an address's state, holds and suppression are never rebuilt from
what is left — an address with pruned history is recorded in ``pruned_addresses``
and undo / replay leave it as it is and say so; a campaign's counts keep the part
its pruned events made (``pruned_campaigns``, added back by every recount); the
rollups (daily_stats, send_stats) are never touched, and ``stats rebuild`` keeps the
days before the newest pruned horizon. The foreign keys PostgreSQL cannot keep on
partitioned tables are done here: a message's events and activities go with it, a
suppression's ``bounce_event_id`` is set to NULL.

Time is passed in (``now``, naive UTC), never read here, so tests need no sleeping.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import (
    Column,
    Connection,
    Engine,
    FromClause,
    MetaData,
    Select,
    Table,
    and_,
    delete,
    func,
    or_,
    select,
    update,
)

from bounceback.config import RetentionConfig
from bounceback.ledger import campaign_counts, partitions
from bounceback.ledger import tables as t
from bounceback.ledger.lookup import chunks
from bounceback.ledger.process import dialect_insert
from bounceback.logfmt import kv

log = logging.getLogger("bounceback.retention")

HELD_OUTCOMES = ("quarantined", "unmatched")
# The newest horizon below which history was pruned (``stats rebuild`` keeps older days).
PRUNED_BEFORE_KEY = "retention.pruned_before"


class HasEngine(Protocol):
    @property
    def engine(self) -> Engine: ...


@dataclass(slots=True)
class PruneReport:
    """What a prune removed (or, with ``dry_run``, would remove)."""

    dry_run: bool
    now: dt.datetime
    events_before: dt.datetime | None = None
    held_before: dt.datetime | None = None
    raw_before: dt.datetime | None = None
    events: int = 0  # bounce events removed with their month
    messages: int = 0  # messages removed with their month
    activities: int = 0  # filed replies removed with their message
    held_messages: int = 0  # quarantined and unmatched messages removed
    held_events: int = 0  # the events of the unmatched ones
    raw_cleared: int = 0  # messages whose raw bytes went
    addresses: int = 0  # addresses whose history now starts after pruned events
    partitions_dropped: list[str] = field(default_factory=list)
    partitions_created: list[str] = field(default_factory=list)
    bytes_reclaimed: int = 0  # SQLite: file pages given back

    def as_dict(self) -> dict[str, Any]:
        def at(value: dt.datetime | None) -> str | None:
            return None if value is None else value.isoformat()

        return {
            "dry_run": self.dry_run,
            "now": self.now.isoformat(),
            "events_before": at(self.events_before),
            "held_before": at(self.held_before),
            "raw_before": at(self.raw_before),
            "events": self.events,
            "messages": self.messages,
            "activities": self.activities,
            "held_messages": self.held_messages,
            "held_events": self.held_events,
            "raw_cleared": self.raw_cleared,
            "addresses": self.addresses,
            "partitions_dropped": self.partitions_dropped,
            "partitions_created": self.partitions_created,
            "bytes_reclaimed": self.bytes_reclaimed,
        }

    def lines(self) -> list[str]:
        verb = "would remove" if self.dry_run else "removed"
        out = []
        if self.events_before is not None:
            out.append(
                f"{verb} {self.events} bounce events, {self.messages} messages and "
                f"{self.activities} filed replies before {self.events_before:%Y-%m-%d}"
                f" ({self.addresses} addresses keep their state without that history)"
            )
        if self.held_before is not None:
            out.append(
                f"{verb} {self.held_messages} quarantined/unmatched messages "
                f"({self.held_events} events) before {self.held_before:%Y-%m-%d %H:%M}"
            )
        if self.raw_before is not None:
            cleared = "would clear" if self.dry_run else "cleared"
            out.append(
                f"{cleared} the raw bytes of {self.raw_cleared} messages before "
                f"{self.raw_before:%Y-%m-%d %H:%M}"
            )
        if self.partitions_dropped:
            dropped = "would drop" if self.dry_run else "dropped"
            out.append(f"{dropped} partitions: {', '.join(self.partitions_dropped)}")
        if self.partitions_created:
            created = "would create" if self.dry_run else "created"
            out.append(f"{created} partitions: {', '.join(self.partitions_created)}")
        if self.bytes_reclaimed:
            out.append(f"reclaimed {self.bytes_reclaimed} bytes of the database file")
        return out or ["retention keeps everything ([retention] all 0)"]


def cutoffs(
    now: dt.datetime, config: RetentionConfig
) -> tuple[dt.datetime | None, dt.datetime | None, dt.datetime | None]:
    """(events_before, held_before, raw_before); None where the setting is 0 (forever).

    Events go by whole months, so PostgreSQL drops whole partitions: with 24 months on
    2026-12-08 everything before 2024-12-01 goes."""
    events_before = held_before = raw_before = None
    if config.bounce_event_months:
        month = partitions.add_months(partitions.month_start(now), -config.bounce_event_months)
        events_before = dt.datetime(month.year, month.month, 1)
    if config.quarantined_unmatched_days:
        held_before = now - dt.timedelta(days=config.quarantined_unmatched_days)
    if config.raw_message_days:
        raw_before = now - dt.timedelta(days=config.raw_message_days)
    return events_before, held_before, raw_before


def prune(
    target: Engine | HasEngine,
    now: dt.datetime,
    config: RetentionConfig,
    dry_run: bool = False,
) -> PruneReport:
    """Apply ``config`` as of ``now`` (naive UTC; an aware time is converted)."""
    engine = target if isinstance(target, Engine) else target.engine
    if now.tzinfo is not None:
        now = now.astimezone(dt.UTC).replace(tzinfo=None)
    report = PruneReport(dry_run=dry_run, now=now)
    report.events_before, report.held_before, report.raw_before = cutoffs(now, config)
    batch = max(1, config.batch_size)
    if dry_run:
        with engine.connect() as conn:
            _count(conn, report, config)
        return report
    with engine.begin() as conn:
        report.partitions_created = partitions.ensure_months(conn, now, config.partitions_ahead)
    if report.events_before is not None:
        _prune_months(engine, report, report.events_before, batch)
    if report.held_before is not None:
        where = _held(report)
        while ids := _ids(engine, select(t.messages.c.id).where(where), batch):
            with engine.begin() as conn:
                report.held_events += _delete_messages(conn, ids, report)
                report.held_messages += len(ids)
    if report.raw_before is not None:
        m = t.messages.c
        where = _raw(report)
        while ids := _ids(engine, select(m.id).where(where), batch):
            with engine.begin() as conn:
                conn.execute(update(t.messages).where(m.id.in_(ids), where).values(raw=None))
            report.raw_cleared += len(ids)
    if report.events or report.messages or report.held_messages:
        _remember_horizon(engine, report)
    if engine.dialect.name == "sqlite" and (
        report.events or report.messages or report.held_messages or report.raw_cleared
    ):
        report.bytes_reclaimed = reclaim_sqlite(engine)
    return report


# --- what goes --------------------------------------------------------------------------
def _held(report: PruneReport) -> Any:
    m = t.messages.c
    where = and_(m.outcome.in_(HELD_OUTCOMES), m.received_at < report.held_before)
    if report.events_before is not None:
        where = and_(where, m.received_at >= report.events_before)
    return where


def _raw(report: PruneReport) -> Any:
    m = t.messages.c
    # Quarantined and unmatched messages keep their bytes for as long as they are kept:
    # a retry or a later match needs them.
    where = and_(
        m.raw.is_not(None), m.outcome.not_in(HELD_OUTCOMES), m.received_at < report.raw_before
    )
    if report.events_before is not None:
        where = and_(where, m.received_at >= report.events_before)
    return where


def _ids(engine: Engine, stmt: Select[Any], batch: int) -> list[int]:
    with engine.connect() as conn:
        return [int(x) for x in conn.execute(stmt.limit(batch)).scalars()]


def _count(conn: Connection, report: PruneReport, config: RetentionConfig) -> None:
    e, m, a = t.events.c, t.messages.c, t.activities.c

    def count(stmt: Select[Any]) -> int:
        return int(conn.execute(stmt).scalar_one())

    if report.events_before is not None:
        old_events = e.occurred_at < report.events_before
        old_messages = m.received_at < report.events_before
        report.events = count(select(func.count()).where(old_events))
        report.messages = count(select(func.count()).where(old_messages))
        report.activities = count(
            select(func.count())
            .select_from(t.activities.join(t.messages, m.id == a.message_id))
            .where(old_messages)
        )
        marked = _live_history(t.events, old_events)
        report.addresses = count(select(func.count(func.distinct(marked.c.address_id))))
        for table in partitions.PARTITIONED:
            dropped = partitions.months_before(conn, table, report.events_before)
            report.partitions_dropped += [p.name for p in dropped]
    if report.held_before is not None:
        held = _held(report)
        report.held_messages = count(select(func.count()).where(held))
        report.held_events = count(
            select(func.count())
            .select_from(t.events.join(t.messages, m.id == e.message_id))
            .where(held)
        )
    if report.raw_before is not None:
        report.raw_cleared = count(select(func.count()).where(_raw(report)))
    for table in partitions.PARTITIONED:
        if not partitions.is_partitioned(conn, table):
            continue
        have = {p.start for p in partitions.partitions(conn, table)}
        for n in range(config.partitions_ahead + 1):
            month = partitions.add_months(partitions.month_start(report.now), n)
            if dt.datetime(month.year, month.month, 1) not in have:
                report.partitions_created.append(partitions.partition_name(table, month))


# --- months -----------------------------------------------------------------------------
def _as_table(name: str, like: Table) -> Table:
    """A partition as a Core table with its parent's columns."""
    return Table(name, MetaData(), *(Column(c.name, c.type) for c in like.columns))


def _prune_months(engine: Engine, report: PruneReport, before: dt.datetime, batch: int) -> None:
    with engine.connect() as conn:
        event_months = partitions.months_before(conn, "bounce_events", before)
        message_months = partitions.months_before(conn, "messages", before)
    for month in event_months:  # PostgreSQL: a month of events at a time
        with engine.begin() as conn:
            part = _as_table(month.name, t.events)
            report.events += _forget_events(conn, part, None, report, partition=month)
            report.partitions_dropped.append(month.name)
    for month in message_months:
        with engine.begin() as conn:
            part = _as_table(month.name, t.messages)
            in_month = select(part.c.id).scalar_subquery()
            report.events += _forget_events(
                conn, t.events, t.events.c.message_id.in_(in_month), report
            )
            report.activities += conn.execute(
                delete(t.activities).where(t.activities.c.message_id.in_(in_month))
            ).rowcount
            k = _message_keys()
            conn.execute(
                delete(k).where(k.c.received_at >= month.start, k.c.received_at < month.end)
            )
            report.messages += int(
                conn.execute(select(func.count()).select_from(part)).scalar_one()
            )
            partitions.drop(conn, month)
            report.partitions_dropped.append(month.name)
    # SQLite, and what PostgreSQL's DEFAULT partition holds: rows, in batches.
    e, m = t.events.c, t.messages.c
    while ids := _ids(engine, select(e.id).where(e.occurred_at < before), batch):
        with engine.begin() as conn:
            report.events += _forget_events(conn, t.events, e.id.in_(ids), report)
    while ids := _ids(engine, select(m.id).where(m.received_at < before), batch):
        with engine.begin() as conn:
            report.events += _delete_messages(conn, ids, report)
            report.messages += len(ids)


def _message_keys() -> Table:
    return Table(
        "message_keys",
        MetaData(),
        Column("idempotency_key", t.messages.c.idempotency_key.type),
        Column("received_at", t.messages.c.received_at.type),
    )


def _delete_messages(conn: Connection, ids: list[int], report: PruneReport) -> int:
    """Delete messages with their events and filed replies; the number of events."""
    m, a = t.messages.c, t.activities.c
    events = _forget_events(conn, t.events, t.events.c.message_id.in_(ids), report)
    report.activities += conn.execute(delete(t.activities).where(a.message_id.in_(ids))).rowcount
    conn.execute(delete(t.messages).where(m.id.in_(ids)))
    return events


# --- what pruned events leave behind ----------------------------------------------------
def _live_history(source: FromClause, where: Any) -> Any:
    """The events of ``source`` that an address's rebuild would read: live, after its reset."""
    s, addr = source.c, t.addresses.c
    return (
        select(s.address_id, s.occurred_at)
        .select_from(source.join(t.addresses, addr.id == s.address_id))
        .where(
            s.undone_at.is_(None),
            or_(addr.reset_at.is_(None), s.occurred_at >= addr.reset_at),
            *([where] if where is not None else []),
        )
        .subquery()
    )


def _forget_events(
    conn: Connection,
    source: FromClause,
    where: Any,
    report: PruneReport,
    partition: partitions.Partition | None = None,
) -> int:
    """Record what the events of ``source`` (matching ``where``) leave behind, remove
    them (``partition``: drop it whole) and return how many there were."""
    s = source.c
    history = _live_history(source, where)
    marks = conn.execute(
        select(history.c.address_id, func.count(), func.max(history.c.occurred_at)).group_by(
            history.c.address_id
        )
    ).all()
    _mark_addresses(conn, [(int(aid), int(n), until) for aid, n, until in marks])
    report.addresses += len(marks)
    counted = [s.campaign_counted != "", s.undone_at.is_(None), s.campaign_id.is_not(None)]
    campaigns = conn.execute(
        select(s.campaign_id, func.count(), func.max(s.occurred_at))
        .where(*counted, *([where] if where is not None else []))
        .group_by(s.campaign_id)
    ).all()
    ids = select(s.id).where(where) if where is not None else select(s.id)
    sup = t.suppressions.c
    conn.execute(
        update(t.suppressions)
        .where(sup.bounce_event_id.in_(ids.scalar_subquery()))
        .values(bounce_event_id=None)
    )
    if partition is None:
        gone = int(conn.execute(delete(t.events).where(where)).rowcount)
    else:
        gone = int(conn.execute(select(func.count()).select_from(source)).scalar_one())
        partitions.drop(conn, partition)  # first: the campaign rebase must not see them
    _rebase_campaigns(conn, [(int(c), int(n), until) for c, n, until in campaigns])
    return gone


def _mark_addresses(conn: Connection, marks: list[tuple[int, int, dt.datetime]]) -> None:
    if not marks:
        return
    p = t.pruned_addresses
    for batch in chunks(sorted(marks)):
        stmt = dialect_insert(conn, p)
        stmt = stmt.on_conflict_do_update(
            index_elements=["address_id"],
            set_={
                "events": p.c.events + stmt.excluded.events,
                "pruned_until": func.max(p.c.pruned_until, stmt.excluded.pruned_until)
                if conn.dialect.name == "sqlite"
                else func.greatest(p.c.pruned_until, stmt.excluded.pruned_until),
            },
        )
        conn.execute(
            stmt,
            [{"address_id": a, "events": n, "pruned_until": until} for a, n, until in batch],
        )


def _rebase_campaigns(conn: Connection, touched: list[tuple[int, int, dt.datetime]]) -> None:
    """A campaign's pruned part = its counts now minus what its live events give."""
    c, p = t.campaigns.c, t.pruned_campaigns
    for cid, events, until in sorted(touched):
        row = conn.execute(select(c.hard_bounces, c.soft_bounces).where(c.id == cid)).first()
        if row is None:
            continue
        hard, soft = campaign_counts.live_counts(conn, cid)
        values = {"hard": row.hard_bounces - hard, "soft": row.soft_bounces - soft}
        old = conn.execute(select(p.c.events).where(p.c.campaign_id == cid)).scalar()
        if old is None:
            conn.execute(
                p.insert().values(campaign_id=cid, events=events, pruned_until=until, **values)
            )
        else:
            conn.execute(
                update(p)
                .where(p.c.campaign_id == cid)
                .values(events=old + events, pruned_until=until, **values)
            )


def _remember_horizon(engine: Engine, report: PruneReport) -> None:
    horizon = max(x for x in (report.events_before, report.held_before) if x is not None)
    s = t.settings.c
    with engine.begin() as conn:
        old = conn.execute(select(s.value).where(s.key == PRUNED_BEFORE_KEY)).scalar()
        if old is not None and dt.datetime.fromisoformat(old) >= horizon:
            return
        stmt = dialect_insert(conn, t.settings).on_conflict_do_update(
            index_elements=["key"], set_={"value": horizon.isoformat()}
        )
        conn.execute(stmt, [{"key": PRUNED_BEFORE_KEY, "value": horizon.isoformat()}])


def pruned_before(conn: Connection) -> dt.datetime | None:
    """The newest horizon below which retention removed events (None: never)."""
    s = t.settings.c
    value = conn.execute(select(s.value).where(s.key == PRUNED_BEFORE_KEY)).scalar()
    return None if value is None else dt.datetime.fromisoformat(value)


def addresses_with_pruned_history(conn: Connection, ids: Iterable[int]) -> set[int]:
    """Of ``ids``, the addresses whose state cannot be rebuilt from history any more."""
    p = t.pruned_addresses.c
    found: set[int] = set()
    for batch in chunks(sorted(set(ids))):
        found.update(conn.execute(select(p.address_id).where(p.address_id.in_(batch))).scalars())
    return found


def unreadable_events(
    conn: Connection, since: dt.datetime | None
) -> tuple[int, dt.datetime | None]:
    """Live mailed bounces whose raw bytes retention cleared: (how many, the newest)."""
    e, m = t.events.c, t.messages.c
    stmt = (
        select(func.count(), func.max(e.occurred_at))
        .select_from(t.events.join(t.messages, m.id == e.message_id))
        .where(e.undone_at.is_(None), m.raw.is_(None), m.size > 0, m.outcome != "ignored")
    )
    if since is not None:
        stmt = stmt.where(e.occurred_at >= since)
    count, newest = conn.execute(stmt).one()
    return int(count), newest


# --- SQLite space -----------------------------------------------------------------------
def reclaim_sqlite(engine: Engine) -> int:
    """Give freed pages back to the file system; bytes reclaimed.

    The first time, the file is switched to incremental auto-vacuum (one full VACUUM);
    after that each prune frees its pages without rewriting the file."""
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()

        def pragma(sql: str) -> int:
            cur.execute(sql)
            row = cur.fetchone()
            return int(row[0]) if row else 0

        page_size = pragma("PRAGMA page_size")
        before = pragma("PRAGMA page_count")
        if pragma("PRAGMA auto_vacuum") != 2:  # 2: incremental
            cur.execute("PRAGMA auto_vacuum=INCREMENTAL")
            cur.execute("VACUUM")
        else:
            cur.execute("PRAGMA incremental_vacuum")
            cur.fetchall()
        cur.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        after = pragma("PRAGMA page_count")
        cur.close()
        return max(0, before - after) * page_size
    finally:
        raw.close()


# --- serve's daily run ------------------------------------------------------------------
def next_run(now_local: dt.datetime, at: dt.time) -> dt.datetime:
    """The next ``at`` (local wall time) strictly after ``now_local`` (aware)."""
    candidate = now_local.replace(hour=at.hour, minute=at.minute, second=at.second, microsecond=0)
    if candidate <= now_local:
        candidate = (candidate + dt.timedelta(days=1)).replace(
            hour=at.hour, minute=at.minute, second=at.second
        )
    return candidate


class Counter(Protocol):
    def add(self, name: str, amount: int = 1, **labels: str) -> None: ...


METRICS_HELP = {
    "bounceback_retention_runs_total": "Daily retention runs, by result (ok, error).",
    "bounceback_retention_removed_total": "Rows retention removed, by kind.",
    "bounceback_retention_partitions_total": "PostgreSQL partitions, by action.",
}


def run_once(
    target: Engine | HasEngine, config: RetentionConfig, metrics: Counter, now: dt.datetime
) -> PruneReport | None:
    """One prune, logged and counted; an error is logged, never raised."""
    try:
        report = prune(target, now, config)
    except Exception as exc:  # the server keeps running; the next day tries again
        metrics.add("bounceback_retention_runs_total", result="error")
        log.warning(kv("retention_error", error=f"{type(exc).__name__}: {exc}"))
        return None
    metrics.add("bounceback_retention_runs_total", result="ok")
    removed = {
        "events": report.events + report.held_events,
        "messages": report.messages + report.held_messages,
        "raw": report.raw_cleared,
        "activities": report.activities,
    }
    for kind, amount in removed.items():
        metrics.add("bounceback_retention_removed_total", amount, kind=kind)
    metrics.add(
        "bounceback_retention_partitions_total", len(report.partitions_dropped), action="dropped"
    )
    metrics.add(
        "bounceback_retention_partitions_total", len(report.partitions_created), action="created"
    )
    figures = {k: v for k, v in report.as_dict().items() if not isinstance(v, list)}
    log.info(kv("retention", **figures))
    return report


def run_daily(
    target: Engine | HasEngine,
    config: RetentionConfig,
    metrics: Counter,
    stop: threading.Event,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now().astimezone(),
) -> None:
    """Prune every day at ``config.daily_at`` (local) until ``stop`` is set. The months
    ahead are made at start too, so a server started late in a month has them."""
    try:
        engine = target if isinstance(target, Engine) else target.engine
        with engine.begin() as conn:
            now = clock().astimezone(dt.UTC).replace(tzinfo=None)
            partitions.ensure_months(conn, now, config.partitions_ahead)
    except Exception as exc:
        log.warning(kv("retention_error", error=f"{type(exc).__name__}: {exc}"))
    while not stop.is_set():
        now = clock()
        wait = (next_run(now, config.daily_at) - now).total_seconds()
        if stop.wait(max(1.0, wait)):
            return
        run_once(target, config, metrics, clock())
