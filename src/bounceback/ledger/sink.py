"""What a source needs from the ledger, and all it may use: ``Sink`` and its helpers.

A mailbox hands messages over (``Sink.process``); the SMTP receiver parses each ahead
and commits them in batches (``BatchSink.prepare``/``commit``). Pollers claim the
messages they work on (``claim``) and ask what became of a message stored before
(``first_outcomes``): those two are the ledger's code, run here on the sink's
database, so no source touches a table or a lock. ``bounceback.sources`` imports
from the ledger nothing but this module (tests/sources/test_boundary.py checks it).

The ``Ledger`` is a ``BatchSink`` as it is; a test may hand a source any object
with the same methods.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager
from typing import Protocol

from sqlalchemy import Engine, select

from bounceback.ledger import tables as t
from bounceback.ledger.claims import claimed
from bounceback.ledger.process import Outcome, PreparedMessage, Summary, idempotency_key
from bounceback.match.verp import VerpSigner
from bounceback.model import Purpose, RawMessage

__all__ = [
    "BatchSink",
    "Outcome",
    "PreparedMessage",
    "Sink",
    "Summary",
    "claim",
    "first_outcomes",
    "idempotency_key",
]


class Sink(Protocol):
    """The ledger as a mailbox poller sees it."""

    @property
    def engine(self) -> Engine:
        """The ledger's database: for ``claim`` and ``first_outcomes``, not for sources."""
        ...

    def process(
        self,
        messages: Iterable[tuple[str, RawMessage]],
        batch_size: int = ...,
        *,
        purpose: Purpose = ...,
    ) -> Iterator[Outcome]:
        """Store messages; each outcome comes once its batch is committed."""
        ...


class BatchSink(Sink, Protocol):
    """The ledger as the SMTP receiver sees it: parse ahead, commit in batches."""

    @property
    def signer(self) -> VerpSigner | None:
        """Checks the VERP addresses bounces come back to (None: VERP is off)."""
        ...

    def prepare(self, label: str, raw: RawMessage) -> PreparedMessage:
        """Parse one message ahead of its commit (any thread)."""
        ...

    def commit(self, prepared: list[PreparedMessage]) -> list[Outcome]:
        """Store prepared messages in one transaction; outcomes in order."""
        ...


def claim(sink: Sink, keys: Iterable[str]) -> AbstractContextManager[set[str]]:
    """The message keys this caller may work on now, held until the block ends
    (taken in the sink's database: ``bounceback.ledger.claims``)."""
    return claimed(sink.engine, keys)


def first_outcomes(sink: Sink, keys: Iterable[str]) -> dict[str, str]:
    """key → the outcome its message had when first stored (a key never stored: absent)."""
    wanted = sorted(set(keys))
    if not wanted:
        return {}
    m = t.messages.c
    with sink.engine.connect() as conn:
        rows = conn.execute(
            select(m.idempotency_key, m.outcome).where(m.idempotency_key.in_(wanted))
        )
        return {str(key): str(outcome) for key, outcome in rows}
