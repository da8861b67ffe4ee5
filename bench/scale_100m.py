"""Scale: the ledger on PostgreSQL at 100 million bounce events, against the same at 1 million.

    .venv/bin/python bench/scale_100m.py [--events 100000000] [--data-dir /work/pgscale]
        [--url postgresql+psycopg://...] [--phase all|generate|measure] [--keep]
        [--checks 20000] [--process 1000] [--json]
    .venv/bin/python bench/scale_100m.py --compare 1m.json 100m.json   # the ratio table

Starts its own PostgreSQL on 127.0.0.1 (a cluster in ``--data-dir``/<events>, reused
when it is already there) unless ``--url`` names one, creates the schema with the
project's Alembic migrations, and generates a year of a sender's ledger inside the
server (``INSERT ... SELECT`` over ``generate_series``: no rows cross the wire, which
beats a client-side ``COPY``): for N events, N/20 contacts with one address each,
N/5 sends, one message per event (its key a hash; the raw bytes only for the last
day, as a retention policy would keep them), every 17th event unmatched, N/80
suppressions, and the rollups by ``rebuild_stats_conn``. The load runs in one
transaction that first truncates the tables, with the secondary indexes dropped and
rebuilt at the end: with ``wal_level=minimal`` PostgreSQL then writes no WAL for it.
Then ANALYZE, and the measurements, each through the code the product runs:

- the suppression check: ``SuppressionLookup.check`` (the API's fast path) on random
  addresses, a quarter suppressed: p50/p99;
- the overview: ``stats.overview`` (the dashboard's "/"), median;
- a contact's page: what GET /contacts/{email} calls (``Ledger.contact_view``,
  ``contacts.contact_timeline``, ``contacts.contact_activities``), median and p99 over
  random contacts;
- ``process``: real DSNs (``ledger.samples.dsn``) for sends in the big ledger, through
  ``Ledger.process``: messages/s;
- pruning the oldest whole month of events and messages: ``retention.prune`` (on
  PostgreSQL it drops the month's partitions, migration 0007).

``--json`` writes the figures as one JSON document; ``--compare A B`` prints B's
figures against A's (the ratio B/A; the issue's aim: none above 2).
"""

from __future__ import annotations

import argparse
import datetime as dt
import glob
import json
import os
import random
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, text

from bounceback.config import Config, RetentionConfig
from bounceback.ledger import Ledger, Summary, contacts, partitions, retention, stats
from bounceback.ledger.db import upgrade
from bounceback.ledger.fastcheck import SuppressionLookup
from bounceback.ledger.rollups import rebuild_stats_conn
from bounceback.model import RawMessage

# The throwaway PostgreSQL and the sample bounces are test helpers (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from overview_load import BIG, REASONS  # the same domains and reason mix
from support.samples import dsn

DAYS = 365  # the span of the generated ledger, ending now
LOADED: tuple[str, ...] = ("contacts", "email_addresses", "campaigns", "sends", "messages")
LOADED += ("bounce_events", "suppressions", "daily_stats", "send_stats")
CHUNK = 5_000_000  # rows per INSERT, for progress lines


def log(msg: str) -> None:
    print(f"[{dt.datetime.now(dt.UTC):%H:%M:%S}] {msg}", flush=True)


