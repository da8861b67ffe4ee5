"""Erasure: remove everything the ledger holds about one person, keep them unmailable.

``erase`` deletes, in one transaction, the contact that has the address (with all its
addresses), its bounce history, the messages whose events were all theirs (a message
that also names other people keeps its row and their events but loses its raw bytes),
their activities (filed on the contact or sent by them), their sends and suppression
rows. What stays is a keyed one-way hash of each address on the suppression list
(``erased:<HMAC-SHA256 hex>``), so every suppression check still says "suppressed",
and a row in ``erasures`` saying when, by whom and how many rows went: never whose.

The hash key is a per-installation secret in ``settings`` (made by migration 0008):
the hashes on an exported suppression list cannot be tested against guessed
addresses without it. Aggregates that name nobody (daily rollups, campaign counts)
stay. Time is passed in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    delete,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

from bounceback.ledger import tables as t
from bounceback.ledger.db import unavailable
from bounceback.ledger.lookup import chunks

KEY_SETTING = "erasure.key"
ERASED_PREFIX = "erased:"
SOURCE = "erasure"  # suppressions.source of a hashed row
ERASED = "[erased]"  # what an erased address reads in what others keep


@dataclass(frozen=True, slots=True)
class ErasureReport:
    id: int
    erased_at: dt.datetime
    operator: str
    counts: dict[str, int]

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "erased_at": self.erased_at.isoformat(),
            "operator": self.operator,
            "counts": dict(self.counts),
        }


def _insert(conn: Connection, table: Any) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING (process.dialect_insert; not
    imported: process imports activities, which imports this module)."""
    return (postgresql if conn.dialect.name == "postgresql" else sqlite).insert(table)


