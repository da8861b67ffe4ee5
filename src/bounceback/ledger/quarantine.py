"""One quarantined message at a time, for the dashboard: retry it, release it, delete it,
read its kept bytes. ``Ledger.retry_quarantined`` retries them all."""

from __future__ import annotations

import zlib

from sqlalchemy import delete, select, update

from bounceback.ledger import tables as t
from bounceback.ledger.outcomes import MessageOutcome
from bounceback.ledger.process import Outcome, Processor
from bounceback.ledger.service import Ledger

RELEASED_NOTE = "released by {user}: "  # kept in front of the error text (why it was held)


class NotQuarantined(LookupError):
    """No quarantined message has this id (or its bytes are not kept, for a retry)."""


def raw_bytes(ledger: Ledger, message_id: int) -> bytes | None:
    """The kept bytes of an inbound message (any outcome), None when none are kept."""
    m = t.messages.c
    with ledger.read() as conn:
        kept = conn.execute(select(m.raw).where(m.id == message_id)).scalar()
    return zlib.decompress(kept) if kept is not None else None


def retry(ledger: Ledger, message_id: int) -> Outcome:
    """Process one quarantined message again from its kept bytes, under today's engine
    and rules; its row is replaced by the new outcome's in one transaction (a message
    quarantined again gets a new row, with the new error)."""
    rules = ledger.current_rules()
    processor = Processor(ledger.engine, ledger.config, rules, ledger.signer)
    outcomes = list(processor.retry_quarantined(only=[message_id]))
    if not outcomes:
        raise NotQuarantined(f"no quarantined message {message_id} with its bytes kept")
    return outcomes[0]


def release(ledger: Ledger, message_id: int, user: str) -> None:
    """Take it out of the quarantine as "ignored": bytes and error text kept, nothing
    applied (its idempotency key still stops the same message coming in again)."""
    m = t.messages.c
    with ledger.write() as conn:
        note = RELEASED_NOTE.format(user=user)
        done = conn.execute(
            update(t.messages)
            .where(m.id == message_id, m.outcome == MessageOutcome.QUARANTINED)
            .values(outcome=MessageOutcome.IGNORED, error=note + m.error)
        )
        if not done.rowcount:
            raise NotQuarantined(f"no quarantined message {message_id}")


def delete_message(ledger: Ledger, message_id: int) -> None:
    """Delete a quarantined message and its bytes (the same message may then come in anew)."""
    m = t.messages.c
    with ledger.write() as conn:
        done = conn.execute(
            delete(t.messages).where(m.id == message_id, m.outcome == MessageOutcome.QUARANTINED)
        )
        if not done.rowcount:
            raise NotQuarantined(f"no quarantined message {message_id}")
