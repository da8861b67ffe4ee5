"""The suppression list: add, lift, look up, list, export, import."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, or_, select, update

from bounceback.ledger import erasure
from bounceback.ledger import tables as t
from bounceback.ledger.addresses import by_email, free, normalise, valid_email
from bounceback.ledger.contact_flags import sync_contacts
from bounceback.ledger.db import dialect_insert
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.paging import Key, ends_with_pattern, every_page, like_pattern, page
from bounceback.ledger.policy import SuppressionSource
from bounceback.ledger.store import LedgerError, Store


def suppress(
    store: Store, email: str, reason: str = "", source: str = SuppressionSource.MANUAL
) -> bool:
    """Add to the suppression list; False when it was already there."""
    email = normalise(email)
    if not valid_email(email):
        raise LedgerError(f"not an email address: {email!r}")
    with store.write() as conn:
        stmt = (
            dialect_insert(conn, t.suppressions)
            .values(email=email, reason=reason, source=source)
            .on_conflict_do_nothing(index_elements=["email"])
            .returning(t.suppressions.c.id)
        )
        return conn.execute(stmt).first() is not None


def unsuppress(store: Store, email: str) -> bool:
    """Lift a suppression; the address may be mailed again (bulk mail restored)."""
    email = normalise(email)
    with store.write() as conn:
        keys = erasure.suppression_keys(conn, [email])  # an erased address too
        gone = conn.execute(delete(t.suppressions).where(t.suppressions.c.email.in_(keys)))
        address = by_email(conn, email)
        if address is not None and address["bounced"]:
            restored = address["email"] or free(conn, address["bounced_address"])
            conn.execute(
                update(t.addresses)
                .where(t.addresses.c.id == address["id"])
                .values(email=restored, bounced=False, reset_at=utcnow())
            )
        if address is not None:
            sync_contacts(conn, [address["contact_id"]], store.config.policy)
        return bool(gone.rowcount)


def any_suppressed(conn: Connection, emails: list[str | None]) -> bool:
    wanted = [x for x in emails if x]
    if not wanted:
        return False
    s = t.suppressions.c
    keys = erasure.suppression_keys(conn, wanted)  # an erased address stays suppressed
    return conn.execute(select(s.id).where(s.email.in_(keys))).first() is not None


def is_suppressed(store: Store, email: str) -> bool:
    with store.read() as conn:
        return any_suppressed(conn, [normalise(email)])


def list_suppressions(
    store: Store, source: str | None, limit: int, after: Key | None = None, q: str = ""
) -> tuple[list[dict[str, Any]], Key | None]:
    """The suppression list, newest first (by id: the primary key, no sort), whose address
    or reason contains ``q`` (``@domain``: addresses at that domain); ``after`` = [id]."""
    s = t.suppressions.c
    stmt = select(s.id, s.email, s.reason, s.source, s.since).order_by(s.id.desc())
    q = q.strip()
    if q.startswith("@") and len(q) > 1:
        stmt = stmt.where(s.email.like(ends_with_pattern(q.lower()), escape="\\"))
    elif q:
        pattern = like_pattern(q.lower())
        stmt = stmt.where(
            or_(s.email.like(pattern, escape="\\"), func.lower(s.reason).like(pattern, escape="\\"))
        )
    if source:
        stmt = stmt.where(s.source == source)
    if after is not None:
        stmt = stmt.where(s.id < after[0])
    with store.read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    shown, key = page(rows, limit, lambda r: (r.id,))
    return [
        {"email": r.email, "reason": r.reason, "source": r.source, "since": iso(r.since)}
        for r in shown
    ], key


def all_suppressions(store: Store, source: str | None = None) -> list[dict[str, Any]]:
    """The whole list as ``list_suppressions`` shows it, every page read."""
    return every_page(lambda after: list_suppressions(store, source, 1000, after))


def iter_suppressions(store: Store, chunk: int = 5000) -> Iterator[tuple[str, str, str, str]]:
    """Every suppression (email, reason, source, since) by id, a chunk per query, so an
    export of millions holds neither a long transaction nor the whole list in memory."""
    s = t.suppressions.c
    last = 0
    while True:
        with store.read() as conn:
            rows = conn.execute(
                select(s.id, s.email, s.reason, s.source, s.since)
                .where(s.id > last)
                .order_by(s.id)
                .limit(chunk)
            ).all()
        for r in rows:
            yield r.email, r.reason, r.source, iso(r.since) or ""
        if len(rows) < chunk:
            return
        last = rows[-1].id


@dataclass(slots=True)
class SuppressionImport:
    added: int = 0
    already: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)  # "line N: why", the first 20


def import_suppressions(
    store: Store, rows: Iterator[tuple[int, str, str]], chunk: int = 1000
) -> SuppressionImport:
    """Add (line number, email, reason) rows as manual suppressions, set-wise, a chunk per
    transaction; an address already listed keeps its entry (and its source)."""
    s = t.suppressions.c
    result = SuppressionImport()
    pending: dict[str, str] = {}

    def flush() -> None:
        if not pending:
            return
        wanted = sorted(pending)
        with store.write() as conn:
            known = set(conn.execute(select(s.email).where(s.email.in_(wanted))).scalars())
            fresh = [
                t.clip(
                    t.suppressions,
                    {"email": e, "reason": pending[e], "source": SuppressionSource.MANUAL},
                )
                for e in wanted
                if e not in known
            ]
            if fresh:
                conn.execute(t.suppressions.insert(), fresh)
        result.added += len(fresh)
        result.already += len(known)
        pending.clear()

    for line, raw_email, reason in rows:
        address = normalise(raw_email)
        if not valid_email(address) or len(address) > 320:
            result.invalid += 1
            if len(result.problems) < 20:
                result.problems.append(f"line {line}: not an email address: {raw_email[:80]!r}")
            continue
        if address in pending:
            result.already += 1
            continue
        pending[address] = reason.strip()
        if len(pending) >= chunk:
            flush()
    flush()
    return result
