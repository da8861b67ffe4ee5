"""Ledger speed: real DSN bytes through parse, classify, match and the policy into a database.

    .venv/bin/python bench/ledger_speed.py [--bounces 20000] [--contacts 10000]
        [--campaigns 20] [--db sqlite|postgresql|both] [--batch 200] [--jobs 2] [--json]

Sets up N contacts, a send log (each send stamped with a bounceback id and a
Message-ID, campaigns spread evenly) and generates RFC 3464 DSNs lazily, so memory
should stay flat however many there are: a third come back to the signed VERP
return path, a third quote the X-Bounceback-ID, a third only the Message-ID; their
statuses mix user unknown (hard), mailbox full (soft), a blocked sending IP
(sender fault) and unknown recipients (unmatched). Prints bounces per second,
memory (RSS) at a quarter, half and the end of the run, then processes the same
set again: every message must be a duplicate and nothing in the database may
change. PostgreSQL runs on a throwaway local cluster with durable commits (fsync
on), as a production server would.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select

from bounceback.config import Config
from bounceback.ledger import Ledger, Summary
from bounceback.ledger import tables as t
from bounceback.match.stamp import bounceback_id_for
from bounceback.model import RawMessage

# The throwaway PostgreSQL and the sample bounces are test helpers (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.pgtemp import ThrowawayPostgres
from support.samples import dsn

RETURN_DOMAIN = "bounces.sender.example"
# One stamping time, so the same DSN set is byte-identical when generated again.
STAMPED_AT = dt.datetime.now(dt.UTC).replace(microsecond=0)
STATUSES = (
    ("5.1.1", "550 5.1.1 <{r}>: Recipient address rejected: User unknown"),
    ("5.2.2", "552 5.2.2 <{r}>: Mailbox full"),
    ("5.7.1", "554 5.7.1 Service unavailable; Client host [192.0.2.7] blocked using a DNSBL"),
)


def rss_mb() -> float:
    """The current resident set size."""
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (the parsing workers)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def config_for(url: str) -> Config:
    config = Config(database_url=url)
    config.verp.domain = RETURN_DOMAIN
    config.verp.active_key = "bench"
    config.verp.keys = {"bench": b"a benchmark secret, not for production"}
    return config


def setup(engine: Engine, contacts: int, campaigns: int, sends: int) -> None:
    """Contacts, addresses, campaigns and the send log, in bulk (not measured)."""
    with engine.begin() as conn:
        conn.execute(insert(t.campaigns), [{"name": f"campaign-{c}"} for c in range(campaigns)])
        conn.execute(insert(t.contacts), [{"name": f"Contact {i}"} for i in range(contacts)])
        conn.execute(
            insert(t.addresses),
            [
                {"contact_id": i + 1, "email": f"user{i}@dest{i % 50}.example", "bounce_counts": {}}
                for i in range(contacts)
            ],
        )
        rows = []
        for s in range(sends):
            i = s % contacts
            rows.append(
                {
                    "contact_id": i + 1,
                    "address_id": i + 1,
                    "campaign_id": s % campaigns + 1,
                    "email": f"user{i}@dest{i % 50}.example",
                    "message_id": f"<{s + 1}.news@sender.example>",
                    "bounceback_id": bounceback_id_for(s + 1, secret=b"bench"),
                }
            )
        conn.execute(insert(t.sends), rows)


def messages(ledger: Ledger, n: int, contacts: int) -> Iterator[tuple[str, RawMessage]]:
    """The DSNs, generated one at a time."""
    assert ledger.signer is not None
    for s in range(n):
        send_id = s + 1
        i = s % contacts
        recipient = f"user{i}@dest{i % 50}.example"
        if s % 17 == 0:
            recipient = f"stranger{s}@nowhere.example"  # nobody we know
        status, diagnostic = STATUSES[s % 10 % 3] if s % 10 < 9 else STATUSES[0]
        kwargs: dict[str, Any] = {"serial": send_id}
        way = s % 3
        if way == 0 and not recipient.startswith("stranger"):
            kwargs["return_path"] = ledger.signer.address(send_id, now=STAMPED_AT)
        elif way == 1:
            kwargs["bounceback_id"] = bounceback_id_for(send_id, secret=b"bench")
        known = not recipient.startswith("stranger")
        kwargs["message_id"] = f"<{send_id}.news@sender.example>" if known else f"<x{s}@elsewhere>"
        data = dsn(recipient, status, diagnostic.format(r=recipient), **kwargs)
        yield f"dsn-{s}", RawMessage(data=data, source="bench")


def fingerprint(engine: Engine) -> str:
    """A digest of everything the policy writes, to prove a re-run changed nothing."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in (t.messages, t.events, t.addresses, t.contacts, t.campaigns, t.suppressions):
            columns = [c for c in table.columns if c.name != "raw"]
            for row in conn.execute(select(*columns).order_by(table.c[columns[0].name])):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


