"""MaildirSource on a real Maildir filled with real corpus bounces, a reply and a non-bounce."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from mailbox_helpers import FailingMatches, count, eml, history, mixed

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.maildir import Entry, MaildirConfig, MaildirSource

MIXED = mixed()


@pytest.fixture
def maildir(tmp_path: Path) -> Path:
    root = tmp_path / "Maildir"
    box = mailbox.Maildir(root, create=True)
    for data in MIXED:
        box.add(data)  # into new/, as an MDA delivers
    # One a person has already read, and one in cur/ only flagged (not seen): the
    # same bytes as MIXED[0], so a duplicate of a matched bounce. Written as files,
    # as a mail client leaves them.
    (root / "cur" / "1763900000.M1P1Q1.test:2,S").write_bytes(eml("lhost-sendmail-02.eml"))
    (root / "cur" / "1763900001.M1P1Q2.test:2,F").write_bytes(MIXED[0])
    return root


def files(folder: Path) -> list[str]:
    return sorted(p.name for sub in ("new", "cur") for p in (folder / sub).iterdir())


def test_poll_acts_on_each_outcome_and_touches_nothing_else(maildir: Path, ledger: Ledger) -> None:
    source = MaildirSource(MaildirConfig(maildir))
    assert len(source.unseen()) == 7
    result = source.poll(ledger)
    s = result.summary
    assert (s.matched, s.unmatched, s.ignored, s.quarantined, s.duplicates) == (2, 1, 2, 1, 1)
    assert (result.fetched, result.moved, result.flagged, result.left) == (7, 4, 3, 0)
    # Maildir++ subfolders, created with their marker file.
    assert len(files(maildir / ".processed")) == 3  # two matched + the duplicate of one
    assert (maildir / ".processed" / "maildirfolder").exists()
    assert len(files(maildir / ".quarantine")) == 1
    # Left here: the message read before, plus the three ignored ones, now seen.
    left = files(maildir)
    assert len(left) == 4 and all("S" in name.split(":2,")[1] for name in left)
    assert list((maildir / "new").iterdir()) == []
    assert source.unseen() == []
    # Every message the mailbox held is readable as mail where it went.
    moved = mailbox.Maildir(maildir / ".processed", create=False)
    stored = sorted(moved.get_bytes(k) for k in moved.iterkeys())
    assert stored == sorted([MIXED[0], MIXED[0], MIXED[1]])
    assert history(ledger, "kijitora@example.net") == 1  # the duplicate applied nothing
    assert history(ledger, "kijitora@user.example.or.jp") == 1
    assert len(ledger.messages("unmatched")) == 1
    assert "too large" in ledger.messages("quarantined")[0]["error"]
    assert count(ledger, t.messages) == 6  # the read-before message is not ours

    again = source.poll(ledger)
    assert again.fetched == 0


def test_configured_paths_delete_and_move_ignored(
    maildir: Path, ledger: Ledger, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "archive" / "bounces"
    source = MaildirSource(
        MaildirConfig(
            maildir,
            processed="delete",
            ignored="move",
            quarantine_folder=elsewhere,  # a path: its own Maildir, created
        )
    )
    result = source.poll(ledger)
    assert (result.deleted, result.moved, result.flagged) == (3, 4, 0)
    assert not (maildir / ".processed").exists()
    assert len(files(maildir / ".ignored")) == 3
    assert len(files(elsewhere)) == 1
    assert len(files(maildir)) == 1  # only the message a person had read


def test_crash_after_commit_before_move_applies_once(
    maildir: Path, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = MaildirSource(MaildirConfig(maildir, batch_size=3))
    real = MaildirSource._move
    calls = 0

    def crash_once(self: MaildirSource, entry: Entry, target: Path) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise RuntimeError("killed between the commit and the move")
        real(self, entry, target)

    monkeypatch.setattr(MaildirSource, "_move", crash_once)
    with pytest.raises(RuntimeError):
        source.poll(ledger)
    monkeypatch.undo()
    stored = count(ledger, t.messages)
    assert stored >= 2  # the first batch (3 messages, one twin at most) was committed
    # Nothing was moved: at most the ignored ones before the crash were flagged seen.
    assert files(maildir / ".processed") == []
    assert len(source.unseen()) >= 4

    result = MaildirSource(MaildirConfig(maildir, batch_size=3)).poll(ledger)
    # Read again and found stored: all but the messages new to the ledger.
    assert result.summary.duplicates == result.fetched - (6 - stored)
    assert result.summary.processed == result.fetched
    assert count(ledger, t.messages) == 6
    assert history(ledger, "kijitora@example.net") == 1
    assert history(ledger, "kijitora@user.example.or.jp") == 1
    assert len(files(maildir / ".processed")) == 3
    assert len(files(maildir / ".quarantine")) == 1
    assert len(files(maildir)) == 4 and source.unseen() == []


def test_a_message_not_committed_is_left_untouched(maildir: Path, ledger: Ledger) -> None:
    source = MaildirSource(MaildirConfig(maildir))
    before = {e.name: e.subdir for e in source.unseen()}
    result = source.poll(FailingMatches(ledger))  # type: ignore[arg-type]
    assert result.left == 2 and result.moved == 2  # the twin came back a duplicate
    left = source.unseen()
    # The same files under the same names: still unseen, read at the next poll.
    assert len(left) == 2 and all(before[e.name] == e.subdir for e in left)
    assert sorted((maildir / e.subdir / e.name).read_bytes() for e in left) == sorted(MIXED[:2])


def test_missing_maildir_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(mailbox.NoSuchMailboxError):
        MaildirSource(MaildirConfig(tmp_path / "nowhere"))


def test_two_pollers_on_one_maildir_neither_fails_nor_copies(maildir: Path, ledger: Ledger) -> None:
    first = MaildirSource(MaildirConfig(maildir))
    second = MaildirSource(MaildirConfig(maildir))

    class OtherPollerFirst:
        """The second poller drains the Maildir while the first one is committing."""

        engine = ledger.engine

        def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
            second.poll(ledger)
            return ledger.process(pairs, batch_size=batch_size, **options)

    result = first.poll(OtherPollerFirst())  # type: ignore[arg-type]
    assert result.summary.duplicates == result.fetched == 7
    assert result.busy == 7  # all were moved by the other poller: nothing to do, no error
    assert count(ledger, t.messages) == 6
    assert len(files(maildir / ".processed")) == 3  # one copy each (two share bytes)
    assert first.unseen() == []
