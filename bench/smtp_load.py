"""SMTP receiver load: N concurrent clients on loopback deliver real DSNs to VERP addresses.

    .venv/bin/python bench/smtp_load.py [--clients 50] [--messages 5000] [--json]

The receiver runs in its own process with the ledger on SQLite (WAL), as
`bounceback smtpd` would; the clients are threads in this process, each on one
connection (as an MTA reuses its connections), each message one MAIL/RCPT/DATA
transaction to a signed VERP address. Prints accepted messages per second, the
latency from MAIL to the 250 after DATA (p50/p99), errors, the receiver's peak RSS,
and checks that the ledger holds exactly as many messages as were accepted.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing as mp
import shutil
import smtplib
import socket
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import func, insert, select

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.smtpd import SmtpdConfig, ledger_sink, start_server

# The throwaway PostgreSQL and the sample bounces are test helpers (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.samples import dsn

DOMAIN = "bounces.sender.example"


def config(url: str) -> Config:
    cfg = Config(database_url=url, lock_timeout_ms=15000)
    cfg.verp.domain = DOMAIN
    cfg.verp.active_key = "k1"
    cfg.verp.keys = {"k1": b"bench-key-0123456789abcdef"}
    return cfg


def setup(ledger: Ledger, n: int) -> list[str]:
    """n contacts with one send each; returns each send's VERP address."""
    with ledger.engine.begin() as conn:
        conn.execute(insert(t.contacts), [{"name": f"Contact {i}"} for i in range(n)])
        conn.execute(
            insert(t.addresses),
            [
                {"contact_id": i + 1, "email": f"user{i}@dest{i % 50}.example", "bounce_counts": {}}
                for i in range(n)
            ],
        )
        conn.execute(
            insert(t.sends),
            [
                {"contact_id": i + 1, "address_id": i + 1, "email": f"user{i}@dest{i % 50}.example"}
                for i in range(n)
            ],
        )
    assert ledger.signer is not None
    return [ledger.signer.address(i + 1) for i in range(n)]


def serve(url: str, port: int, ready: Any, stop: Any, peak: Any) -> None:
    import asyncio

    ledger = Ledger.open(config(url))

    async def main() -> None:
        # Every client is 127.0.0.1 here: lift the per-client limits, measure the rest.
        cfg = SmtpdConfig(
            host="127.0.0.1",
            port=port,
            max_connections_per_client=1000,
            rate_per_client=1e9,
            rate_burst=10**9,
        )
        server, committer = await start_server(cfg, ledger_sink(ledger), ledger.signer)
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        server.close()
        await committer.stop()

    asyncio.run(main())
    # VmHWM, not getrusage: ru_maxrss survives exec, so it would count the parent's
    # memory at fork time.
    status = Path("/proc/self/status").read_text()
    peak.value = int(status.split("VmHWM:")[1].split()[0]) / 1024
    ledger.close()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--messages", type=int, default=5000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="bb-smtp-load-"))
    url = f"sqlite:///{tmp / 'ledger.db'}"
    ledger = Ledger.open(config(url))
    addresses = setup(ledger, args.messages)
    bodies = [
        dsn(f"user{i}@dest{i % 50}.example", return_path=addresses[i], serial=i + 1)
        for i in range(args.messages)
    ]

    port = free_port()
    ctx = mp.get_context("spawn")  # a clean process: its RSS is the receiver's own
    ready, stop, peak = ctx.Event(), ctx.Event(), ctx.Value("d", 0.0)
    proc = ctx.Process(target=serve, args=(url, port, ready, stop, peak))
    proc.start()
    if not ready.wait(30):
        sys.exit("the receiver did not start")

    latencies: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    next_index = iter(range(args.messages))

    def client() -> None:
        with smtplib.SMTP("127.0.0.1", port, timeout=60) as smtp:
            smtp.ehlo("load.test")
            while True:
                with lock:
                    i = next(next_index, None)
                if i is None:
                    return
                started = time.perf_counter()
                try:
                    code, text = smtp.mail("")
                    if code == 250:
                        code, text = smtp.rcpt(addresses[i])
                    if code == 250:
                        code, text = smtp.data(bodies[i])
                except smtplib.SMTPException as exc:
                    code, text = 0, str(exc).encode()
                took = time.perf_counter() - started
                with lock:
                    if code == 250:
                        latencies.append(took)
                    else:
                        errors.append(f"{code} {text[:60]!r}")

    # The receiver's RSS as the run goes: at each quarter of the messages accepted.
    rss_at: dict[int, float] = {}
    rss_max = [0.0]

    def sample() -> None:
        status = Path(f"/proc/{proc.pid}/status")
        while proc.is_alive() and len(rss_at) < 4:
            quarter = len(latencies) * 4 // args.messages
            with contextlib.suppress(OSError, IndexError, ValueError):
                text = status.read_text()
                rss = int(text.split("VmRSS:")[1].split()[0]) / 1024
                rss_max[0] = max(rss_max[0], rss)
                if quarter and quarter not in rss_at:
                    rss_at[quarter] = rss
            time.sleep(0.05)

    threading.Thread(target=sample, daemon=True).start()
    threads = [threading.Thread(target=client) for _ in range(args.clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    stop.set()
    proc.join(30)

    with ledger.engine.connect() as conn:
        stored = conn.execute(select(func.count()).select_from(t.messages)).scalar_one()
        by_outcome: dict[str, int] = dict(
            conn.execute(
                select(t.messages.c.outcome, func.count()).group_by(t.messages.c.outcome)
            ).all()
        )
    ledger.close()
    shutil.rmtree(tmp, ignore_errors=True)
    latencies.sort()
    result = {
        "clients": args.clients,
        "sent": args.messages,
        "accepted": len(latencies),
        "errors": len(errors),
        "first_errors": errors[:3],
        "seconds": round(elapsed, 2),
        "accepted_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1) if latencies else None,
        "p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1) if latencies else None,
        "receiver_rss_mb_at_25_50_75_100": [round(rss_at[q], 1) for q in sorted(rss_at)],
        "receiver_max_rss_mb_while_serving": round(rss_max[0], 1),
        "receiver_peak_rss_mb": round(peak.value, 1),  # VmHWM, start-up and shutdown included
        "in_ledger": stored,
        "outcomes": by_outcome,
        "nothing_lost": stored == len(latencies),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        for key, value in result.items():
            print(f"{key:>22}: {value}")
    if not result["nothing_lost"]:
        sys.exit(1)


if __name__ == "__main__":
    main()
