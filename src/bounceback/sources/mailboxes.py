"""What IMAP and POP3 sources share: the poll result, the disposition of each outcome.

A mailbox source reads messages, hands them to the sink's ``process`` (the ledger,
seen through ``bounceback.ledger.sink.Sink``) and only then acts
on the server (move, flag, delete), one action per committed outcome. An ``error``
outcome was not committed: the message is left exactly as it was, to be read again.
"""

from __future__ import annotations

import shlex
import subprocess
import threading
import time
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol, TypeVar

from bounceback.ledger import sink as ledger_sink
from bounceback.ledger.sink import Outcome, Sink, Summary

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

    def poll(self, ledger: Sink, stop: Stop | None = None) -> PollResult: ...

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


def claimed(ledger: Sink, keys: Iterable[str]) -> AbstractContextManager[set[str]]:
    """The keys this poller may work on now, held until the block ends: a message
    another poller holds is skipped, read again at the next poll if still there
    (``bounceback.ledger.claims`` says why and how)."""
    return ledger_sink.claim(ledger, keys)


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


def first_outcomes(ledger: Sink, outcomes: Iterable[Outcome]) -> dict[str, str]:
    """For duplicates, the outcome the message had when it was first stored.

    A message committed but not yet moved when the connection dropped is read again
    and comes back as a duplicate; it must go where its first outcome said (an
    unmatched bounce to ``ignored``, not ``processed``).
    """
    keys = {o.key for o in outcomes if o.outcome == "duplicate" and o.key}
    return ledger_sink.first_outcomes(ledger, keys)


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