# --- the server -----------------------------------------------------------------------------
class Server:
    """A PostgreSQL cluster in ``root`` (kept between runs), started on a free port."""

    def __init__(self, root: Path) -> None:
        found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
        if not found:
            raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
        self.bin = Path(found[-1]).parent
        self.root = root
        self.data = root / "data"
        self.user = "postgres" if os.geteuid() == 0 else None
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = int(sock.getsockname()[1])
        self.pid: int | None = None

    def _run(self, *args: str) -> None:
        subprocess.run(list(args), check=True, capture_output=True, user=self.user, timeout=600)

    def start(self) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        if self.user is not None:
            shutil.chown(self.root, self.user)
        fresh = not (self.data / "PG_VERSION").exists()
        if fresh:
            self._run(
                str(self.bin / "initdb"), "-D", str(self.data), "-U", "bounceback",
                "--auth=trust", "-E", "UTF8", "--no-instructions",
            )  # fmt: skip
        # Durable commits (fsync on) as in production; sized for a 2-core, 23 GB machine
        # shared with other work. wal_level=minimal lets the bulk load skip the WAL; no
        # autovacuum: on a live ledger it has long caught up, here it would run during
        # the measurements (the load runs ANALYZE and the VACUUMs that matter itself).
        options = (
            f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} "
            "-c max_connections=30 -c shared_buffers=2GB -c work_mem=64MB "
            "-c maintenance_work_mem=1GB -c max_wal_size=8GB -c checkpoint_timeout=30min "
            "-c wal_level=minimal -c max_wal_senders=0 -c max_parallel_workers_per_gather=2 "
            "-c max_parallel_maintenance_workers=2 -c effective_cache_size=8GB "
            "-c random_page_cost=1.1 -c autovacuum=off"
        )
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"),
            "-o", options, "-w", "-t", "600", "start",
        )  # fmt: skip
        self.pid = int((self.data / "postmaster.pid").read_text().split()[0])
        base = f"postgresql+psycopg://bounceback@127.0.0.1:{self.port}"
        if fresh:
            admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(text('CREATE DATABASE "scale"'))
            admin.dispose()
        return f"{base}/scale"

    def stop(self) -> None:
        if self.pid is None:
            return
        try:
            os.kill(self.pid, signal.SIGINT)  # fast shutdown, by PID
        except ProcessLookupError:
            return
        while True:
            try:
                os.kill(self.pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)
        self.pid = None


# --- generating the ledger ------------------------------------------------------------------
def _case(values: list[str], selector: str) -> str:
    return f"CASE {selector} " + " ".join(f"WHEN {n} THEN {v}" for n, v in enumerate(values))


def _reason(column: int) -> str:
    """One field of REASONS picked by ``r`` (0..99) by weight."""
    parts, low = [], 0
    for entry in REASONS:
        value = entry[column]
        literal = ("TRUE" if value else "FALSE") if isinstance(value, bool) else f"'{value}'"
        low += entry[3]
        parts.append(f"WHEN r < {low} THEN {literal}")
    return "CASE " + " ".join(parts) + " END"


def _hash(x: str) -> str:
    return f"(({x})::bigint * 2654435761 % 4294967296)"


def _domain(k: str) -> str:
    """Address k's domain: 60% at twenty big providers, the rest over 20,000 small ones."""
    h = _hash(k)
    big = _case([f"'{d}'" for d in BIG], f"({h} % 20)") + " END"
    tail = f"'d' || (({h} / 7 % 20000) * ({h} / 7 % 20000) / 20000)::text || '.example'"
    return f"(CASE WHEN {h} % 10 < 6 THEN {big} ELSE {tail} END)"


def _email(k: str) -> str:
    return f"('u' || ({k})::text || '@' || {_domain(k)})"


class Shape:
    """The sizes derived from N events (per-contact and per-day shapes stay the same)."""

    def __init__(self, events: int) -> None:
        self.events = events
        self.contacts = max(1000, events // 20)
        self.sends = events // 5
        self.suppressions = self.contacts // 4
        self.campaigns = DAYS * 2 // 3 + 4
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
        self.end = now.replace(minute=0, second=0)
        self.start = self.end - dt.timedelta(days=DAYS)

    def at(self, i: str, n: int) -> str:
        """Row i of n spread evenly over the span."""
        return f"(TIMESTAMP '{self.start}' + ({i})::bigint * {DAYS * 86400} / {n} * INTERVAL '1 s')"


def _secondary(conn: Connection, tables: tuple[str, ...]) -> list[tuple[str, str, str]]:
    """(table, drop statement, create statement) of the loaded tables' constraints and
    indexes that can be built after the load: unique constraints, primary keys no
    foreign key points at, plain indexes (a partitioned table's, on its parent)."""
    found = []
    names = ", ".join(f"'{n}'" for n in tables)
    for table, name, definition in conn.execute(
        text(
            "SELECT c.relname, k.conname, pg_get_constraintdef(k.oid) FROM pg_constraint k "
            f"JOIN pg_class c ON c.oid = k.conrelid WHERE c.relname IN ({names}) "
            "AND k.conparentid = 0 AND (k.contype = 'u' OR (k.contype = 'p' AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint f WHERE f.contype = 'f' AND f.confrelid = c.oid)))"
        )
    ):
        found.append(
            (
                table,
                f'ALTER TABLE {table} DROP CONSTRAINT "{name}"',
                f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}',
            )
        )
    for table, name, definition in conn.execute(
        text(
            "SELECT tablename, indexname, indexdef FROM pg_indexes "
            f"WHERE tablename IN ({names}) AND schemaname = 'public' AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))"
        )
    ):
        # A partitioned table's reads "ON ONLY": the parent alone, no partition's index.
        found.append((table, f'DROP INDEX "{name}"', definition.replace(" ON ONLY ", " ON ")))
    return found


