"""MboxSource on a real mbox file holding real corpus bounces, a reply and a non-bounce."""

from __future__ import annotations

import mailbox
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.mbox import MboxConfig, MboxSource, is_read

EMAILS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"

HUMAN_REPLY = b"""\
From: Kijitora Neko <kijitora@example.net>
To: news@sender.example
Subject: Re: Our spring newsletter
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <reply-1@example.net>
Content-Type: text/plain; charset=utf-8

Thanks, please send me the price list as well.
"""

NOT_A_BOUNCE = b"""\
From: billing@provider.example
To: news@sender.example
Subject: Your invoice for November
Date: Mon, 23 Nov 2026 09:00:00 +0000
Message-ID: <invoice-7@provider.example>
Content-Type: text/plain; charset=utf-8

Your invoice is attached to your account page.
"""


def eml(name: str) -> bytes:
    return (EMAILS / name).read_bytes().replace(b"\r\n", b"\n")


MIXED = [
    eml("lhost-postfix-03.eml"),  # matched
    eml("lhost-postfix-07.eml"),  # matched
    eml("lhost-exim-02.eml"),  # a bounce for no known contact: unmatched
    HUMAN_REPLY,  # not a bounce: ignored
    NOT_A_BOUNCE,  # ignored
    eml("lhost-postfix-02.eml") + (b"x" * 76 + b"\n") * 3_300,  # too large: quarantined
]


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    config = Config(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", lock_timeout_ms=2000)
    config.policy.max_message_bytes = 200_000
    opened = Ledger.open(config)
    opened.add_contact("kijitora@example.net")  # lhost-postfix-03
    opened.add_contact("kijitora@user.example.or.jp")  # lhost-postfix-07
    yield opened
    opened.close()


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


def count(ledger: Ledger, table: Any) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def history(ledger: Ledger, email: str) -> int:
    view = ledger.contact_view(email)
    assert view is not None
    return len(view["history"])


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
    class Failing:
        engine = ledger.engine

        def process(self, pairs: Any, batch_size: int = 200) -> Iterator[Any]:
            for outcome in ledger.process(pairs, batch_size=batch_size):
                if outcome.outcome == "matched":  # as the ledger reports a failed write
                    outcome.outcome, outcome.error = "error", "database down"
                yield outcome

    result = MboxSource(MboxConfig(mbox)).poll(Failing())  # type: ignore[arg-type]
    assert result.left == 2 and result.flagged == 4
    unread = [n for n, f in enumerate(flags(mbox), 1) if "R" not in f]
    assert unread == [2, 3]  # the two matched bounces, read at the next poll


def test_status_header_is_read_without_parsing_the_body() -> None:
    assert is_read(b"From: a@b\nStatus: RO\n\nbody")
    assert not is_read(b"From: a@b\nStatus: O\n\nStatus: R\n")
    assert not is_read(b"From: a@b\n\nbody")
    assert is_read(b"From: a@b\r\nstatus: R\r\n\r\nbody")
    assert not is_read(b"From: a@b\r\n\r\nStatus: RO\r\n")
