"""Maildir source: drain the messages not yet seen (no ``S`` flag) into the ledger.

Messages in ``new/`` and in ``cur/`` without the ``S`` flag are read, processed, and
only after the ledger's ``process`` has committed them acted on: processed → moved to the
``processed`` Maildir (a Maildir++ subfolder ``.processed`` or a configured path,
created if missing) or deleted; ignored → flagged ``S`` or moved to ``.ignored``;
quarantined → moved to ``.quarantine``. An ``error`` outcome leaves the file as it
was. Messages someone has already seen are never touched.

Moves and flag changes are single ``rename(2)`` calls inside the Maildir store, as
Maildir delivery itself works: at every instant the message is in exactly one place.
(Python 3.11's ``mailbox.Maildir`` has no ``set_flags``, and its ``__setitem__``
deletes the old file before the new one is renamed in.) A target on another file
system is written with ``Maildir.add`` and the original removed after. A crash after
the commit and before the move leaves the message unseen where it was: the next poll
reads it again, the ledger calls it a duplicate (its key is the hash of its bytes)
and it goes where its first outcome said.
"""

from __future__ import annotations

import errno
import mailbox
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from bounceback.model import Purpose, RawMessage
from bounceback.sources.mailboxes import (
    Disposition,
    PollResult,
    Stop,
    first_outcomes,
    handling,
    resolve,
    sleep,
    stopping,
)
from bounceback.sources.options import AS_WRITTEN, NOT_A_KEY

if TYPE_CHECKING:
    from bounceback.ledger.sink import Sink

__all__ = ["Entry", "MaildirConfig", "MaildirSource"]

INFO = "2,"  # Maildir info: experimental semantics 2, then the flags


@dataclass(slots=True)
class MaildirConfig:
    path: str | Path
    processed: Literal["move", "delete"] = "move"
    ignored: Literal["seen", "move"] = "seen"
    # A bare name is a Maildir++ subfolder (".processed"); a path is its own Maildir.
    processed_folder: str | Path = field(default="processed", metadata=AS_WRITTEN)
    ignored_folder: str | Path = field(default="ignored", metadata=AS_WRITTEN)
    quarantine_folder: str | Path = field(default="quarantine", metadata=AS_WRITTEN)
    batch_size: int = 100
    # bounces: apply bounces; activities: file human replies on contacts; both.
    purpose: Purpose = "bounces"
    colon: str = field(default_factory=lambda: mailbox.Maildir.colon, metadata=NOT_A_KEY)


@dataclass(frozen=True, slots=True)
class Entry:
    """One message file: ``subdir`` is ``new`` or ``cur``; ``key`` the unique part."""

    subdir: Literal["new", "cur"]
    name: str
    key: str
    flags: str