def _has_table(engine: Engine, name: str) -> bool:
    with engine.connect() as conn:
        return conn.execute(text("SELECT to_regclass(:t)"), {"t": name}).scalar() is not None


def _insert(conn: Connection, label: str, total: int, sql: Callable[[int, int], str]) -> None:
    """``sql(low, high)`` for each chunk of 0..total, with a progress line each."""
    started = time.perf_counter()
    for low in range(0, total, CHUNK):
        high = min(total, low + CHUNK)
        conn.execute(text(sql(low, high)))
        rate = high / (time.perf_counter() - started)
        log(f"  {label}: {high:,}/{total:,} ({rate:,.0f} rows/s)")


def _series(low: int, high: int) -> str:
    return f"generate_series({low}::bigint, {high - 1}::bigint) AS g(i)"


def generate(engine: Engine, shape: Shape) -> dict[str, float]:
    """The ledger of ``shape``, in one transaction; seconds per step."""
    n, c = shape.events, shape.contacts
    took: dict[str, float] = {}
    began = time.perf_counter()
    with engine.begin() as conn:
        # Migration 0007's monthly partitions, for every month of the span.
        month = partitions.month_start(shape.start)
        while month <= partitions.month_start(shape.end):
            for table in partitions.PARTITIONED:
                if partitions.is_partitioned(conn, table):
                    partitions.ensure_month(conn, table, month)
            month = partitions.add_months(month, 1)
    keyed = _has_table(engine, "message_keys")  # 0007: the unique keys of messages
    loaded = LOADED + (("message_keys",) if keyed else ())
    with engine.begin() as conn:
        # No triggers: neither the foreign keys' checks nor 0007's key claim (done below).
        conn.execute(text("SET LOCAL session_replication_role = replica"))
        conn.execute(text("SET LOCAL synchronous_commit = off"))
        conn.execute(text(f"TRUNCATE {', '.join(loaded)} CASCADE"))  # new files: no WAL
        secondary = _secondary(conn, loaded)
        for _, drop, _ in secondary:
            conn.execute(text(drop))
        conn.execute(
            text(
                "INSERT INTO campaigns (id, name, status, hard_bounces, soft_bounces, created_at) "
                f"SELECT i + 1, 'newsletter-' || lpad((i + 1)::text, 4, '0'), 'active', 0, 0, "
                f"{shape.at('i', shape.campaigns)} FROM {_series(0, shape.campaigns)}"
            )
        )
        step = time.perf_counter()
        _insert(
            conn,
            "contacts",
            c,
            lambda lo, hi: (
                "INSERT INTO contacts (id, kind, name, bulk_mail, disabled, created_at) "
                f"SELECT i + 1, 'contact', 'Contact ' || i::text, 'allowed', FALSE, "
                f"TIMESTAMP '{shape.start}' FROM {_series(lo, hi)}"
            ),
        )
        # Every 50th address on hold, as the policy leaves a hard-bounced one.
        _insert(
            conn,
            "addresses",
            c,
            lambda lo, hi: (
                "INSERT INTO email_addresses (id, contact_id, email, bounced, on_hold, "
                "hold_since, hold_type, bounce_counts, consecutive_bounces, created_at) "
                f"SELECT i + 1, i + 1, {_email('i')}, FALSE, i % 50 = 0, "
                f"CASE WHEN i % 50 = 0 THEN TIMESTAMP '{shape.start}' END, "
                "CASE WHEN i % 50 = 0 THEN 'Invalid' END, "
                "CASE WHEN i % 50 = 0 THEN '{\"Invalid\": 1}' ELSE '{}' END::json, 0, "
                f"TIMESTAMP '{shape.start}' FROM {_series(lo, hi)}"
            ),
        )
        took["contacts_s"] = time.perf_counter() - step
        step = time.perf_counter()
        # Send j went to address j % contacts, in the campaign of its day.
        _insert(
            conn,
            "sends",
            shape.sends,
            lambda lo, hi: (
                "INSERT INTO sends (id, contact_id, address_id, campaign_id, email, message_id, "
                f"sent_at) SELECT i + 1, i % {c} + 1, i % {c} + 1, "
                f"(i::bigint * {DAYS} / {shape.sends}) * 2 / 3 + 1, {_email(f'i % {c}')}, "
                f"'<' || (i + 1)::text || '.news@sender.example>', "
                f"{shape.at('i', shape.sends)} FROM {_series(lo, hi)}"
            ),
        )
        took["sends_s"] = time.perf_counter() - step
        step = time.perf_counter()
        raw_from = n - n // DAYS  # the last day keeps its raw bytes
        sample = dsn("u1@gmail.com", "5.1.1").decode("ascii").replace("'", "''")
        _insert(
            conn,
            "messages",
            n,
            lambda lo, hi: (
                "INSERT INTO messages (id, idempotency_key, source, ref, received_at, size, raw, "
                "kind, detector, outcome, error) "
                f"SELECT i + 1, 'sha256:' || md5(i::text), 'imap', '', {shape.at('i', n)}, "
                f"{len(sample)}, "
                f"CASE WHEN i >= {raw_from} THEN convert_to('{sample}', 'UTF8') END, "
                "'bounce', 'postfix', "
                "CASE WHEN i % 17 = 0 THEN 'unmatched' ELSE 'matched' END, '' "
                f"FROM {_series(lo, hi)}"
            ),
        )
        took["messages_s"] = time.perf_counter() - step
        step = time.perf_counter()
        # Event i: address k (a hash of i), one of its sends, the campaign of that send.
        k = f"{_hash('i')} % {c}"
        matched = "i % 17 <> 0"
        _insert(
            conn,
            "events",
            n,
            lambda lo, hi: (
                "INSERT INTO bounce_events (id, message_id, position, address_id, contact_id, "
                "send_id, campaign_id, match_method, email, domain, source, kind, detector, "
                "reason, hardbounce, permanent, bounce_type, rule, status, reply_code, action, "
                "diagnostic, remote_mta, reporting_mta, smtp_command, original_message_id, "
                "bounceback_id, envelope_id, status_found, diagnostic_type, original_recipient, "
                "last_attempt, feedback_type, reason_hint, original_subject, original_from, "
                "original_to, original_return_path, occurred_at, effects, campaign_counted, "
                "verified) "
                "SELECT i + 1, i + 1, 0, addr, addr, send, "
                f"CASE WHEN send IS NOT NULL THEN (send - 1)::bigint * {DAYS} / {shape.sends} "
                "* 2 / 3 + 1 END, CASE WHEN addr IS NULL THEN 'none' ELSE 'message_id' END, "
                "email, domain, 'imap', kind, 'postfix', reason, hard, hard, "
                "CASE WHEN hard THEN 'Invalid' ELSE '' END, 'status', "
                "CASE WHEN hard THEN '5.1.1' ELSE '4.2.2' END, "
                "CASE WHEN hard THEN '550' ELSE '452' END, 'failed', "
                "CASE WHEN hard THEN 'smtp; 550 5.1.1 user unknown' "
                "ELSE 'smtp; 452 4.2.2 mailbox full' END, '', '', 'RCPT', "
                "'<' || coalesce(send, 0)::text || '.news@sender.example>', '', '', '5.1.1', "
                "'smtp', '', '', '', '', '', '', '', '', at, "
                "CASE WHEN hard THEN '{\"counted\": \"Invalid\"}' ELSE '{}' END::json, '', TRUE "
                "FROM (SELECT i, r, "
                f"CASE WHEN {matched} THEN k + 1 END AS addr, "
                f"CASE WHEN {matched} THEN k + 1 + {c} * (i % {max(1, shape.sends // c)}) END "
                "AS send, "
                f"CASE WHEN {matched} THEN {_email('k')} "
                f"ELSE 'x' || i::text || '@' || {_domain('k')} END AS email, "
                f"{_domain('k')} AS domain, {_reason(1)} AS kind, {_reason(0)} AS reason, "
                f"{_reason(2)} AS hard, {shape.at('i', n)} AS at "
                f"FROM (SELECT i, {k} AS k, (i * 40503) % 100 AS r FROM {_series(lo, hi)}) AS x"
                ") AS y"
            ),
        )
        took["events_s"] = time.perf_counter() - step
        step = time.perf_counter()
        # Every 4th contact suppressed (its hard bounce), plus the manual entries' shape.
        _insert(
            conn,
            "suppressions",
            shape.suppressions,
            lambda lo, hi: (
                "INSERT INTO suppressions (id, email, reason, source, since, bounce_event_id) "
                f"SELECT i + 1, {_email('i * 4')}, 'userunknown', 'bounce', "
                f"{shape.at('i', shape.suppressions)}, (i * 80) % {n} + 1 "
                f"FROM {_series(lo, hi)}"
            ),
        )
        if keyed:
            conn.execute(
                text(
                    "INSERT INTO message_keys (idempotency_key, received_at) "
                    "SELECT idempotency_key, received_at FROM messages"
                )
            )
        for table in LOADED[:-2]:
            conn.execute(text(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))"))
        step = time.perf_counter()
        for table, _, create in secondary:
            started = time.perf_counter()
            conn.execute(text(create))
            log(f"  {table}: {create.split(' ON ')[0]} ... {time.perf_counter() - started:.1f} s")
        took["indexes_s"] = time.perf_counter() - step
        step = time.perf_counter()
        log("rebuild_stats (the rollups) ...")
        rows = rebuild_stats_conn(conn)  # the project's backfill (migration 0003)
        took["rebuild_stats_s"] = time.perf_counter() - step
        log(f"rollups: {rows}")
    step = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        # ANALYZE samples a fixed number of rows; VACUUM (the visibility map) only where
        # a measured read is an index-only scan: the overview's counts of messages.
        conn.execute(text("ANALYZE"))
        conn.execute(text("VACUUM messages, daily_stats, send_stats, suppressions"))
        conn.execute(
            text("INSERT INTO settings (key, value) VALUES ('scale_bench_events', :n)"),
            {"n": str(n)},
        )
    took["analyze_s"] = time.perf_counter() - step
    took["total_s"] = time.perf_counter() - began
    return {k: round(v, 1) for k, v in took.items()}


