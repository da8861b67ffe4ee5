"""Drain a log source: read new lines, turn them into events, hand them to a sink,
and only then remember how far we got.

The sink stores a batch (in the ledger, in one transaction); if it raises, the
reader's state is not committed and the same lines come again next time, where
their idempotency keys make the overlap harmless. Nothing is lost, nothing is
applied twice.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bounceback.sources import SourceError, SourceEvent
from bounceback.sources.tail import Line, TailReader

Sink = Callable[[list[SourceEvent]], None]


class LineParser(Protocol):
    def feed(self, line: Line) -> SourceEvent | SourceError | None: ...


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
