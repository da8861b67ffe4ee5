"""Mailbox claims on a SQLite file: one byte-range lock per message key on
``<database>.claims``, exclusive between processes and between threads of one."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.sources.mailboxes import claimed

KEYS = {f"sha256:{n:064x}" for n in range(50)}


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    opened = Ledger.open(Config(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    yield opened
    opened.close()


def claim_in_another_process(db: Path, keys: set[str]) -> set[str]:
    script = textwrap.dedent(
        """
        import json, sys
        from bounceback.config import Config
        from bounceback.ledger import Ledger
        from bounceback.sources.mailboxes import claimed
        ledger = Ledger.open(Config(database_url="sqlite:///" + sys.argv[1]))
        with claimed(ledger, json.loads(sys.stdin.read())) as got:
            print(json.dumps(sorted(got)))
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(db)],
        input=json.dumps(sorted(keys)),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return set(json.loads(done.stdout))


def test_a_key_held_here_is_refused_to_another_process(ledger: Ledger, tmp_path: Path) -> None:
    db = tmp_path / "ledger.db"
    held = set(sorted(KEYS)[:20])
    with claimed(ledger, held) as got:
        assert got == held
        assert claim_in_another_process(db, KEYS) == KEYS - held
    # Released at the end of the block: the other process gets them all now.
    assert claim_in_another_process(db, KEYS) == KEYS
    assert (tmp_path / "ledger.db.claims").exists()


def test_threads_of_one_process_do_not_share_a_claim(ledger: Ledger) -> None:
    results: list[set[str]] = []
    barrier = threading.Barrier(4)
    release = threading.Event()

    def poller() -> None:
        barrier.wait()
        with claimed(ledger, KEYS) as got:
            results.append(got)
            release.wait(10)

    threads = [threading.Thread(target=poller) for _ in range(4)]
    for thread in threads:
        thread.start()
    deadline = time.monotonic() + 10
    while len(results) < 4 and time.monotonic() < deadline:  # all four hold their claims
        time.sleep(0.01)
    release.set()
    for thread in threads:
        thread.join(10)
    assert sum(len(got) for got in results) == len(KEYS)  # each key to one poller only
    assert set().union(*results) == KEYS
    with claimed(ledger, KEYS) as again:  # and all released afterwards
        assert again == KEYS


def test_an_in_memory_database_grants_every_key() -> None:
    memory = Ledger.open(Config(database_url="sqlite://"))
    try:
        with claimed(memory, KEYS) as got:
            assert got == KEYS
    finally:
        memory.close()