def generated_events(engine: Engine) -> int | None:
    with engine.connect() as conn:
        try:
            value = conn.execute(
                text("SELECT value FROM settings WHERE key = 'scale_bench_events'")
            ).scalar()
        except Exception:
            return None
    return int(value) if value is not None else None


def sizes(engine: Engine) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT relname, pg_total_relation_size(oid) FROM pg_class "
                "WHERE relkind IN ('r', 'p') AND relnamespace = 'public'::regnamespace "
                "ORDER BY 2 DESC LIMIT 8"
            )
        ).all()
        total = conn.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
    return {"database_gb": round(total / 2**30, 2)} | {
        f"{name}_gb": round(size / 2**30, 2) for name, size in rows
    }


# --- measuring ------------------------------------------------------------------------------
def _ms(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "n": len(ordered),
    }


def _timed(fn: Callable[[], Any]) -> float:
    started = time.perf_counter()
    fn()
    return (time.perf_counter() - started) * 1000


def measure_check(engine: Engine, shape: Shape, count: int, rng: random.Random) -> dict[str, Any]:
    """The API's suppression check on random addresses (a quarter are suppressed)."""
    with engine.connect() as conn:
        emails = [
            str(e)
            for e in conn.execute(
                text(f"SELECT {_email('k')} FROM unnest(CAST(:ks AS bigint[])) AS u(k)"),
                {"ks": [rng.randrange(shape.contacts) for _ in range(count)]},
            ).scalars()
        ]
    lookup = SuppressionLookup(engine)
    try:
        for email in emails[:200]:  # the connection and the prepared statement
            lookup.check(email)
        found = 0
        samples = []
        for email in emails:
            started = time.perf_counter()
            found += lookup.check(email) is not None
            samples.append((time.perf_counter() - started) * 1000)
    finally:
        lookup.close()
    return _ms(samples) | {"suppressed": found}


