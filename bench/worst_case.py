"""The slowest messages we know how to build: parse + classify time of each adversarial case.

    PYTHONPATH=src .venv/bin/python bench/worst_case.py [--grid SIZE] [--fixtures SIZE]
        [--timeout S] [--show N]

Runs tests/adversarial.py's named cases (and, with --grid, every shape of SIZE characters
in every template; with --fixtures, every shape in every real bounce of
tests/fixtures/emails) in a child process, one at a time; a case over --timeout seconds
is killed and counted as at least that. Prints the slowest --show cases and the worst
CPU time (time.process_time in the child, so load on the machine does not inflate it).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import sys
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

import adversarial  # noqa: E402


def _worker(conn: Connection) -> None:
    from bounceback import classify, parse

    while True:
        data = conn.recv()
        if data is None:
            return
        start = time.process_time()
        classify(parse(data))
        conn.send(time.process_time() - start)


def cases(args: argparse.Namespace) -> Iterator[tuple[str, bytes]]:
    yield from adversarial.named()
    if args.grid:
        yield from adversarial.templates(args.grid)
    if args.fixtures:
        for path in sorted((ROOT / "tests" / "fixtures" / "emails").glob("*.eml")):
            for sname, shape in adversarial.SHAPES.items():
                for where, data in adversarial.in_fixture(path.read_bytes(), shape(args.fixtures)):
                    yield f"{path.name}/{where}/{sname}/{args.fixtures}", data


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--grid", type=int, default=0)
    parser.add_argument("--fixtures", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=5.0)
    parser.add_argument("--show", type=int, default=15)
    args = parser.parse_args()
    ctx = mp.get_context("fork")
    results: list[tuple[float, str, int]] = []

    def start() -> tuple[mp.process.BaseProcess, Connection]:
        mine, theirs = ctx.Pipe()
        proc = ctx.Process(target=_worker, args=(theirs,), daemon=True)
        proc.start()
        return proc, mine

    proc, conn = start()
    for name, data in cases(args):
        conn.send(data)
        if conn.poll(args.timeout):
            seconds = conn.recv()
        else:
            proc.kill()
            proc.join()
            seconds = float("inf")
            proc, conn = start()
        results.append((seconds, name, len(data)))
        if seconds > 0.2:
            print(f"SLOW {seconds:8.3f}s  {len(data):>8} B  {name}", flush=True)
    conn.send(None)
    results.sort(reverse=True)
    print(f"\n{len(results)} cases; the slowest:")
    for seconds, name, size in results[: args.show]:
        print(f"  {seconds:8.3f}s  {size:>8} B  {name}")


if __name__ == "__main__":
    main()
