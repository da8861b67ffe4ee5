"""Drain a mailbox of N real bounces from a throwaway Dovecot through ImapSource (or POP3).

    .venv/bin/python bench/imap_drain.py [--messages 10000] [--batch 200] [--protocol imap|pop3]
        [--json]

Starts Dovecot on loopback exactly as the tests do (tests/sources/dovecot.py), APPENDs
N messages cycled from tests/fixtures/emails (each made distinct by one added header,
so each has its own idempotency key), then times one ``poll``: fetch in batches,
parse, classify, match, commit to a SQLite ledger, then move / flag / delete on the
server. Prints messages/s and the RSS after each quarter of the drain and at its peak,
then checks that nothing is left unseen and that the ledger holds every message.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "sources"))

from dovecot import Dovecot, find_binary, running_dovecot  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from bounceback.config import Config  # noqa: E402
from bounceback.ledger import Ledger  # noqa: E402
from bounceback.ledger import tables as t  # noqa: E402
from bounceback.sources.imap import ImapSource  # noqa: E402
from bounceback.sources.pop3 import Pop3Source  # noqa: E402

EMAILS = ROOT / "tests" / "fixtures" / "emails"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def messages(n: int) -> Iterator[bytes]:
    samples = [p.read_bytes() for p in sorted(EMAILS.glob("*.eml"))]
    for i in range(n):
        yield f"X-Bench-Seq: {i}\r\n".encode() + samples[i % len(samples)]


def fill(server: Dovecot, n: int) -> float:
    started = time.perf_counter()
    with server.imap() as client:
        for data in messages(n):
            client.append("INBOX", data)
    return time.perf_counter() - started


class Sampling:
    """The ledger, noting RSS after each committed batch."""

    def __init__(self, ledger: Ledger, total: int) -> None:
        self.ledger, self.engine, self.total = ledger, ledger.engine, total
        self.done = 0
        self.samples: dict[int, float] = {}

    def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
        for outcome in self.ledger.process(pairs, batch_size=batch_size, **options):
            self.done += 1
            for quarter in (25, 50, 75, 100):
                if quarter not in self.samples and self.done * 100 >= quarter * self.total:
                    self.samples[quarter] = round(rss_mb(), 1)
            yield outcome


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--messages", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--protocol", choices=("imap", "pop3"), default="imap")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    binary = find_binary()
    if binary is None:
        sys.exit("dovecot is not installed (apt-get install dovecot-imapd dovecot-pop3d)")
    with running_dovecot(binary) as server, tempfile.TemporaryDirectory() as tmp:
        fill_s = fill(server, args.messages)
        ledger = Ledger.open(Config(database_url=f"sqlite:///{tmp}/ledger.db"))
        ledger.add_contact("kijitora@example.net")
        source: ImapSource | Pop3Source
        if args.protocol == "imap":
            source = ImapSource(server.imap_config(batch_size=args.batch))
        else:
            source = Pop3Source(server.pop3_config(batch_size=args.batch, ignored="delete"))
        sampling = Sampling(ledger, args.messages)
        rss_before = rss_mb()
        started = time.perf_counter()
        cpu0 = time.process_time()
        result = source.poll(sampling)  # type: ignore[arg-type]
        elapsed = time.perf_counter() - started
        cpu = time.process_time() - cpu0
        source.close()
        with ledger.engine.connect() as conn:
            stored = conn.execute(select(func.count()).select_from(t.messages)).scalar_one()
        unseen = len(server.folder_uids("INBOX", ["UNSEEN"]))
        ledger.close()
    s = result.summary
    report = {
        "protocol": args.protocol,
        "messages": args.messages,
        "batch": args.batch,
        "fill_s": round(fill_s, 1),
        "drain_s": round(elapsed, 2),
        "messages_per_s": round(result.fetched / elapsed, 1),
        "cpu_s_this_process": round(cpu, 1),
        "rss_mb_before": round(rss_before, 1),
        "rss_mb_at_quarters": sampling.samples,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "outcomes": {
            "matched": s.matched,
            "unmatched": s.unmatched,
            "ignored": s.ignored,
            "quarantined": s.quarantined,
            "errors": s.errors,
        },
        "server": {"moved": result.moved, "flagged": result.flagged, "deleted": result.deleted},
        "stored_in_ledger": stored,
        "left_unseen": unseen,
    }
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>20}: {value}")
    ok = stored == args.messages and (unseen == 0 or args.protocol == "pop3")
    print("OK: every message stored once, none left" if ok else "MISMATCH")


if __name__ == "__main__":
    main()
