"""Drain a log source: read new lines, turn them into events, hand them to a sink,
and only then remember how far we got.

The sink stores a batch (in the ledger, in one transaction); if it raises, the
reader's state is not committed and the same lines come again next time, where
their idempotency keys make the overlap harmless. Nothing is lost, nothing is
applied twice.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.tail import Line, TailReader

Sink = Callable[[list[SourceEvent]], None]


class LineParser(Protocol):
    def feed(self, line: Line) -> SourceEvent | SourceError | None: ...


@dataclass(slots=True)
class LogConfig:
    """One log tailed incrementally (``[[sources.pmta]]``, ``[[sources.postfix_log]]``)."""

    path: Path
    state_path: Path | None = None  # how far it was read; default: beside the log
    rotated: Sequence[str] = (".1",)  # suffixes of the rotated file read to its end
    move_to: Path | None = None
    types: Sequence[str] = ()  # pmta record types; () = the reader's default
    include_sent: bool = False  # postfix: also status=sent (deliveries reset counts)

    def state_file(self) -> Path:
        return self.state_path or self.path.with_name(self.path.name + ".bounceback-state")

    def reader(self) -> TailReader:
        return TailReader(
            self.path, self.state_file(), rotated=tuple(self.rotated), move_to=self.move_to
        )


@dataclass(slots=True)
class DrainResult:
    lines: int = 0
    events: int = 0
    errors: list[SourceError] = field(default_factory=list)


def drain(
    tail: TailReader,
    parser: LineParser,
    sink: Sink,
    *,
    batch_lines: int = 5_000,
    max_batches: int | None = None,
) -> DrainResult:
    """Read until caught up (or ``max_batches``), one sink call and commit per batch."""
    result = DrainResult()
    batches = 0
    while max_batches is None or batches < max_batches:
        lines = tail.read(batch_lines)
        if not lines:
            break
        batches += 1
        events: list[SourceEvent] = []
        for line in lines:
            try:
                got = parser.feed(line)
            except Exception as exc:  # a parser bug must not stop the log
                got = SourceError(line.ref, f"{type(exc).__name__}: {exc}", line.text)
            if isinstance(got, SourceEvent):
                events.append(got)
            elif isinstance(got, SourceError):
                result.errors.append(got)
        if events:
            sink(events)  # raises: no commit, the batch is read again next time
        tail.commit()
        result.lines += len(lines)
        result.events += len(events)
    return result
