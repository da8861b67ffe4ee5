"""What IMAP and POP3 sources share: the poll result, the disposition of each outcome.

A mailbox source reads messages, hands them to ``Ledger.process`` and only then acts
on the server (move, flag, delete), one action per committed outcome. An ``error``
outcome was not committed: the message is left exactly as it was, to be read again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import shlex
import subprocess
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal, Protocol, TypeVar

from sqlalchemy import select, text

from bounceback.ledger import tables as t
from bounceback.ledger.process import Outcome, Summary

if TYPE_CHECKING:
    from bounceback.ledger.service import Ledger

__all__ = [
    "Disposition",
    "MailboxError",
    "MailboxSource",
    "PollResult",
    "Stop",
    "claimed",
    "disposition",
    "first_outcomes",
    "sleep",
    "stopping",
    "token_from_command",
]

# processed: a bounce applied (or already applied); ignored: not a bounce or no
# contact found; quarantine: kept by the ledger for a person to look at.
Disposition = Literal["processed", "ignored", "quarantine"]

_DISPOSITIONS: dict[str, Disposition] = {
    "matched": "processed",
    "filed": "processed",  # a human reply filed as an activity
    "unmatched": "ignored",
    "ignored": "ignored",
    "quarantined": "quarantine",
}


class MailboxError(RuntimeError):
    """The server could not be reached or refused us, after the retries allowed."""


@dataclass(slots=True)
class PollResult:
    """One poll: the ledger's summary plus what was done on the server."""

    summary: Summary = field(default_factory=Summary)
    fetched: int = 0
    moved: int = 0
    flagged: int = 0
    deleted: int = 0
    kept: int = 0
    left: int = 0  # error outcomes: not committed, untouched on the server
    reconnects: int = 0
    stopped: bool = False  # the stop event ended the poll between two batches
    busy: int = 0  # being handled by another poller right now: left to it


class Stop(Protocol):
    """What ``poll`` checks between batches (a ``threading.Event``)."""

    def is_set(self) -> bool: ...


class MailboxSource(Protocol):
    """A mailbox bounceback drains: ``poll`` once, ``wait`` for more, ``close``."""

    def poll(self, ledger: Ledger, stop: Stop | None = None) -> PollResult: ...

    def wait(self, timeout: float, stop: Stop | None = None) -> bool: ...

    def close(self) -> None: ...


def stopping(stop: Stop | None, result: PollResult) -> bool:
    """True (and noted in ``result``) when the poll must end before the next batch."""
    if stop is not None and stop.is_set():
        result.stopped = True
    return result.stopped


def sleep(timeout: float, stop: Stop | None) -> bool:
    """``wait`` for sources that cannot be notified; a stop event cuts it short."""
    if stop is None:
        time.sleep(timeout)
    elif isinstance(stop, threading.Event):
        stop.wait(timeout)
    else:
        deadline = time.monotonic() + timeout
        while not stop.is_set() and time.monotonic() < deadline:
            time.sleep(min(0.1, max(deadline - time.monotonic(), 0)))
    return True


# PostgreSQL advisory locks taken by mailbox pollers: (this class id, 32 bits of the key).
CLAIM_CLASS = 0x62624D42  # "bbMB"
_LOCK = "SELECT k, pg_try_advisory_lock(:cls, k) FROM unnest(CAST(:ids AS int[])) AS k"
_UNLOCK = "SELECT pg_advisory_unlock(:cls, k) FROM unnest(CAST(:ids AS int[])) AS k"


@contextlib.contextmanager
def claimed(ledger: Ledger, keys: Iterable[str]) -> Iterator[set[str]]:
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
    engine = ledger.engine
    if not wanted:
        yield wanted
    elif engine.dialect.name == "postgresql":
        with _advisory_claims(ledger, wanted) as got:
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
def _advisory_claims(ledger: Ledger, wanted: set[str]) -> Iterator[set[str]]:
    ids = {key: _claim_id(key) for key in wanted}
    with ledger.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
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


def disposition(outcome: str) -> Disposition | None:
    """Where a committed outcome's message goes; None for ``error`` (leave it)."""
    return _DISPOSITIONS.get(outcome)


Folder = TypeVar("Folder", covariant=True)
Action = Literal["delete", "seen", "move"]


class FolderPolicy(Protocol[Folder]):
    """What an IMAP folder or a Maildir is told to do with what it committed."""

    @property
    def processed(self) -> str: ...  # "move" | "delete"
    @property
    def ignored(self) -> str: ...  # "seen" | "move"
    @property
    def processed_folder(self) -> Folder: ...
    @property
    def ignored_folder(self) -> Folder: ...
    @property
    def quarantine_folder(self) -> Folder: ...


def handling(where: Disposition, policy: FolderPolicy[Folder]) -> tuple[Action, Folder]:
    """The action for a committed message, and where a move takes it."""
    folder = {
        "processed": policy.processed_folder,
        "ignored": policy.ignored_folder,
        "quarantine": policy.quarantine_folder,
    }[where]
    if where == "processed" and policy.processed == "delete":
        return "delete", folder
    if where == "ignored" and policy.ignored == "seen":
        return "seen", folder
    return "move", folder


def first_outcomes(ledger: Ledger, outcomes: Iterable[Outcome]) -> dict[str, str]:
    """For duplicates, the outcome the message had when it was first stored.

    A message committed but not yet moved when the connection dropped is read again
    and comes back as a duplicate; it must go where its first outcome said (an
    unmatched bounce to ``ignored``, not ``processed``).
    """
    keys = sorted({o.key for o in outcomes if o.outcome == "duplicate" and o.key})
    if not keys:
        return {}
    m = t.messages.c
    with ledger.engine.connect() as conn:
        rows = conn.execute(select(m.idempotency_key, m.outcome).where(m.idempotency_key.in_(keys)))
        return {str(key): str(outcome) for key, outcome in rows}


def resolve(outcome: Outcome, first: dict[str, str]) -> Disposition | None:
    if outcome.outcome == "duplicate":
        return disposition(first.get(outcome.key, "matched"))
    return disposition(outcome.outcome)


def token_from_command(command: str | list[str], timeout: float = 30.0) -> str:
    """Run the configured token command; its stdout (stripped) is the OAuth2 token.

    A list is run as is; a string is split like a shell would, never run by a shell.
    """
    argv = shlex.split(command) if isinstance(command, str) else list(command)
    try:
        done = subprocess.run(argv, capture_output=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MailboxError(f"token command {argv[0]!r} failed: {exc}") from exc
    if done.returncode != 0:
        err = done.stderr.decode("utf-8", "replace").strip()[:200]
        raise MailboxError(f"token command exited {done.returncode}: {err}")
    token = done.stdout.decode("utf-8", "replace").strip()
    if not token:
        raise MailboxError("token command printed no token")
    return token
