"""MboxSource on a real mbox file holding real corpus bounces, a reply and a non-bounce."""

from __future__ import annotations

import mailbox
from pathlib import Path

import mailbox_helpers
import pytest
from mailbox_helpers import FailingMatches, count, history, mixed

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.mbox import MboxConfig, MboxSource, is_read


def eml(name: str) -> bytes:
    return mailbox_helpers.eml(name).replace(b"\r\n", b"\n")


MIXED = mixed(eml)


@pytest.fixture
def mbox(tmp_path: Path) -> Path:
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path, create=True)
    read = mailbox.mboxMessage(eml("lhost-sendmail-02.eml"))
    read.set_flags("RO")  # a person read this one: never ours
    box.add(read)
    for data in MIXED:
        box.add(data)  # as an MDA appends
    box.flush()
    box.close()
    return path


def flags(path: Path) -> list[str]:
    box = mailbox.mbox(path, create=False)
    try:
        return [box.get_message(k).get_flags() for k in box.iterkeys()]
    finally:
        box.close()


def subjects(path: Path) -> list[str]:
    box = mailbox.mbox(path, create=False)
    try:
        return [str(box.get_message(k)["Subject"]) for k in box.iterkeys()]
    finally:
        box.close()


def test_poll_marks_every_committed_message_and_only_those(mbox: Path, ledger: Ledger) -> None:
    result = MboxSource(MboxConfig(mbox, batch_size=4)).poll(ledger)
    s = result.summary
    assert (s.matched, s.unmatched, s.ignored, s.quarantined) == (2, 1, 2, 1)
    assert (result.fetched, result.flagged, result.moved, result.left) == (6, 6, 0, 0)
    assert all("R" in f and "O" in f for f in flags(mbox))
    assert len(flags(mbox)) == 7
    # Labels are path:N in file order, as the CLI prints them; N=1 was read before.
    refs = {m["ref"] for m in ledger.messages("unmatched")}
    assert refs == {f"{mbox}:4"}
    assert history(ledger, "kijitora@example.net") == 1
    assert history(ledger, "kijitora@user.example.or.jp") == 1
    assert count(ledger, t.messages) == 6

    assert MboxSource(MboxConfig(mbox)).poll(ledger).fetched == 0


def test_moves_to_configured_mboxes(mbox: Path, ledger: Ledger, tmp_path: Path) -> None:
    processed = tmp_path / "done" / "processed.mbox"
    processed.parent.mkdir()
    quarantine = tmp_path / "quarantine.mbox"
    config = MboxConfig(mbox, processed_path=processed, quarantine_path=quarantine)
    result = MboxSource(config).poll(ledger)
    assert (result.moved, result.flagged) == (3, 3)
    assert len(flags(processed)) == 2 and len(flags(quarantine)) == 1
    assert all("R" in f for f in flags(processed))
    # Left in place: the message read before and the three ignored ones, all read.
    left = subjects(mbox)
    assert len(left) == 4 and "Your invoice for November" in left
    assert all("R" in f for f in flags(mbox))


def test_crash_after_commit_before_flush_applies_once(
    mbox: Path, ledger: Ledger, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    processed = tmp_path / "processed.mbox"
    config = MboxConfig(mbox, processed_path=processed, batch_size=3)

    def crash(path: Path, messages: list[mailbox.mboxMessage]) -> None:
        raise RuntimeError("killed between the commit and the move")

    monkeypatch.setattr(MboxSource, "_append", staticmethod(crash))
    with pytest.raises(RuntimeError):
        MboxSource(config).poll(ledger)
    monkeypatch.undo()
    assert count(ledger, t.messages) == 3  # the first batch was committed
    assert not processed.exists()
    assert sum("R" in f for f in flags(mbox)) == 1  # nothing marked: all read again

    result = MboxSource(config).poll(ledger)
    assert result.summary.duplicates == 3 and result.fetched == 6
    assert count(ledger, t.messages) == 6
    assert history(ledger, "kijitora@example.net") == 1
    assert history(ledger, "kijitora@user.example.or.jp") == 1
    assert len(flags(processed)) == 2
    assert all("R" in f for f in flags(mbox)) and len(flags(mbox)) == 5


def test_a_message_not_committed_stays_unread(mbox: Path, ledger: Ledger) -> None:
    result = MboxSource(MboxConfig(mbox)).poll(FailingMatches(ledger))  # type: ignore[arg-type]
    assert result.left == 2 and result.flagged == 4
    unread = [n for n, f in enumerate(flags(mbox), 1) if "R" not in f]
    assert unread == [2, 3]  # the two matched bounces, read at the next poll


def test_status_header_is_read_without_parsing_the_body() -> None:
    assert is_read(b"From: a@b\nStatus: RO\n\nbody")
    assert not is_read(b"From: a@b\nStatus: O\n\nStatus: R\n")
    assert not is_read(b"From: a@b\n\nbody")
    assert is_read(b"From: a@b\r\nstatus: R\r\n\r\nbody")
    assert not is_read(b"From: a@b\r\n\r\nStatus: RO\r\n")
