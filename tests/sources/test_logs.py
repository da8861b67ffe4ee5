"""drain(): the state advances only after the sink has stored a batch."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounceback.model import SourceEvent
from bounceback.sources.logs import drain
from bounceback.sources.pmta import PmtaCsv
from bounceback.sources.postfix_log import PostfixLog
from bounceback.sources.tail import Line, TailReader

DATA = Path(__file__).parent / "data"


class Store:
    def __init__(self) -> None:
        self.keys: dict[str, SourceEvent] = {}
        self.calls = 0
        self.fail = False

    def __call__(self, events: list[SourceEvent]) -> None:
        self.calls += 1
        if self.fail:
            raise ConnectionError("database down")
        for e in events:
            self.keys.setdefault(e.key, e)


def test_drain_in_batches(tmp_path: Path) -> None:
    store = Store()
    tail = TailReader(DATA / "acct-bounces.csv", tmp_path / "s")
    result = drain(tail, PmtaCsv(), store, batch_lines=3)
    assert (result.lines, result.events, len(result.errors)) == (8, 4, 3)
    assert store.calls == 2  # the batch of bad rows and header had no events
    again = drain(TailReader(DATA / "acct-bounces.csv", tmp_path / "s"), PmtaCsv(), store)
    assert (again.lines, again.events) == (0, 0)


def test_sink_failure_leaves_lines_for_next_time(tmp_path: Path) -> None:
    store = Store()
    store.fail = True
    with pytest.raises(ConnectionError):
        drain(TailReader(DATA / "mail.log", tmp_path / "s"), PostfixLog(), store)
    assert store.keys == {}
    store.fail = False
    result = drain(TailReader(DATA / "mail.log", tmp_path / "s"), PostfixLog(), store)
    assert result.events == 5 and len(store.keys) == 5


def test_parser_crash_is_an_error_not_a_stop(tmp_path: Path) -> None:
    class Fragile:
        def feed(self, line: Line) -> None:
            raise ValueError("boom")

    result = drain(TailReader(DATA / "mail.log", tmp_path / "s"), Fragile(), Store())
    assert result.lines == 12 and len(result.errors) == 12
    assert result.errors[0].error == "ValueError: boom"
