"""Addresses on hold: list them (the CLI and the web read the same query), take one or
many off hold."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, bindparam, delete, or_, select, update

from bounceback.ledger import tables as t
from bounceback.ledger.addresses import by_email, free, normalise, reset_values
from bounceback.ledger.contact_flags import sync_contacts
from bounceback.ledger.contacts import address_rows
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.paging import Key, ends_with_pattern, every_page, newest_first, page
from bounceback.ledger.policy import SuppressionSource
from bounceback.ledger.store import Store


@dataclass(slots=True)
class HoldFilters:
    bounce_type: str | None = None
    domain: str | None = None
    since: dt.datetime | None = None
    emails: list[str] = field(default_factory=list)


def _hold_where(f: HoldFilters) -> list[ColumnElement[bool]]:
    a = t.addresses.c
    where: list[ColumnElement[bool]] = [a.on_hold]
    if f.bounce_type:
        where.append(a.hold_type == f.bounce_type)
    if f.domain:
        pattern = ends_with_pattern("@" + f.domain.strip().lower().lstrip("@"))
        where.append(
            or_(a.email.like(pattern, escape="\\"), a.bounced_address.like(pattern, escape="\\"))
        )
    if f.since is not None:
        where.append(a.hold_since >= f.since)
    if f.emails:
        wanted = sorted({normalise(x) for x in f.emails})
        where.append(or_(a.email.in_(wanted), a.bounced_address.in_(wanted)))
    return where


def list_holds(
    store: Store, filters: HoldFilters, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Addresses on hold, newest hold first; ``after`` = [hold_since, id]."""
    a = t.addresses.c
    where = _hold_where(filters)
    if (seek := newest_first(a.hold_since, a.id, after)) is not None:
        where.append(seek)
    rows = address_rows(store, where, [a.hold_since.desc(), a.id.desc()], limit)
    shown, key = page(rows, limit, lambda r: (r.hold_since, r.id))
    return [
        {
            "address_id": r.id,
            "contact_id": r.contact_id,
            "email": r.email or r.bounced_address,
            "name": r.name,
            "hold_type": r.hold_type,
            "hold_since": iso(r.hold_since),
            "last_bounce_at": iso(r.last_bounce_at),
            "bounce_counts": dict(r.bounce_counts or {}),
        }
        for r in shown
    ], key


def all_holds(store: Store, filters: HoldFilters) -> list[dict[str, Any]]:
    """Every address ``list_holds`` shows for ``filters``, every page read."""
    return every_page(lambda after: list_holds(store, filters, 1000, after))


def unhold(store: Store, email: str) -> bool:
    """Take an address off hold: counts cleared, bounce suppression lifted, bulk mail back."""
    email = normalise(email)
    with store.write() as conn:
        address = by_email(conn, email)
        if address is None:
            return False
        restored = address["email"] or free(conn, address["bounced_address"])
        conn.execute(
            update(t.addresses)
            .where(t.addresses.c.id == address["id"])
            .values(email=restored, **reset_values(utcnow()))
        )
        s = t.suppressions.c
        conn.execute(
            delete(t.suppressions).where(
                s.email.in_([x for x in (restored, address["bounced_address"]) if x]),
                s.source == SuppressionSource.BOUNCE,
            )
        )
        sync_contacts(conn, [address["contact_id"]], store.config.policy)
    return True


def unhold_matching(store: Store, filters: HoldFilters, chunk: int = 1000) -> int:
    """Take every held address matching ``filters`` off hold, as :func:`unhold` does
    for one (counts cleared, the address back when it was removed and is free, bounce
    suppression lifted, the contact's flags recomputed), set-wise: a few statements per
    ``chunk`` addresses, one transaction per chunk, so a bulk unhold of many thousands
    neither takes minutes nor holds the write lock all along. Returns how many."""
    a, s = t.addresses.c, t.suppressions.c
    policy = store.config.policy
    total, last = 0, 0
    while True:
        with store.write() as conn:
            rows = conn.execute(
                select(a.id, a.contact_id, a.email, a.bounced_address)
                .where(*_hold_where(filters), a.id > last)
                .order_by(a.id)
                .limit(chunk)
            ).all()
            if not rows:
                return total
            last = rows[-1].id
            wanted = sorted({r.bounced_address for r in rows if not r.email and r.bounced_address})
            # A removed address comes back only if no address has it now (nor one
            # restored just before in this chunk: emails are unique).
            taken = set(conn.execute(select(a.email).where(a.email.in_(wanted))).scalars())
            now = utcnow()
            changes: list[dict[str, Any]] = []
            lifted: set[str] = set()
            for r in rows:
                restored = r.email
                if not restored and r.bounced_address and r.bounced_address not in taken:
                    restored = r.bounced_address
                    taken.add(restored)
                changes.append({"aid": r.id, "v_email": restored})
                lifted.update(x for x in (restored, r.bounced_address) if x)
            conn.execute(
                update(t.addresses)
                .where(a.id == bindparam("aid"))
                .values(email=bindparam("v_email"), **reset_values(now)),
                changes,
            )
            conn.execute(
                delete(t.suppressions).where(
                    s.email.in_(sorted(lifted)), s.source == SuppressionSource.BOUNCE
                )
            )
            sync_contacts(conn, [r.contact_id for r in rows], policy)
        total += len(rows)