class MaildirSource:
    """One Maildir. ``poll(ledger)`` drains its unseen messages; ``wait(t)`` sleeps."""

    def __init__(self, config: MaildirConfig) -> None:
        self.config = config
        self.root = Path(config.path)
        # Opens (and checks) the Maildir; create=False: a wrong path is an error.
        self._box = mailbox.Maildir(self.root, factory=None, create=False)
        self._targets: dict[str, Path] = {}

    def close(self) -> None:
        """Nothing is held open between polls."""

    def wait(self, timeout: float, stop: Stop | None = None) -> bool:
        return sleep(timeout, stop)

    # --- reading ----------------------------------------------------------------------
    def unseen(self) -> list[Entry]:
        """Messages in new/ and cur/ without the S flag, oldest file names first."""
        found: list[Entry] = []
        colon = self.config.colon
        subdirs: tuple[Literal["new", "cur"], ...] = ("new", "cur")
        for subdir in subdirs:
            try:
                names = os.listdir(self.root / subdir)
            except FileNotFoundError:
                continue
            for name in names:
                if name.startswith("."):
                    continue
                key, _, info = name.partition(colon)
                flags = info[len(INFO) :] if info.startswith(INFO) else ""
                if "S" not in flags:
                    found.append(Entry(subdir, name, key, flags))
        found.sort(key=lambda e: e.name)
        return found

    def _messages(self, batch: list[Entry]) -> Iterator[tuple[str, RawMessage]]:
        for entry in batch:
            path = self.root / entry.subdir / entry.name
            try:
                data = path.read_bytes()
            except FileNotFoundError:  # taken by another reader meanwhile
                continue
            yield entry.key, RawMessage(data=data, source="maildir", ref=str(path))

    # --- polling ----------------------------------------------------------------------
    def poll(self, ledger: Sink, stop: Stop | None = None) -> PollResult:
        """Process every unseen message once; act on each after its commit.

        ``stop`` is checked between batches; what is left stays for the next run.
        """
        result = PollResult()
        entries = self.unseen()
        size = max(self.config.batch_size, 1)
        for start in range(0, len(entries), size):
            if stopping(stop, result):
                break
            batch = entries[start : start + size]
            by_key = {e.key: e for e in batch}
            pairs = list(self._messages(batch))
            result.fetched += len(pairs)
            outcomes = list(
                ledger.process(pairs, batch_size=max(len(pairs), 1), purpose=self.config.purpose)
            )
            first = first_outcomes(ledger, outcomes)
            for outcome in outcomes:
                result.summary.add(outcome)
                where = resolve(outcome, first)
                if where is None:
                    result.left += 1  # not committed: untouched, read at the next poll
                else:
                    try:
                        self._apply(where, by_key[outcome.label], result)
                    except FileNotFoundError:
                        # Another poller of this Maildir moved it first: one rename
                        # wins, so it is in exactly one place, and it is committed.
                        result.busy += 1
        return result

    def _apply(self, where: Disposition, entry: Entry, result: PollResult) -> None:
        action, folder = handling(where, self.config)
        if action == "delete":
            (self.root / entry.subdir / entry.name).unlink(missing_ok=True)
            result.deleted += 1
        elif action == "seen":
            self._mark_seen(entry)
            result.flagged += 1
        else:
            self._move(entry, self._target(folder))
            result.moved += 1

    def _mark_seen(self, entry: Entry) -> None:
        """Add S and move to cur/, in one rename (what Python 3.13's set_flags does)."""
        flags = "".join(sorted(set(entry.flags) | {"S"}))
        new_name = f"{entry.key}{self.config.colon}{INFO}{flags}"
        os.rename(self.root / entry.subdir / entry.name, self.root / "cur" / new_name)

    def _target(self, folder: str | Path) -> Path:
        """The target Maildir's path, created (Maildir++ style when a bare name)."""
        label = str(folder)
        if label not in self._targets:
            if isinstance(folder, str) and os.sep not in folder:
                self._box.add_folder(folder)  # ".name", with the maildirfolder marker
                target = self.root / f".{folder}"
            else:
                target = Path(folder)
                target.parent.mkdir(parents=True, exist_ok=True)
                mailbox.Maildir(target, create=True)
            self._targets[label] = target
        return self._targets[label]

    def _move(self, entry: Entry, target: Path) -> None:
        source = self.root / entry.subdir / entry.name
        try:
            # Same subdir and name: a new message stays new for a mail client.
            os.rename(source, target / entry.subdir / entry.name)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            # Another file system: copy in (tmp/ then rename), then remove ours.
            with source.open("rb") as fh:
                message = mailbox.MaildirMessage(fh)
            message.set_subdir(entry.subdir)
            message.set_flags(entry.flags)
            mailbox.Maildir(target, create=False).add(message)
            source.unlink()


def created(config: MaildirConfig) -> MaildirSource:
    """The source for ``config``, its Maildir created first if missing (``serve``)."""
    root = Path(config.path)
    root.parent.mkdir(parents=True, exist_ok=True)
    mailbox.Maildir(root, create=True)
    return MaildirSource(config)