def run(ledger: Ledger, args: argparse.Namespace) -> tuple[Summary, float, float, list[float]]:
    """Process the set once: summary, wall seconds, CPU seconds, RSS at 25/50/100%."""
    n = args.bounces
    summary = Summary()
    marks = {n // 4, n // 2}
    memory: list[float] = []
    started = time.perf_counter()
    cpu_started = cpu_seconds()
    for count, outcome in enumerate(
        ledger.process(messages(ledger, n, args.contacts), batch_size=args.batch, jobs=args.jobs),
        1,
    ):
        summary.add(outcome)
        if count in marks:
            memory.append(rss_mb())
    elapsed = time.perf_counter() - started
    memory.append(rss_mb())
    return summary, elapsed, cpu_seconds() - cpu_started, memory


def bench(name: str, url: str, args: argparse.Namespace) -> dict[str, Any]:
    ledger = Ledger.open(config_for(url))
    try:
        setup(ledger.engine, args.contacts, args.campaigns, args.bounces)
        first, elapsed, cpu, memory = run(ledger, args)
        before = fingerprint(ledger.engine)
        again, elapsed_again, _, _ = run(ledger, args)
        changed = fingerprint(ledger.engine) != before
    finally:
        ledger.close()
    result = {
        "database": name,
        "messages": first.processed,
        "bounces": first.bounces,
        "seconds": round(elapsed, 2),
        "bounces_per_s": round(first.bounces / elapsed),
        "summary": first.as_dict(),
        "cpu_seconds": round(cpu, 2),
        "rss_mb_at_25_50_100": [round(m, 1) for m in memory],
        "peak_rss_mb": round(peak_mb(), 1),
        "rerun_duplicates": again.duplicates,
        "rerun_changed_anything": changed,
        "rerun_messages_per_s": round(again.processed / elapsed_again),
    }
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--bounces", type=int, default=20_000)
    parser.add_argument("--contacts", type=int, default=10_000)
    parser.add_argument("--campaigns", type=int, default=20)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=2, help="Parsing processes (1: inline).")
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--json", action="store_true", help="Print one JSON document.")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bounceback-bench-") as tmp:
        if args.db in ("sqlite", "both"):
            results.append(bench("sqlite", f"sqlite:///{Path(tmp) / 'bench.db'}", args))
        if args.db in ("postgresql", "both"):
            with ThrowawayPostgres(durable=True) as server:
                url = server.create_database("bench")
                results.append(bench("postgresql", url, args))
    if args.json:
        print(json.dumps(results, indent=2))
    else:
        for r in results:
            print(
                f"{r['database']:>10}: {r['bounces']} bounces from {r['messages']} DSNs in "
                f"{r['seconds']} s = {r['bounces_per_s']} bounces/s "
                f"({r['cpu_seconds']} CPU s); RSS MB at 25/50/100%: "
                f"{r['rss_mb_at_25_50_100']} (peak {r['peak_rss_mb']}); re-run: "
                f"{r['rerun_duplicates']} duplicates, changed anything: "
                f"{r['rerun_changed_anything']}, {r['rerun_messages_per_s']} messages/s"
            )
            print(f"{'':>12}{r['summary']}")
    ok = all(not r["rerun_changed_anything"] for r in results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
