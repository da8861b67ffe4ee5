"""Claims on mailbox messages: which poller may work on a message right now,
decided through the ledger's database (``claimed`` says why and how)."""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import threading
from collections.abc import Iterable, Iterator

from sqlalchemy import Engine, text

__all__ = ["CLAIM_CLASS", "claimed"]

# PostgreSQL advisory locks taken by mailbox pollers: (this class id, 32 bits of the key).
CLAIM_CLASS = 0x62624D42  # "bbMB"
_LOCK = "SELECT k, pg_try_advisory_lock(:cls, k) FROM unnest(CAST(:ids AS int[])) AS k"
_UNLOCK = "SELECT pg_advisory_unlock(:cls, k) FROM unnest(CAST(:ids AS int[])) AS k"


@contextlib.contextmanager
def claimed(engine: Engine, keys: Iterable[str]) -> Iterator[set[str]]:
    """The keys this poller may work on now, held until the block ends.

    Two pollers on one IMAP folder read the same messages. The ledger stores each
    once, but both would then MOVE it, and two concurrent MOVEs of one message
    leave two copies in the target (Dovecot copies, then expunges). So each message
    is claimed for its commit and its move; a message another poller holds is
    skipped, read again at the next poll if still there. On PostgreSQL the claim is
    a session advisory lock; on a SQLite file, a lock on one byte of a file beside
    it (``<database>.claims``). Either goes when its process does, crashed or not.
    """
    wanted = set(keys)
    if not wanted:
        yield wanted
    elif engine.dialect.name == "postgresql":
        with _advisory_claims(engine, wanted) as got:
            yield got
    elif engine.dialect.name == "sqlite" and engine.url.database not in (None, "", ":memory:"):
        claims = _file_claims(f"{engine.url.database}.claims")
        ids = {key: _claim_id(key) & 0xFFFFFFFF for key in wanted}
        locked = claims.acquire(set(ids.values()))
        try:
            yield {key for key, n in ids.items() if n in locked}
        finally:
            claims.release(locked)
    else:
        yield wanted


@contextlib.contextmanager
def _advisory_claims(engine: Engine, wanted: set[str]) -> Iterator[set[str]]:
    ids = {key: _claim_id(key) for key in wanted}
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        rows = conn.execute(
            text(_LOCK),
            {"cls": CLAIM_CLASS, "ids": sorted(set(ids.values()))},
        )
        got = {int(k) for k, ok in rows if ok}
        try:
            yield {key for key, n in ids.items() if n in got}
        finally:
            if got:
                conn.execute(text(_UNLOCK), {"cls": CLAIM_CLASS, "ids": sorted(got)})


class _FileClaims:
    """Claims as POSIX record locks, one byte per claim id, on one file.

    Such locks belong to the process: they never conflict within it, and closing
    any descriptor of the file drops them all. So a process keeps one descriptor
    per file for good and tracks the ids its own threads hold.
    """

    def __init__(self, path: str) -> None:
        self.fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self.held: set[int] = set()
        self.guard = threading.Lock()

    def acquire(self, ids: set[int]) -> set[int]:
        got: set[int] = set()
        with self.guard:
            for n in sorted(ids - self.held):
                try:
                    fcntl.lockf(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, n, os.SEEK_SET)
                except OSError:  # EAGAIN or EACCES: another process holds it
                    continue
                got.add(n)
            self.held |= got
        return got

    def release(self, ids: set[int]) -> None:
        with self.guard:
            for n in ids:
                fcntl.lockf(self.fd, fcntl.LOCK_UN, 1, n, os.SEEK_SET)
            self.held -= ids


_file_claims_by_path: dict[str, _FileClaims] = {}
_file_claims_guard = threading.Lock()


def _file_claims(path: str) -> _FileClaims:
    key = os.path.realpath(path)
    with _file_claims_guard:
        claims = _file_claims_by_path.get(key)
        if claims is None:
            claims = _file_claims_by_path[key] = _FileClaims(key)
        return claims


def _claim_id(key: str) -> int:
    return int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big", signed=True)
