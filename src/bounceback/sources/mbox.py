"""mbox source: drain the messages not yet read (no ``R`` in ``Status:``) into the ledger.

The mbox is locked (``mailbox.mbox.lock``: flock plus a dot-lock, what MTAs and mail
clients honour) for the whole poll, since a flush rewrites the file and the message
keys are positions in it. Messages are processed in batches; after each batch has
committed, every committed message gets the ``RO`` flags (read, old) in its
``Status:`` header, or is moved to a configured mbox (``processed_path``,
``ignored_path``, ``quarantine_path``), and the file is flushed. A message whose
outcome is ``error`` is left as it was. Messages already read are never touched.

A crash after a commit and before the flush leaves the message unread: the next poll
reads it again, the ledger calls it a duplicate (its key is the hash of its bytes,
which the flags have not changed yet) and it is marked where its first outcome said.
Labels are ``path:N`` (N counting from 1 in file order), as the CLI prints them.
"""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bounceback.model import Purpose, RawMessage
from bounceback.sources.mailboxes import (
    Disposition,
    PollResult,
    Stop,
    first_outcomes,
    resolve,
    sleep,
    stopping,
)

if TYPE_CHECKING:
    from bounceback.ledger.sink import Sink

__all__ = ["MboxConfig", "MboxSource"]

DONE = "RO"  # read and old: a mail client shows it read, this source skips it


@dataclass(slots=True)
class MboxConfig:
    path: str | Path
    # Where each disposition's messages go; None marks them RO in place.
    processed_path: str | Path | None = None
    ignored_path: str | Path | None = None
    quarantine_path: str | Path | None = None
    batch_size: int = 100
    # bounces: apply bounces; activities: file human replies on contacts; both.
    purpose: Purpose = "bounces"


class MboxSource:
    """One mbox file. ``poll(ledger)`` drains its unread messages; ``wait(t)`` sleeps."""

    def __init__(self, config: MboxConfig) -> None:
        self.config = config
        self.path = Path(config.path)
        if not self.path.is_file():
            raise FileNotFoundError(f"no mbox at {self.path}")

    def close(self) -> None:
        """Nothing is held open between polls."""

    def wait(self, timeout: float, stop: Stop | None = None) -> bool:
        return sleep(timeout, stop)

    def poll(self, ledger: Sink, stop: Stop | None = None) -> PollResult:
        """Process every unread message once, with the mbox locked throughout.

        ``stop`` is checked between batches; what is left stays unread.
        """
        result = PollResult()
        box = mailbox.mbox(self.path, create=False)
        box.lock()
        try:
            # Keys (ints at run time, str in typeshed) stay stable in this object.
            keys = [k for k in box.iterkeys() if not is_read(box.get_bytes(k))]
            numbers = {k: n for n, k in enumerate(box.iterkeys(), 1)}
            size = max(self.config.batch_size, 1)
            for start in range(0, len(keys), size):
                if stopping(stop, result):
                    break
                batch = keys[start : start + size]
                self._batch(ledger, box, batch, numbers, result)
                box.flush()
        finally:
            box.unlock()
            box.close()
        return result

    def _messages(
        self, box: mailbox.mbox, batch: list[str], numbers: dict[str, int]
    ) -> Iterator[tuple[str, RawMessage]]:
        for key in batch:
            label = f"{self.path}:{numbers[key]}"
            yield label, RawMessage(data=box.get_bytes(key), source="mbox", ref=label)

    def _batch(
        self,
        ledger: Sink,
        box: mailbox.mbox,
        batch: list[str],
        numbers: dict[str, int],
        result: PollResult,
    ) -> None:
        pairs = list(self._messages(box, batch, numbers))
        result.fetched += len(pairs)
        by_label = {label: key for key, (label, _) in zip(batch, pairs, strict=True)}
        outcomes = list(
            ledger.process(pairs, batch_size=max(len(pairs), 1), purpose=self.config.purpose)
        )
        first = first_outcomes(ledger, outcomes)
        done: list[tuple[str, Disposition, mailbox.mboxMessage]] = []
        for outcome in outcomes:
            result.summary.add(outcome)
            where = resolve(outcome, first)
            if where is None:
                result.left += 1  # not committed: unread, read at the next poll
                continue
            key = by_label[outcome.label]
            message = box.get_message(key)
            message.add_flag(DONE)
            done.append((key, where, message))
        # Moved messages are written (and flushed) into their targets before this
        # mbox changes at all: a crash in between leaves a copy in both places, never
        # in neither, and close() after an exception has nothing of it to flush.
        places: tuple[Disposition, ...] = ("processed", "ignored", "quarantine")
        for place in places:
            target = self._target(place)
            moving = [m for _, w, m in done if w == place]
            if target is not None and moving:
                self._append(target, moving)
        for key, place, message in done:
            if self._target(place) is None:
                box[key] = message
                result.flagged += 1
            else:
                box.remove(key)
                result.moved += 1

    def _target(self, where: Disposition) -> Path | None:
        cfg = self.config
        path = {
            "processed": cfg.processed_path,
            "ignored": cfg.ignored_path,
            "quarantine": cfg.quarantine_path,
        }[where]
        return None if path is None else Path(path)

    @staticmethod
    def _append(path: Path, messages: list[mailbox.mboxMessage]) -> None:
        target = mailbox.mbox(path, create=True)
        target.lock()
        try:
            for message in messages:
                target.add(message)
            target.flush()
        finally:
            target.unlock()
            target.close()


def is_read(data: bytes) -> bool:
    """The R flag in the header's Status: line (the body is not looked at)."""
    for line in data.split(b"\n", 200):
        if not line.strip():  # the end of the header (LF or CRLF)
            return False
        if line[:7].lower() == b"status:":
            return b"R" in line[7:]
    return False