def measure_overview(ledger: Ledger, repeat: int) -> dict[str, Any]:
    stats.overview(ledger)  # warm
    times = [_timed(lambda: stats.overview(ledger)) for _ in range(repeat)]
    return {"median_ms": round(statistics.median(times), 1), "ms": [round(x, 1) for x in times]}


def measure_contact(ledger: Ledger, shape: Shape, count: int, rng: random.Random) -> dict[str, Any]:
    """What the dashboard's contact page reads, for random contacts."""
    with ledger.engine.connect() as conn:
        emails = [
            str(e)
            for e in conn.execute(
                text(f"SELECT {_email('k')} FROM unnest(CAST(:ks AS bigint[])) AS u(k)"),
                {"ks": [rng.randrange(shape.contacts) for _ in range(count)]},
            ).scalars()
        ]
    events = 0

    def page(email: str) -> None:
        nonlocal events
        view = ledger.contact_view(email)
        found = contacts.contact_timeline(ledger, email, 50)
        contacts.contact_activities(ledger, email, 20)
        assert view is not None and found is not None, email
        events += len(found[0]["events"])

    page(emails[0])
    samples = [_timed(lambda e=email: page(e)) for email in emails]  # type: ignore[misc]
    return _ms(samples) | {"events_shown": events}


def bench_config(url: str) -> Config:
    config = Config(database_url=url)
    config.verp.domain = "bounces.sender.example"
    return config


