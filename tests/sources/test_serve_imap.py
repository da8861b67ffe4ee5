"""``bounceback serve`` on a real Dovecot mailbox: two pollers sharing one PostgreSQL or one
SQLite file, SIGTERM in the middle of a large poll, IMAP IDLE, and a 10,000-message drain."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from dovecot import PASSWORD, USER, Dovecot
from imapclient import IMAPClient
from mailbox_helpers import NOT_A_BOUNCE, count, eml, numbered
from sqlalchemy import func, select

from bounceback import config as config_mod
from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.ledger.process import idempotency_key
from bounceback.model import RawMessage
from bounceback.serve import Server
from bounceback.serve_config import serve_config
from bounceback.sources.imap import ImapSource
from support.pgtemp import ThrowawayPostgres

BIN = Path(sys.executable).parent / "bounceback"
CONTACTS = ("kijitora@example.net", "kijitora@user.example.or.jp")


def mix(n: int) -> Iterator[bytes]:
    """n distinct real messages: two matched bounces, an unmatched one, a non-bounce."""
    kinds = [
        eml("lhost-postfix-03.eml"),  # kijitora@example.net
        eml("lhost-postfix-07.eml"),  # kijitora@user.example.or.jp
        eml("lhost-exim-02.eml"),  # no such contact: unmatched
        NOT_A_BOUNCE,  # ignored
    ]
    for i in range(n):
        yield numbered(kinds[i % len(kinds)], i)


def config_text(db_url: str, server: Dovecot, batch_size: int, poll_interval: float) -> str:
    return f"""
poll_interval = {poll_interval}

[database]
url = "{db_url}"

