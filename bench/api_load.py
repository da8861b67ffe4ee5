"""API load: suppression checks against a million suppressed addresses, over HTTP.

    .venv/bin/python bench/api_load.py [--rows 1000000] [--seconds 10] [--clients 20]
        [--db sqlite|postgresql|both] [--hit-ratio 0.5] [--load-procs 1] [--json]
        [--overview [--bounces 1000000]]

For each database: fills ``--rows`` suppressed addresses (bulk: one executemany in
SQLite, COPY in PostgreSQL on a throwaway cluster), creates a read API key, starts
the real server (``bounceback serve --only http``: uvicorn with uvloop and httptools)
in a subprocess on 127.0.0.1, and drives it from a separate process with ``--clients``
keep-alive connections (raw HTTP/1.1 over asyncio streams on uvloop, so the load
generator costs far less CPU than the server) doing ``GET
/api/v1/suppression/{email}``, a mix of suppressed and unknown addresses. Prints
requests/s, p50/p99 latency and the ratio to the target (2,000 requests/s, p99 <= 20
ms), and as a peer measured in the same run against the same server, ``GET /health``
(no database). Each measurement follows a one-second warm-up. Also printed: the CPU
time the server process (and PostgreSQL's backends) spent per request, read from
/proc, and the checks per second one core could serve at that cost: on a shared,
busy machine the rates and tails move with the neighbours, the CPU cost much less.

``--overview`` then fills ``--bounces`` bounce events (bench/overview_load.py's
generator, with the rollups) into the same database and times the dashboard's
overview page, ``GET /`` with a logged-in session, on the same server (target
<= 500 ms).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing as mp
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from array import array
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.web.auth import create_api_key

# The throwaway PostgreSQL and the sample bounces are test helpers (tests/support).
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.pgtemp import ThrowawayPostgres

TARGET_RPS = 2000.0
TARGET_P99_MS = 20.0
CHUNK = 50_000
ROOT = Path(__file__).resolve().parent.parent


def hit_address(n: int) -> str:
    return f"user{n}@example{n % 97}.org"


def miss_address(n: int) -> str:
    return f"nobody{n}@unknown{n % 89}.net"


def _rows(count: int) -> Iterator[tuple[str, str, str, str]]:
    for n in range(count):
        yield hit_address(n), "userunknown", "bounce", "2026-01-01 00:00:00.000000"


# --- filling ---------------------------------------------------------------------------
def fill(ledger: Ledger, rows: int) -> float:
    """Insert ``rows`` suppressions in bulk; returns the seconds it took."""
    started = time.perf_counter()
    raw: Any = ledger.engine.raw_connection()
    try:
        driver = raw.driver_connection
        if ledger.engine.dialect.name == "postgresql":
            with driver.cursor() as cur:
                copy_sql = "COPY suppressions (email, reason, source, since) FROM STDIN"
                with cur.copy(copy_sql) as copy:
                    for row in _rows(rows):
                        copy.write_row(row)
            driver.commit()
            with driver.cursor() as cur:
                cur.execute("ANALYZE suppressions")
            driver.commit()
        else:
            cur = driver.cursor()
            cur.execute("BEGIN")
            source = _rows(rows)
            while batch := [row for _, row in zip(range(CHUNK), source, strict=False)]:
                cur.executemany(
                    "INSERT INTO suppressions (email, reason, source, since) VALUES (?, ?, ?, ?)",
                    batch,
                )
            cur.execute("COMMIT")
            cur.execute("ANALYZE suppressions")
            cur.close()
    finally:
        raw.close()
    return time.perf_counter() - started


# --- the server ------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerProcess:
    """``bounceback serve --only http`` on 127.0.0.1 in its own process group."""

    def __init__(self, url: str, workdir: Path) -> None:
        self.port = free_port()
        self.config = workdir / "bench.toml"
        self.config.write_text(
            f'[database]\nurl = "{url}"\n\n[http]\nlisten = "127.0.0.1:{self.port}"\n'
        )
        self.log = workdir / "server.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServerProcess:
        exe = Path(sys.executable).parent / "bounceback"
        # The config file alone names the database.
        env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNCEBACK_")}
        with self.log.open("wb") as log:
            self.proc = subprocess.Popen(
                [str(exe), "serve", "--only", "http", "--config", str(self.config)],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,
            )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"the server ended: {self.log.read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the server did not start listening within 60 s")

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


# --- the load generator (runs in its own process) ----------------------------------------
def _request(path: str, token: str) -> bytes:
    return (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n"
        "Accept: application/json\r\n\r\n"
    ).encode()


async def _client(
    port: int,
    requests: list[bytes],
    start: int,
    warmup_until: float,
    stop_at: float,
    latencies: array[float],
    errors: list[int],
) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    n = start
    try:
        while True:
            now = time.perf_counter()
            if now >= stop_at:
                return
            writer.write(requests[n % len(requests)])
            n += 1
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head[9:12])
            length = 0
            for line in head.split(b"\r\n"):
                if line[:15].lower() == b"content-length:":
                    length = int(line[15:])
            if length:
                await reader.readexactly(length)
            done = time.perf_counter()
            if now >= warmup_until:
                latencies.append(done - now)
                if status != 200:
                    errors.append(status)
    finally:
        writer.close()


def _load_worker(
    port: int, requests: list[bytes], clients: int, warmup: float, seconds: float, out: Any
) -> None:
    try:
        import uvloop

        uvloop.install()
    except ImportError:  # plain asyncio still works, only slower
        pass
    latencies: array[float] = array("d")
    errors: list[int] = []

    async def main() -> None:
        begin = time.perf_counter()
        warmup_until, stop_at = begin + warmup, begin + warmup + seconds
        step = max(1, len(requests) // max(1, clients))
        await asyncio.gather(
            *(
                _client(port, requests, i * step, warmup_until, stop_at, latencies, errors)
                for i in range(clients)
            )
        )

    cpu = time.process_time()
    asyncio.run(main())
    out.put((latencies.tobytes(), errors[:20], len(errors), time.process_time() - cpu))


def drive(
    port: int,
    requests: list[bytes],
    clients: int,
    seconds: float,
    procs: int = 1,
    warmup: float = 1.0,
) -> dict[str, Any]:
    """Run the load from ``procs`` processes; requests/s and latency percentiles."""
    ctx = mp.get_context("spawn")
    out = ctx.Queue()
    share = [clients // procs + (1 if i < clients % procs else 0) for i in range(procs)]
    workers = [
        ctx.Process(target=_load_worker, args=(port, requests, n, warmup, seconds, out))
        for n in share
        if n
    ]
    for w in workers:
        w.start()
    results = [out.get() for _ in workers]
    for w in workers:
        w.join()
    latencies = array("d")
    error_count, load_cpu, error_sample = 0, 0.0, []
    for raw, sample, count, cpu in results:
        chunk = array("d")
        chunk.frombytes(raw)
        latencies.extend(chunk)
        error_sample += sample
        error_count += count
        load_cpu += cpu
    ordered = sorted(latencies)
    count = len(ordered)

    def pct(p: float) -> float:
        return ordered[min(count - 1, int(p * count))] * 1000 if count else float("nan")

    return {
        "requests": count,
        "rps": round(count / seconds, 1),
        "p50_ms": round(pct(0.50), 2),
        "p99_ms": round(pct(0.99), 2),
        "max_ms": round(ordered[-1] * 1000, 2) if count else None,
        "errors": error_count,
        "error_sample": error_sample[:5],
        "load_cpu_s": round(load_cpu, 2),
    }


def measure_overview(base_url: str, url: str, bounces: int, repeat: int = 5) -> dict[str, Any]:
    """The overview page on the same running server: ``bounces`` bounce events (and
    their rollups, and sends) generated into the database by bench/overview_load.py's
    generator, then ``GET /`` timed ``repeat`` times over HTTP with a logged-in session.
    Target: <= 500 ms."""
    import statistics

    import httpx

    from bounceback.ledger.rollups import rebuild_stats
    from bounceback.web.auth import create_user
    from bounceback.web.session import CSRF_FIELD

    sys.path.insert(0, str(Path(__file__).parent))
    from overview_load import add_sends, generate

    ledger = Ledger.open(Config(database_url=url))
    try:
        started = time.perf_counter()
        generate(ledger.engine, bounces, 90)
        rebuild_stats(ledger.engine)
        add_sends(ledger.engine)
        filled = time.perf_counter() - started
        create_user(ledger, "bench", "bench password 123")
    finally:
        ledger.close()
    with httpx.Client(base_url=base_url, timeout=120) as client:
        form = client.get("/login").text
        marker = f'name="{CSRF_FIELD}" value="'
        csrf = form.split(marker, 1)[1].split('"', 1)[0] if marker in form else ""
        login = client.post(
            "/login",
            data={"username": "bench", "password": "bench password 123", CSRF_FIELD: csrf},
        )
        if login.status_code >= 400:
            return {"error": f"login failed: {login.status_code}"}
        times = []
        for _ in range(repeat):
            started = time.perf_counter()
            page = client.get("/", follow_redirects=False)
            times.append((time.perf_counter() - started) * 1000)
            if page.status_code != 200:
                return {"error": f"GET / answered {page.status_code}"}
    return {
        "bounces": bounces,
        "filled_s": round(filled, 1),
        "ms": [round(x, 1) for x in times],
        "median_ms": round(statistics.median(times), 1),
        "meets_500ms": statistics.median(times) <= 500,
    }


# --- one database ------------------------------------------------------------------------
# --- CPU accounting: a figure that holds on a busy machine, where rates do not ------------
_TICK = os.sysconf("SC_CLK_TCK")


def _stat(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return text[text.rindex(")") + 2 :].split()  # after "pid (comm) "


def cpu_of(pids: list[int]) -> float:
    """User + system CPU seconds of these processes so far."""
    total = 0.0
    for pid in pids:
        fields = _stat(pid)
        if fields is not None:
            total += (int(fields[11]) + int(fields[12])) / _TICK
    return total


def children_of(parent: int) -> list[int]:
    """The live processes whose parent is ``parent`` (PostgreSQL's backends)."""
    found = []
    for entry in Path("/proc").iterdir():
        fields = _stat(int(entry.name)) if entry.name.isdigit() else None
        if fields is not None and int(fields[1]) == parent:
            found.append(int(entry.name))
    return found


def measured(
    server: ServerProcess, db_parent: int | None, requests: list[bytes], args: argparse.Namespace
) -> dict[str, Any]:
    """``drive`` plus the CPU the server (and the database's backends) spent per request,
    warm-up included on both sides of the division."""
    assert server.proc is not None
    app_pids = [server.proc.pid]
    db_pids = children_of(db_parent) if db_parent else []
    app0, db0 = cpu_of(app_pids), cpu_of(db_pids)
    started = time.perf_counter()
    figures = drive(server.port, requests, args.clients, args.seconds, args.load_procs)
    elapsed = time.perf_counter() - started
    db_pids = sorted(set(db_pids) | set(children_of(db_parent) if db_parent else []))
    app_cpu, db_cpu = cpu_of(app_pids) - app0, cpu_of(db_pids) - db0
    # Requests over the whole window (warm-up too), to match the CPU measured.
    total = figures["requests"] * elapsed / args.seconds
    figures["server_cpu_us"] = round(app_cpu / total * 1e6) if total else None
    figures["db_cpu_us"] = round(db_cpu / total * 1e6) if total and db_parent else 0
    per_request = (app_cpu + db_cpu) / total if total else 0
    figures["rps_per_core"] = round(1 / per_request) if per_request else None
    return figures


def run_one(
    kind: str, url: str, args: argparse.Namespace, workdir: Path, db_parent: int | None = None
) -> dict[str, Any]:
    ledger = Ledger.open(Config(database_url=url))
    try:
        fill_s = fill(ledger, args.rows)
        token = create_api_key(ledger, "bench", "read")
    finally:
        ledger.close()
    rng = random.Random(7)
    paths = []
    for _ in range(20_000):
        if rng.random() < args.hit_ratio:
            paths.append(f"/api/v1/suppression/{hit_address(rng.randrange(args.rows))}")
        else:
            paths.append(f"/api/v1/suppression/{miss_address(rng.randrange(10**9))}")
    checks = [_request(p, token) for p in paths]
    health = [_request("/health", token)]
    result: dict[str, Any] = {"db": kind, "rows": args.rows, "fill_s": round(fill_s, 1)}
    with ServerProcess(url, workdir) as server:
        result["check"] = measured(server, db_parent, checks, args)
        result["health"] = measured(server, None, health, args)
        if args.overview:
            base = f"http://127.0.0.1:{server.port}"
            result["overview"] = measure_overview(base, url, args.bounces)
    check = result["check"]
    result["rps_ratio"] = round(check["rps"] / TARGET_RPS, 2)
    result["p99_ratio"] = round(check["p99_ms"] / TARGET_P99_MS, 2)
    result["meets_target"] = check["rps"] >= TARGET_RPS and check["p99_ms"] <= TARGET_P99_MS
    result["of_health"] = round(check["rps"] / result["health"]["rps"], 2)
    result["load_average"] = round(os.getloadavg()[0], 1)  # others' work skews rates
    result["cpus"] = os.cpu_count()
    return result


def show(result: dict[str, Any]) -> None:
    c, h = result["check"], result["health"]
    rows, fill_s = result["rows"], result["fill_s"]
    print(f"== {result['db']}: {rows:,} suppressed addresses (filled in {fill_s} s)")
    print(
        f"  GET /api/v1/suppression/{{email}}: {c['rps']:,.0f} req/s  p50 {c['p50_ms']} ms"
        f"  p99 {c['p99_ms']} ms  max {c['max_ms']} ms  errors {c['errors']}"
        f"  (load generator CPU {c['load_cpu_s']} s)"
    )
    print(
        f"  vs target {TARGET_RPS:,.0f} req/s, p99 <= {TARGET_P99_MS:.0f} ms: "
        f"x{result['rps_ratio']} rate, p99 at {result['p99_ratio']} of the limit -> "
        f"{'MEETS' if result['meets_target'] else 'MISSES'} the target"
    )
    print(
        f"  peer, same server: GET /health {h['rps']:,.0f} req/s  p50 {h['p50_ms']} ms"
        f"  p99 {h['p99_ms']} ms; the check runs at {result['of_health']} of that rate"
    )
    print(
        f"  CPU per check: server {c['server_cpu_us']} us + database {c['db_cpu_us']} us"
        f" = {c['rps_per_core']:,} checks/s per core (/health: server {h['server_cpu_us']} us,"
        f" {h['rps_per_core']:,}/s per core); load average {result['load_average']}"
        f" on {result['cpus']} CPUs"
    )
    if result.get("overview"):
        print(f"  overview: {result['overview']}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--hit-ratio", type=float, default=0.5)
    parser.add_argument("--load-procs", type=int, default=1, help="load generator processes")
    parser.add_argument(
        "--overview", action="store_true", help="then time the overview page (GET /)"
    )
    parser.add_argument("--bounces", type=int, default=1_000_000, help="for --overview")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    results = []
    with tempfile.TemporaryDirectory(prefix="bb-api-load-") as tmp:
        workdir = Path(tmp)
        if args.db in ("sqlite", "both"):
            url = f"sqlite:///{workdir / 'bench.db'}"
            results.append(run_one("sqlite", url, args, workdir))
            if not args.json:
                show(results[-1])
        if args.db in ("postgresql", "both"):
            with ThrowawayPostgres(durable=True) as pg:
                url = pg.create_database("bench")
                results.append(run_one("postgresql", url, args, workdir, pg.pid))
            if not args.json:
                show(results[-1])
    if args.json:
        print(json.dumps(results, indent=2))
    return 0 if all(r["meets_target"] for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