def _dsns(sends: list[tuple[int, str]]) -> Iterator[tuple[str, RawMessage]]:
    for send_id, email in sends:
        data = dsn(
            email,
            "5.1.1",
            f"550 5.1.1 <{email}>: Recipient address rejected: User unknown",
            message_id=f"<{send_id}.news@sender.example>",
            serial=send_id,
            date=dt.datetime.now(dt.UTC),
        )
        yield f"scale-{send_id}", RawMessage(data=data, source="bench")


def measure_process(ledger: Ledger, shape: Shape, count: int, rng: random.Random) -> dict[str, Any]:
    """Real DSNs for random sends of the big ledger through ``Ledger.process``."""
    picked = rng.sample(range(1, shape.sends + 1), count)
    with ledger.engine.connect() as conn:
        sends = [
            (int(r[0]), str(r[1]))
            for r in conn.execute(
                text("SELECT id, email FROM sends WHERE id = ANY(:ids)"), {"ids": picked}
            )
        ]
    summary = Summary()
    started = time.perf_counter()
    for outcome in ledger.process(_dsns(sends), batch_size=200, jobs=1):
        summary.add(outcome)
    elapsed = time.perf_counter() - started
    return {
        "messages": summary.processed,
        "seconds": round(elapsed, 2),
        "messages_per_s": round(summary.processed / elapsed, 1),
        "summary": summary.as_dict(),
    }


def _retention(now: dt.datetime, before: dt.date) -> RetentionConfig:
    """A [retention] that removes the events and messages before ``before`` only."""
    months = 0
    while partitions.add_months(partitions.month_start(now), -months) > before:
        months += 1
    return RetentionConfig(
        raw_message_days=0, quarantined_unmatched_days=0, bounce_event_months=months
    )


def measure_prune(ledger: Ledger) -> dict[str, Any]:
    """One whole month through ``retention.prune`` (dropping its partitions on a
    partitioned ledger): first the partial month the span starts in, untimed, then the
    first whole month, timed."""
    with ledger.engine.connect() as conn:
        oldest = conn.execute(text("SELECT min(occurred_at) FROM bounce_events")).scalar_one()
        partitioned = partitions.is_partitioned(conn, "bounce_events")
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    whole = partitions.add_months(partitions.month_start(oldest), 1)
    before = retention.prune(ledger, now, _retention(now, whole))
    log(f"  the partial month first: {before.lines()}")
    started = time.perf_counter()
    report = retention.prune(ledger, now, _retention(now, partitions.add_months(whole, 1)))
    elapsed = time.perf_counter() - started
    return {
        "how": "retention.prune: "
        + ("dropped the month's partitions" if partitioned else "deleted rows in batches"),
        "month": f"{whole:%Y-%m}",
        "events": report.events,
        "messages": report.messages,
        "addresses": report.addresses,
        "seconds": round(elapsed, 2),
    }