[[sources.imap]]
name = "bounces"
host = "127.0.0.1"
port = {server.imap_port}
security = "plain"
user = "{USER}"
password = "{PASSWORD}"
folder = "INBOX"
batch_size = {batch_size}
timeout = 10
"""


def open_ledger(db_url: str) -> Ledger:
    return Ledger.open(Config(database_url=db_url, lock_timeout_ms=5000))


def seed(db_url: str) -> None:
    ledger = open_ledger(db_url)
    try:
        for email in CONTACTS:
            ledger.add_contact(email)
    finally:
        ledger.close()


def keys(ledger: Ledger) -> set[str]:
    with ledger.engine.connect() as conn:
        return {str(k) for (k,) in conn.execute(select(t.messages.c.idempotency_key))}


def events_by_email(ledger: Ledger, emails: tuple[str, ...]) -> list[int]:
    """Bounce events recorded per address (contact_view's history stops at 100)."""
    e = t.events.c
    with ledger.engine.connect() as conn:
        rows = dict(conn.execute(select(e.email, func.count()).group_by(e.email)).all())
    return [int(rows.get(email, 0)) for email in emails]


def server_state(server: Dovecot) -> tuple[set[str], set[str]]:
    """(acknowledged, pending) message keys: acknowledged = moved out of INBOX or
    flagged seen; pending = still unseen in INBOX. Keys as the ledger makes them."""
    acked: set[str] = set()
    pending: set[str] = set()
    with server.imap() as client:
        for _flags, _delim, folder in client.list_folders():
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            for start in range(0, len(uids), 500):
                got = client.fetch(uids[start : start + 500], ["BODY.PEEK[]", "FLAGS"])
                for item in got.values():
                    key = idempotency_key(RawMessage(data=item[b"BODY[]"], source="imap"))
                    unseen = b"\\Seen" not in item[b"FLAGS"]
                    (pending if folder == "INBOX" and unseen else acked).add(key)
    return acked, pending


def wait_for(check: Callable[[], Any], timeout: float = 30.0, step: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    raise AssertionError("condition not reached")


def serve(config: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BOUNCEBACK_")}
    return subprocess.Popen(
        [str(BIN), "serve", "--config", str(config), *extra],
        cwd=config.parent,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def output(proc: subprocess.Popen[bytes]) -> str:
    return proc.stdout.read().decode(errors="replace") if proc.stdout else ""


@pytest.fixture
def procs() -> Iterator[list[subprocess.Popen[bytes]]]:
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


@pytest.mark.parametrize("database", ["postgresql", "sqlite"])
def test_two_pollers_on_one_database_apply_each_message_once(
    database: str,
    mailbox: Dovecot,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    procs: list[subprocess.Popen[bytes]],
) -> None:
    if database == "postgresql":
        pg_server: ThrowawayPostgres = request.getfixturevalue("pg_server")
        db_url = pg_server.create_database(f"serve_two_{os.getpid()}", template="bb_template")
    else:  # two processes on one SQLite file: WAL, and file-lock claims
        db_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    seed(db_url)
    total = 600  # enough that both processes are still at it when the second starts
    mailbox.deliver(mix(total))
    config = tmp_path / "bounceback.toml"
    config.write_text(config_text(db_url, mailbox, batch_size=10, poll_interval=0.2))
    procs += [serve(config, "--only", "pollers"), serve(config, "--only", "pollers")]

    def drained() -> bool:
        ledger = open_ledger(db_url)
        try:
            done = count(ledger, t.messages) == total
        finally:
            ledger.close()
        return done and not mailbox.folder_uids("INBOX", ["UNSEEN"])

    wait_for(drained, timeout=90, step=0.5)
    for proc in procs:
        proc.send_signal(signal.SIGTERM)
    logs = []
    for proc in procs:
        assert proc.wait(timeout=15) == 0
        logs.append(output(proc))
    # Both did work (the race was real), yet every message is stored once...
    assert all("event=poll " in log for log in logs), logs
    ledger = open_ledger(db_url)
    try:
        assert count(ledger, t.messages) == total
        # ...and every matched bounce applied once: one history entry per message.
        assert events_by_email(ledger, CONTACTS) == [total // 4, total // 4]
        m = t.messages.c
        with ledger.engine.connect() as conn:
            outcomes = dict(conn.execute(select(m.outcome, func.count()).group_by(m.outcome)).all())
        assert outcomes == {"matched": total // 2, "unmatched": total // 4, "ignored": total // 4}
        stored = keys(ledger)
    finally:
        ledger.close()
    acked, pending = server_state(mailbox)
    assert pending == set() and acked == stored  # none lost, none left behind
    assert len(mailbox.folder_uids("INBOX.processed")) == total // 2
    assert len(mailbox.folder_uids("INBOX")) == total // 2  # ignored: left, flagged seen


def test_sigterm_ends_a_large_poll_after_the_batch_in_hand(
    mailbox: Dovecot, tmp_path: Path, procs: list[subprocess.Popen[bytes]]
) -> None:
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    seed(db_url)
    total = 3000
    mailbox.deliver(mix(total))
    config = tmp_path / "bounceback.toml"
    config.write_text(config_text(db_url, mailbox, batch_size=25, poll_interval=60))
    proc = serve(config, "--only", "pollers")
    procs.append(proc)

    def started() -> bool:
        assert proc.poll() is None, output(proc)
        ledger = open_ledger(db_url)
        try:
            return count(ledger, t.messages) >= 100
        finally:
            ledger.close()

    wait_for(started, timeout=60, step=0.05)
    proc.send_signal(signal.SIGTERM)
    began = time.monotonic()
    assert proc.wait(timeout=15) == 0, output(proc)
    took = time.monotonic() - began
    assert took < 5, f"SIGTERM took {took:.1f} s"
    assert "event=stopped" in output(proc)

    ledger = open_ledger(db_url)
    try:
        stored = keys(ledger)
    finally:
        ledger.close()
    acked, pending = server_state(mailbox)
    # Stopped in the middle: some done, the rest untouched and unseen for next time.
    assert 100 <= len(stored) < total, len(stored)
    assert acked == stored  # every acknowledged message is in the ledger, and no more
    assert len(pending) == total - len(stored) and not pending & stored
    print(f"\nSIGTERM after {len(stored)} of {total}: exit 0 in {took:.2f} s")


def imap_server(mailbox: Dovecot, tmp_path: Path, poll_interval: float) -> tuple[Server, Ledger]:
    db_url = f"sqlite:///{tmp_path / 'ledger.db'}"
    seed(db_url)
    path = tmp_path / "bounceback.toml"
    path.write_text(config_text(db_url, mailbox, batch_size=50, poll_interval=poll_interval))
    config = config_mod.load(path, env={})
    ledger = Ledger.open(config)
    return Server(serve_config(config), ledger, "pollers"), ledger


def first_poll_done(server: Server) -> bool:
    return bool(server.metrics.health_json()["sources"].get("bounces", {}).get("last_poll"))


def test_new_mail_is_taken_at_once_with_idle(mailbox: Dovecot, tmp_path: Path) -> None:
    server, ledger = imap_server(mailbox, tmp_path, poll_interval=60)
    server.start()
    try:
        wait_for(lambda: first_poll_done(server), timeout=10)
        time.sleep(0.5)  # the poller is now idling, a minute from its next poll
        delays = []
        for n in range(3):
            mailbox.append([numbered(eml("lhost-postfix-03.eml"), n)])
            sent = time.monotonic()
            wait_for(lambda n=n: count(ledger, t.messages) == n + 1, timeout=5, step=0.02)  # type: ignore[misc]
            delays.append(time.monotonic() - sent)
        assert max(delays) < 1.5, delays
        print(f"\nIDLE: new mail in the ledger after {', '.join(f'{d:.2f}' for d in delays)} s")
        stopping = time.monotonic()
    finally:
        server.stop()
        ledger.close()
    assert time.monotonic() - stopping < 2  # a stop ends the IDLE within its slice


def test_without_idle_the_poll_interval_decides(
    mailbox: Dovecot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = IMAPClient.has_capability

    def no_idle(self: IMAPClient, capability: str) -> bool:
        return capability.upper() != "IDLE" and bool(real(self, capability))

    monkeypatch.setattr(IMAPClient, "has_capability", no_idle)
    server, ledger = imap_server(mailbox, tmp_path, poll_interval=3)
    server.start()
    try:
        wait_for(lambda: first_poll_done(server), timeout=10)
        mailbox.append([eml("lhost-postfix-03.eml")])
        sent = time.monotonic()
        time.sleep(0.5)
        assert count(ledger, t.messages) == 0  # nobody told the poller
        wait_for(lambda: count(ledger, t.messages) == 1, timeout=6, step=0.05)
        assert time.monotonic() - sent > 1.0
    finally:
        server.stop()
        ledger.close()


def rss() -> int:
    """This process's resident set size in bytes (Linux)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmRSS")


# 6 KB of extra header lines per message: the 10,000 messages make about 80 MB, so
# a drain that kept them would show in the resident size.
PADDING = b"".join(b"X-Padding-%d: %s\r\n" % (n, b"p" * 70) for n in range(75))


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_ten_thousand_messages_drain_in_batches_with_flat_memory(
    mailbox: Dovecot, tmp_path: Path
) -> None:
    total, batch = 10_000, 200
    size = mailbox.deliver(PADDING + m for m in mix(total))
    assert size == total
    ledger = Ledger.open(Config(database_url=f"sqlite:///{tmp_path / 'ledger.db'}"))
    for email in CONTACTS:
        ledger.add_contact(email)
    source = ImapSource(mailbox.imap_config(batch_size=batch, timeout=30))

    class Sampling:
        """The ledger, noting the resident size before each batch is committed."""

        engine = ledger.engine

        def __init__(self) -> None:
            self.samples: list[int] = []

        def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
            self.samples.append(rss())
            return ledger.process(pairs, batch_size=batch_size, **options)

    sampling = Sampling()
    started = time.monotonic()
    try:
        result = source.poll(sampling)  # type: ignore[arg-type]
    finally:
        source.close()
    took = time.monotonic() - started
    try:
        assert result.fetched == total and result.left == 0
        assert (result.summary.matched, result.summary.unmatched) == (total // 2, total // 4)
        assert count(ledger, t.messages) == total
        assert count(ledger, t.events) == result.summary.bounces  # each record once
    finally:
        ledger.close()
    assert len(sampling.samples) == total // batch  # one fetch and commit per batch
    # Flat: after the first batches have warmed the caches, the whole drain (another
    # 60 MB of mail) grows the process by less than a few batches' worth.
    warm, last = max(sampling.samples[5:10]), max(sampling.samples[-10:])
    assert last - warm < 12_000_000, (warm, last)
    assert mailbox.folder_uids("INBOX", ["UNSEEN"]) == []
    print(f"\n10,000 messages in {took:.1f} s; RSS {warm / 1e6:.0f} -> {last / 1e6:.0f} MB")