# --- the hash ---------------------------------------------------------------------------
def erasure_key(conn: Connection) -> bytes:
    """The installation's secret; made on first need when migration 0008 did not."""
    s = t.settings.c
    found = conn.execute(select(s.value).where(s.key == KEY_SETTING)).scalar()
    if found is None:
        conn.execute(
            _insert(conn, t.settings)
            .values(key=KEY_SETTING, value=secrets.token_hex(32))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        found = conn.execute(select(s.value).where(s.key == KEY_SETTING)).scalar_one()
    return str(found).encode()


def erased_form(key: bytes, email: str) -> str:
    """How an erased (normalised) address is kept on the suppression list."""
    return ERASED_PREFIX + hmac.new(key, email.encode(), hashlib.sha256).hexdigest()


def suppression_keys(conn: Connection, emails: Iterable[str]) -> list[str]:
    """The suppressions.email values that suppress these addresses: each as it is,
    and its erased form."""
    wanted = [e for e in emails if e]
    if not wanted:
        return []
    key = erasure_key(conn)
    return wanted + [erased_form(key, e) for e in wanted]


def is_erased(conn: Connection, email: str) -> bool:
    """Whether ``email`` (normalised) was erased and is still suppressed as such."""
    s = t.suppressions.c
    form = erased_form(erasure_key(conn), email)
    return conn.execute(select(s.id).where(s.email == form)).first() is not None


# --- erasing ----------------------------------------------------------------------------
def erase(engine: Engine, email: str, operator: str, now: dt.datetime) -> ErasureReport:
    """Erase the person with ``email`` (normalised, valid): see the module's docstring."""
    try:
        with engine.begin() as conn:
            on_sqlite = conn.dialect.name == "sqlite"
            if on_sqlite:  # deleted pages are zeroed, not left readable in the file
                conn.exec_driver_sql("PRAGMA secure_delete = ON")
            try:
                return _erase(conn, email, operator, now)
            finally:
                if on_sqlite:
                    conn.exec_driver_sql("PRAGMA secure_delete = OFF")
    except DBAPIError as exc:
        raise unavailable(exc) from exc


def _erase(conn: Connection, email: str, operator: str, now: dt.datetime) -> ErasureReport:
    a = t.addresses.c
    lock = conn.dialect.name == "postgresql"
    query = select(a.id, a.contact_id).where(or_(a.email == email, a.bounced_address == email))
    found = conn.execute(query.with_for_update() if lock else query).all()
    contact_ids = sorted({row.contact_id for row in found})
    emails = {email}
    address_ids: list[int] = []
    if contact_ids:
        rows = conn.execute(
            select(a.id, a.email, a.bounced_address).where(a.contact_id.in_(contact_ids))
        ).all()
        address_ids = [row.id for row in rows]
        emails.update(x for row in rows for x in (row.email, row.bounced_address) if x)

    counts: dict[str, int] = {}
    event_ids, event_messages = _their_events(conn, address_ids, emails)
    activity_ids, activity_messages = _their_activities(conn, contact_ids, emails)
    counts["bounce_events"] = _delete_ids(conn, t.events, event_ids)
    counts["activities"] = _delete_ids(conn, t.activities, activity_ids)
    counts["messages"], counts["messages_raw_dropped"] = _messages(
        conn, event_messages | activity_messages, emails
    )
    counts["sends"] = _delete_sends(conn, address_ids, emails)
    counts["suppressions"] = _resuppress(conn, emails, now)
    counts["email_addresses"] = _delete_ids(conn, t.addresses, address_ids)
    counts["contacts"] = _delete_ids(conn, t.contacts, contact_ids)
    record = conn.execute(
        insert(t.erasures)
        .values(erased_at=now, operator=operator[:255], counts=counts)
        .returning(t.erasures.c.id)
    ).scalar_one()
    return ErasureReport(int(record), now, operator[:255], counts)


def _their_events(
    conn: Connection, address_ids: list[int], emails: set[str]
) -> tuple[list[int], set[int]]:
    """Events of their addresses, and unmatched ones that name an address of theirs
    (narrowed by the indexed domain)."""
    e = t.events.c
    named = [
        and_(e.domain == x.rpartition("@")[2], or_(e.email == x, e.original_recipient == x))
        for x in sorted(emails)
    ]
    where = or_(e.address_id.in_(address_ids), *named) if address_ids else or_(*named)
    rows = conn.execute(select(e.id, e.message_id).where(where)).all()
    return [r.id for r in rows], {r.message_id for r in rows if r.message_id is not None}


def _their_activities(
    conn: Connection, contact_ids: list[int], emails: set[str]
) -> tuple[list[int], set[int]]:
    """Replies filed on the contact, and replies they sent filed on someone else."""
    c = t.activities.c
    where: ColumnElement[bool] = c.sender.in_(sorted(emails))
    if contact_ids:
        where = or_(c.contact_id.in_(contact_ids), where)
    rows = conn.execute(select(c.id, c.message_id).where(where)).all()
    return [r.id for r in rows], {r.message_id for r in rows}


def _messages(conn: Connection, candidates: set[int], emails: set[str]) -> tuple[int, int]:
    """Their messages: deleted when nobody else's event or activity is on them, else
    stripped of the raw bytes (which name them) with the others' rows kept, and
    their addresses blotted out of the others' events (a returned To: header...)."""
    e, c, m = t.events.c, t.activities.c, t.messages.c
    shared: set[int] = set()
    for batch in chunks(sorted(candidates)):
        shared.update(
            conn.execute(select(e.message_id).where(e.message_id.in_(batch)).distinct()).scalars()
        )
        shared.update(
            conn.execute(select(c.message_id).where(c.message_id.in_(batch)).distinct()).scalars()
        )
    stripped = 0
    for batch in chunks(sorted(shared)):
        stripped += conn.execute(
            update(t.messages).where(m.id.in_(batch), m.raw.is_not(None)).values(raw=None)
        ).rowcount
    _blot(conn, shared, emails)
    return _delete_ids(conn, t.messages, sorted(candidates - shared)), stripped


# Text of another person's event that may quote the erased address.
_QUOTING = (
    "diagnostic",
    "original_recipient",
    "original_from",
    "original_to",
    "original_return_path",
    "original_subject",
)


def _blot(conn: Connection, messages: set[int], emails: set[str]) -> None:
    e = t.events.c
    columns = [e.id, *(e[name] for name in _QUOTING)]
    pattern = re.compile("|".join(re.escape(x) for x in sorted(emails)), re.IGNORECASE)
    for batch in chunks(sorted(messages)):
        for row in conn.execute(select(*columns).where(e.message_id.in_(batch))).all():
            values = dict(zip(_QUOTING, row[1:], strict=True))
            changed = {k: pattern.sub(ERASED, v) for k, v in values.items() if pattern.search(v)}
            if changed:
                conn.execute(update(t.events).where(e.id == row.id).values(changed))


def _delete_sends(conn: Connection, address_ids: list[int], emails: set[str]) -> int:
    s = t.sends.c
    where: ColumnElement[bool] = s.email.in_(sorted(emails))
    if address_ids:
        where = or_(s.address_id.in_(address_ids), where)
    ids = list(conn.execute(select(s.id).where(where)).scalars())
    return _delete_ids(conn, t.sends, ids)


def _resuppress(conn: Connection, emails: set[str], now: dt.datetime) -> int:
    """Their suppression rows go; each address comes back as its erased form."""
    s = t.suppressions.c
    gone = conn.execute(delete(t.suppressions).where(s.email.in_(sorted(emails)))).rowcount
    key = erasure_key(conn)
    for address in sorted(emails):
        conn.execute(
            _insert(conn, t.suppressions)
            .values(email=erased_form(key, address), reason="erased", source=SOURCE, since=now)
            .on_conflict_do_nothing(index_elements=["email"])
        )
    return int(gone)


def _delete_ids(conn: Connection, table: Any, ids: Iterable[int]) -> int:
    """Plain DELETE by primary key (works on partitioned tables too)."""
    done = 0
    for batch in chunks(sorted(set(ids))):
        done += conn.execute(delete(table).where(table.c.id.in_(batch))).rowcount
    return done


def erasures(engine: Engine, limit: int = 100) -> list[dict[str, Any]]:
    """The erasure record, newest first."""
    r = t.erasures.c
    with engine.connect() as conn:
        rows = conn.execute(
            select(t.erasures).order_by(r.erased_at.desc(), r.id.desc()).limit(limit)
        ).all()
    return [
        ErasureReport(row.id, row.erased_at, row.operator, dict(row.counts)).as_dict()
        for row in rows
    ]