def measure(url: str, shape: Shape, args: argparse.Namespace) -> dict[str, Any]:
    rng = random.Random(20261208)
    ledger = Ledger.open(bench_config(url))
    engine = ledger.engine
    result: dict[str, Any] = {"events": shape.events, "sizes": sizes(engine)}
    try:
        steps: list[tuple[str, Callable[[], dict[str, Any]]]] = [
            ("suppression_check", lambda: measure_check(engine, shape, args.checks, rng)),
            ("overview", lambda: measure_overview(ledger, args.repeat)),
            ("contact_page", lambda: measure_contact(ledger, shape, args.contacts, rng)),
            ("process", lambda: measure_process(ledger, shape, args.process, rng)),
            ("prune_month", lambda: measure_prune(ledger)),
        ]
        for name, step in steps:
            if args.skip and name in args.skip.split(","):
                continue
            log(f"{name} ...")
            result[name] = step()
            result[name]["load_average_1min"] = round(os.getloadavg()[0], 2)
            log(f"{name}: {json.dumps(result[name])}")
    finally:
        ledger.close()
    return result


# --- comparing ------------------------------------------------------------------------------
FIGURES = [
    ("suppression check p99 (ms)", ("suppression_check", "p99_ms")),
    ("suppression check p50 (ms)", ("suppression_check", "p50_ms")),
    ("overview median (ms)", ("overview", "median_ms")),
    ("contact page p50 (ms)", ("contact_page", "p50_ms")),
    ("contact page p99 (ms)", ("contact_page", "p99_ms")),
    ("process (messages/s)", ("process", "messages_per_s")),
    ("prune one month (s)", ("prune_month", "seconds")),
]


def compare(small: dict[str, Any], big: dict[str, Any]) -> list[str]:
    lines = [
        f"| figure | {small['events']:,} events | {big['events']:,} events | ratio |",
        "|---|---:|---:|---:|",
    ]
    for label, (step, key) in FIGURES:
        a = small.get(step, {}).get(key)
        b = big.get(step, {}).get(key)
        if a is None or b is None:
            lines.append(f"| {label} | {a} | {b} | - |")
            continue
        # For a rate, worse is lower: the ratio is how many times slower.
        ratio = a / b if "/s" in label else b / a
        lines.append(f"| {label} | {a:,} | {b:,} | {ratio:.2f}x |")
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=100_000_000)
    parser.add_argument("--data-dir", type=Path, default=Path("/work/pgscale"))
    parser.add_argument("--url", help="An existing database to fill (else a local cluster).")
    parser.add_argument("--phase", choices=("all", "generate", "measure"), default="all")
    parser.add_argument("--regenerate", action="store_true", help="Even if already there.")
    parser.add_argument("--keep", action="store_true", help="Leave the cluster's files.")
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=300, help="Contact pages to time.")
    parser.add_argument("--process", type=int, default=1000, help="DSNs to process.")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip", default="", help="Measurements to leave out, comma-separated.")
    parser.add_argument("--json", type=Path, help="Write the figures here.")
    parser.add_argument("--compare", nargs=2, type=Path, metavar=("SMALL", "BIG"))
    args = parser.parse_args()
    if args.compare:
        small, big = (json.loads(p.read_text()) for p in args.compare)
        print("\n".join(compare(small, big)))
        return 0
    shape = Shape(args.events)
    server = None if args.url else Server(args.data_dir / str(args.events))
    try:
        url = args.url or server.start()  # type: ignore[union-attr]
        log(f"database {url}")
        engine = create_engine(url)
        started = time.perf_counter()
        upgrade(engine)  # the schema, or the migrations newer than the data
        log(f"migrations: {time.perf_counter() - started:.1f} s")
        result: dict[str, Any] = {"events": args.events}
        if args.phase in ("all", "generate"):
            if args.regenerate or generated_events(engine) != args.events:
                log(f"generating {args.events:,} events ...")
                result["generate"] = generate(engine, shape)
                log(f"generated: {result['generate']}")
            log(f"sizes: {sizes(engine)}")
        engine.dispose()
        if args.phase in ("all", "measure"):
            result |= measure(url, shape, args)
        if args.json:
            previous = json.loads(args.json.read_text()) if args.json.exists() else {}
            args.json.write_text(json.dumps(previous | result, indent=2) + "\n")
        print(json.dumps(result, indent=2))
    finally:
        if server is not None:
            server.stop()
            if args.phase == "all" and not args.keep:
                shutil.rmtree(server.root, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
