"""``poll(ledger, stop=event)``: a stop request ends the poll after the batch in hand,
for every mailbox source. What was committed is acted on; the rest is left unread."""

from __future__ import annotations

import mailbox
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from dovecot import Dovecot
from mailbox_helpers import count, eml, numbered

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.maildir import MaildirConfig, MaildirSource
from bounceback.sources.mbox import MboxConfig, MboxSource
from bounceback.sources.pop3 import Pop3Source

MESSAGES = [numbered(eml("lhost-postfix-03.eml"), n) for n in range(10)]


class StopAfterFirstBatch:
    """The real ledger; the stop event is set while the first batch is committed."""

    def __init__(self, ledger: Ledger, stop: threading.Event) -> None:
        self.ledger, self.stop, self.engine = ledger, stop, ledger.engine

    def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
        self.stop.set()
        return self.ledger.process(pairs, batch_size=batch_size, **options)


def test_maildir_stops_between_batches(tmp_path: Path, ledger: Ledger) -> None:
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    for data in MESSAGES:
        box.add(data)
    source = MaildirSource(MaildirConfig(tmp_path / "Maildir", batch_size=4))
    stop = threading.Event()
    result = source.poll(StopAfterFirstBatch(ledger, stop), stop=stop)  # type: ignore[arg-type]
    assert (result.fetched, result.moved, result.stopped) == (4, 4, True)
    assert count(ledger, t.messages) == 4
    assert len(source.unseen()) == 6  # left as they were, for the next poll
    again = source.poll(ledger, stop=threading.Event())
    assert (again.fetched, again.stopped, count(ledger, t.messages)) == (6, False, 10)


def test_mbox_stops_between_batches(tmp_path: Path, ledger: Ledger) -> None:
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path)
    for data in MESSAGES:
        box.add(data)
    box.close()
    source = MboxSource(MboxConfig(path, batch_size=3))
    stop = threading.Event()
    result = source.poll(StopAfterFirstBatch(ledger, stop), stop=stop)  # type: ignore[arg-type]
    assert (result.fetched, result.flagged, result.stopped) == (3, 3, True)
    assert count(ledger, t.messages) == 3
    assert source.poll(ledger).fetched == 7


def test_pop3_stops_between_sessions(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append(MESSAGES)
    config = mailbox.pop3_config(batch_size=4, timeout=10)
    stop = threading.Event()
    source = Pop3Source(config)
    result = source.poll(StopAfterFirstBatch(ledger, stop), stop=stop)  # type: ignore[arg-type]
    assert (result.fetched, result.deleted, result.stopped) == (4, 4, True)
    assert len(mailbox.folder_uids("INBOX")) == 6  # deleted at QUIT: only the committed
    assert source.poll(ledger).fetched == 6
    assert count(ledger, t.messages) == 10
