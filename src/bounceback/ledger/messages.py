"""Inbound messages kept by outcome (quarantined, unmatched...): list and count them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from bounceback.ledger import tables as t
from bounceback.ledger.models import iso
from bounceback.ledger.paging import Key, page
from bounceback.ledger.store import Store


def list_messages(
    store: Store, outcome: str, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Inbound messages with this outcome, newest first: why (the error), when, from
    which source, whether the bytes are kept; ``after`` = [id]."""
    m = t.messages.c
    stmt = (
        select(
            m.id,
            m.ref,
            m.source,
            m.received_at,
            m.kind,
            m.detector,
            m.error,
            m.size,
            m.raw.is_not(None).label("kept"),
        )
        .where(m.outcome == outcome)
        .order_by(m.id.desc())
    )
    if after is not None:
        stmt = stmt.where(m.id < after[0])
    with store.read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    shown, key = page(rows, limit, lambda r: (r.id,))
    return [
        {
            "id": r.id,
            "ref": r.ref,
            "source": r.source,
            "received_at": iso(r.received_at),
            "kind": r.kind,
            "detector": r.detector,
            "error": r.error,
            "size": r.size,
            "kept": bool(r.kept),
        }
        for r in shown
    ], key


def count_messages(store: Store, outcome: str) -> int:
    m = t.messages.c
    with store.read() as conn:
        n = conn.execute(select(func.count()).select_from(t.messages).where(m.outcome == outcome))
        return int(n.scalar_one())
