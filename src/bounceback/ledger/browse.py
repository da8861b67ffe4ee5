"""Read-mostly queries for the API and dashboard: bounces, contacts, holds, the
suppression list and sends, each a page at a time with a keyset cursor.

A list function returns ``(items, next_key)``: ``next_key`` is the last item's sort
key (a list of plain values) when more items follow, else None; the caller encodes it
as the cursor and hands it back as ``after``. Keyset paging reads the same few index
entries on page 1000 as on page 1.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    delete,
    func,
    or_,
    select,
    update,
)

from bounceback.config import PolicyConfig
from bounceback.ledger import tables as t
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.policy import policy_steps
from bounceback.ledger.service import Ledger, normalise, reset_values, valid_email

Key = list[Any]


def _like(text: str) -> str:
    """``text`` as a LIKE substring pattern (its wildcards taken literally, escape ``\\``)."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _page(rows: Sequence[Any], limit: int, key: Any) -> tuple[Sequence[Any], Key | None]:
    """Rows fetched with ``limit + 1``: the page and the key to read on from."""
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    return rows, list(key(rows[-1]))


def _newest_first(at: Any, ident: Any, after: Key | None) -> ColumnElement[bool] | None:
    """Rows strictly after (older than) ``after`` = (time, id) in newest-first order."""
    if after is None:
        return None
    when, last = after
    return or_(at < when, and_(at == when, ident < last))


# --- bounces -----------------------------------------------------------------------------
@dataclass(slots=True)
class BounceFilters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    campaign: str | None = None
    domain: str | None = None
    reason: str | None = None
    bounce_type: str | None = None
    hard: bool | None = None
    matched: bool | None = None
    kind: str | None = None


def _bounce_item(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "occurred_at": iso(r.occurred_at),
        "email": r.email,
        "domain": r.domain,
        "kind": r.kind,
        "reason": r.reason,
        "bounce_type": r.bounce_type,
        "hardbounce": r.hardbounce,
        "status": r.status,
        "reply_code": r.reply_code,
        "diagnostic": r.diagnostic[:300],
        "rule": r.rule,
        "matched": r.match_method != "none",
        "match_method": r.match_method,
        "verified": r.verified,
        "contact_id": r.contact_id,
        "campaign": r.campaign,
        "source": r.source,
        "undone": r.undone_at is not None,
    }


def _bounce_select() -> Select[Any]:
    e, c = t.events.c, t.campaigns.c
    return select(
        e.id,
        e.occurred_at,
        e.email,
        e.domain,
        e.kind,
        e.reason,
        e.bounce_type,
        e.hardbounce,
        e.status,
        e.reply_code,
        e.diagnostic,
        e.rule,
        e.match_method,
        e.verified,
        e.contact_id,
        e.source,
        e.undone_at,
        c.name.label("campaign"),
    ).select_from(t.events.outerjoin(t.campaigns, c.id == e.campaign_id))


def list_bounces(
    ledger: Ledger, filters: BounceFilters, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Bounce events, newest first; ``after`` = [occurred_at, id] of the last one seen."""
    e = t.events.c
    f = filters
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(e.occurred_at >= f.since)
    if f.until is not None:
        where.append(e.occurred_at < f.until)
    if f.campaign:
        where.append(
            e.campaign_id
            == select(t.campaigns.c.id).where(t.campaigns.c.name == f.campaign).scalar_subquery()
        )
    if f.domain:
        where.append(e.domain == f.domain.strip().lower())
    if f.reason:
        where.append(e.reason == f.reason)
    if f.bounce_type:
        where.append(e.bounce_type == f.bounce_type)
    if f.hard is not None:
        where.append(e.hardbounce if f.hard else ~e.hardbounce)
    if f.matched is not None:
        where.append(e.match_method != "none" if f.matched else e.match_method == "none")
    if f.kind:
        where.append(e.kind == f.kind)
    if (seek := _newest_first(e.occurred_at, e.id, after)) is not None:
        where.append(seek)
    stmt = _bounce_select().where(*where).order_by(e.occurred_at.desc(), e.id.desc())
    with ledger._read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    page, key = _page(rows, limit, lambda r: (r.occurred_at, r.id))
    return [_bounce_item(r) for r in page], key


# Event columns shown in a bounce's detail (everything parsed, not the bookkeeping).
_DETAIL_SKIP = frozenset({"undo_id", "campaign_counted", "message_id", "position"})


def bounce_detail(ledger: Ledger, event_id: int) -> dict[str, Any] | None:
    """Every parsed field of one event, its campaign, message and policy effects."""
    e, c, m = t.events.c, t.campaigns.c, t.messages.c
    stmt = (
        select(t.events, c.name.label("campaign"), m.idempotency_key, m.ref, m.outcome)
        .select_from(
            t.events.outerjoin(t.campaigns, c.id == e.campaign_id).outerjoin(
                t.messages, m.id == e.message_id
            )
        )
        .where(e.id == event_id)
    )
    with ledger._read() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out: dict[str, Any] = {
        k: (iso(v) if isinstance(v, dt.datetime) else v)
        for k, v in row.items()
        if k in t.events.c and k not in _DETAIL_SKIP
    }
    out["effects"] = dict(row["effects"] or {})
    out["matched"] = row["match_method"] != "none"
    out["undone"] = row["undone_at"] is not None
    out["campaign"] = row["campaign"]
    out["message"] = (
        None
        if row["message_id"] is None
        else {
            "id": row["message_id"],
            "key": row["idempotency_key"],
            "ref": row["ref"],
            "outcome": row["outcome"],
        }
    )
    return out


# --- contacts ----------------------------------------------------------------------------
@dataclass(slots=True)
class ContactFilters:
    on_hold: bool | None = None
    bounced: bool | None = None
    kind: str | None = None


def search_contacts(
    ledger: Ledger, q: str, filters: ContactFilters, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Addresses whose email (current or bounced) or contact name contains ``q``;
    ``@domain`` matches a domain. A whole address is looked up first (by index: a
    substring search scans) and only when nobody has it is it searched as a substring.
    Ordered by address id; ``after`` = [id]."""
    a, c = t.addresses.c, t.contacts.c
    q = q.strip().lower()
    f = filters
    common: list[ColumnElement[bool]] = []
    if f.on_hold is not None:
        common.append(a.on_hold if f.on_hold else ~a.on_hold)
    if f.bounced is not None:
        common.append(a.bounced if f.bounced else ~a.bounced)
    if f.kind:
        common.append(c.kind == f.kind)
    if after is not None:
        common.append(a.id > after[0])
    if valid_email(q) and after is None:
        rows = _address_rows(
            ledger, [or_(a.email == q, a.bounced_address == q), *common], [a.id], limit
        )
        if rows:
            return _contact_page(rows, limit)
    if q.startswith("@") and len(q) > 1:
        pattern = "%" + _like(q)[1:-1]  # ends with @domain
        common.append(
            or_(a.email.like(pattern, escape="\\"), a.bounced_address.like(pattern, escape="\\"))
        )
    elif q:
        pattern = _like(q)
        common.append(
            or_(
                a.email.like(pattern, escape="\\"),
                a.bounced_address.like(pattern, escape="\\"),
                func.lower(c.name).like(pattern, escape="\\"),
            )
        )
    return _contact_page(_address_rows(ledger, common, [a.id], limit), limit)


def _address_rows(
    ledger: Ledger, where: list[ColumnElement[bool]], order: list[Any], limit: int
) -> Sequence[Any]:
    """Addresses with their contact's fields, in ``order``: a page and one more row."""
    a, c = t.addresses.c, t.contacts.c
    stmt = (
        select(
            a.id,
            a.contact_id,
            a.email,
            a.bounced_address,
            a.bounced,
            a.on_hold,
            a.hold_type,
            a.hold_since,
            a.last_bounce_at,
            a.bounce_counts,
            c.name,
            c.kind,
            c.bulk_mail,
            c.disabled,
        )
        .join(t.contacts, c.id == a.contact_id)
        .where(*where)
        .order_by(*order)
        .limit(limit + 1)
    )
    with ledger._read() as conn:
        rows: Sequence[Any] = conn.execute(stmt).all()
    return rows


def _contact_page(rows: Sequence[Any], limit: int) -> tuple[list[dict[str, Any]], Key | None]:
    page, key = _page(rows, limit, lambda r: (r.id,))
    return [
        {
            "address_id": r.id,
            "contact_id": r.contact_id,
            "name": r.name,
            "kind": r.kind,
            "email": r.email,
            "bounced_address": r.bounced_address,
            "bounced": r.bounced,
            "on_hold": r.on_hold,
            "hold_type": r.hold_type,
            "hold_since": iso(r.hold_since),
            "last_bounce_at": iso(r.last_bounce_at),
            "bounce_counts": dict(r.bounce_counts or {}),
            "bulk_mail": r.bulk_mail,
            "disabled": r.disabled,
        }
        for r in page
    ], key


def contact_timeline(
    ledger: Ledger, email: str, limit: int = 100, after: Key | None = None
) -> tuple[dict[str, Any], Key | None] | None:
    """The "why" timeline of the contact owning ``email`` (current or bounced address):
    each event newest first with the address at the time, the reason, the rule that
    decided and the policy steps it triggered. None when no contact has the address."""
    email = normalise(email)
    a, e, c = t.addresses.c, t.events.c, t.campaigns.c
    with ledger._read() as conn:
        address = ledger._address_by_email(conn, email)
        if address is None:
            return None
        cid = address["contact_id"]
        # The contact's addresses as values, not a subquery: PostgreSQL can then OR the
        # two indexes; with the subquery it walked every event newest first (issue 14).
        mine = list(conn.execute(select(a.id).where(a.contact_id == cid)).scalars())
        where: list[ColumnElement[bool]] = [or_(e.contact_id == cid, e.address_id.in_(mine))]
        if (seek := _newest_first(e.occurred_at, e.id, after)) is not None:
            where.append(seek)
        rows = conn.execute(
            select(
                e.id,
                e.occurred_at,
                e.email,
                e.kind,
                e.reason,
                e.rule,
                e.bounce_type,
                e.hardbounce,
                e.status,
                e.diagnostic,
                e.detector,
                e.effects,
                e.undone_at,
                c.name.label("campaign"),
            )
            .select_from(t.events.outerjoin(t.campaigns, c.id == e.campaign_id))
            .where(*where)
            .order_by(e.occurred_at.desc(), e.id.desc())
            .limit(limit + 1)
        ).all()
    page, key = _page(rows, limit, lambda r: (r.occurred_at, r.id))
    events = [
        {
            "id": r.id,
            "at": iso(r.occurred_at),
            "address_at_the_time": r.email,
            "kind": r.kind,
            "reason": r.reason,
            "rule": r.rule,
            "bounce_type": r.bounce_type,
            "hardbounce": r.hardbounce,
            "status": r.status,
            "diagnostic": r.diagnostic[:300],
            "detector": r.detector,
            "campaign": r.campaign,
            "effects": dict(r.effects or {}),
            "steps": policy_steps(r.kind, r.bounce_type, dict(r.effects or {})),
            "undone": r.undone_at is not None,
        }
        for r in page
    ]
    return {
        "contact_id": cid,
        "email": address["email"],
        "bounced_address": address["bounced_address"],
        "last_reset_at": iso(address["reset_at"]),
        "events": events,
    }, key


# --- holds -------------------------------------------------------------------------------
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
        pattern = "%@" + _like(f.domain.strip().lower().lstrip("@"))[1:-1]
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
    ledger: Ledger, filters: HoldFilters, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Addresses on hold, newest hold first; ``after`` = [hold_since, id]."""
    a = t.addresses.c
    where = _hold_where(filters)
    if (seek := _newest_first(a.hold_since, a.id, after)) is not None:
        where.append(seek)
    rows = _address_rows(ledger, where, [a.hold_since.desc(), a.id.desc()], limit)
    page, key = _page(rows, limit, lambda r: (r.hold_since, r.id))
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
        for r in page
    ], key


def unhold_matching(ledger: Ledger, filters: HoldFilters, chunk: int = 1000) -> int:
    """Take every held address matching ``filters`` off hold, as ``Ledger.unhold`` does
    for one (counts cleared, the address back when it was removed and is free, bounce
    suppression lifted, the contact's flags recomputed), set-wise: a few statements per
    ``chunk`` addresses, one transaction per chunk, so a bulk unhold of many thousands
    neither takes minutes nor holds the write lock all along. Returns how many."""
    a, s = t.addresses.c, t.suppressions.c
    policy = ledger.config.policy
    total, last = 0, 0
    while True:
        with ledger._write() as conn:
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
                delete(t.suppressions).where(s.email.in_(sorted(lifted)), s.source == "bounce")
            )
            sync_contacts(conn, sorted({r.contact_id for r in rows}), policy)
        total += len(rows)


def sync_contacts(conn: Connection, contact_ids: list[int], policy: PolicyConfig) -> None:
    """``service.sync_contact`` for many contacts in a few statements, same rules: bulk
    mail off while any current address is suppressed or any address bounced; disabled
    while an address has ``disable_after`` consecutive bounces."""
    a, s = t.addresses.c, t.suppressions.c
    rows = conn.execute(
        select(a.contact_id, a.email, a.bounced, a.consecutive_bounces).where(
            a.contact_id.in_(contact_ids)
        )
    ).all()
    emails = sorted({r.email for r in rows if r.email})
    suppressed = set(conn.execute(select(s.email).where(s.email.in_(emails))).scalars())
    bad: dict[int, bool] = dict.fromkeys(contact_ids, False)
    disabled: dict[int, bool] = dict.fromkeys(contact_ids, False)
    for r in rows:
        if r.bounced or (r.email and r.email in suppressed):
            bad[r.contact_id] = True
        if policy.disable_after and r.consecutive_bounces >= policy.disable_after:
            disabled[r.contact_id] = True
    now = utcnow()
    conn.execute(
        update(t.contacts)
        .where(t.contacts.c.id == bindparam("cid"))
        .values(
            bulk_mail=bindparam("v_bulk"),
            disabled=bindparam("v_disabled"),
            disabled_at=bindparam("v_at"),
        ),
        [
            {
                "cid": cid,
                "v_bulk": "do_not_allow" if bad[cid] else "allowed",
                "v_disabled": disabled[cid],
                "v_at": now if disabled[cid] else None,
            }
            for cid in contact_ids
        ],
    )


# --- suppression ---------------------------------------------------------------------------
def list_suppressions(
    ledger: Ledger, source: str | None, limit: int, after: Key | None = None, q: str = ""
) -> tuple[list[dict[str, Any]], Key | None]:
    """The suppression list, newest first (by id: the primary key, no sort), whose address
    or reason contains ``q`` (``@domain``: addresses at that domain); ``after`` = [id]."""
    s = t.suppressions.c
    stmt = select(s.id, s.email, s.reason, s.source, s.since).order_by(s.id.desc())
    q = q.strip()
    if q.startswith("@") and len(q) > 1:
        stmt = stmt.where(s.email.like("%" + _like(q.lower())[1:-1], escape="\\"))
    elif q:
        pattern = _like(q.lower())
        stmt = stmt.where(
            or_(s.email.like(pattern, escape="\\"), func.lower(s.reason).like(pattern, escape="\\"))
        )
    if source:
        stmt = stmt.where(s.source == source)
    if after is not None:
        stmt = stmt.where(s.id < after[0])
    with ledger._read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    page, key = _page(rows, limit, lambda r: (r.id,))
    return [
        {"email": r.email, "reason": r.reason, "source": r.source, "since": iso(r.since)}
        for r in page
    ], key


def iter_suppressions(ledger: Ledger, chunk: int = 5000) -> Iterator[tuple[str, str, str, str]]:
    """Every suppression (email, reason, source, since) by id, a chunk per query, so an
    export of millions holds neither a long transaction nor the whole list in memory."""
    s = t.suppressions.c
    last = 0
    while True:
        with ledger._read() as conn:
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


# --- sends -----------------------------------------------------------------------------------
def send_detail(ledger: Ledger, send_id: int) -> dict[str, Any] | None:
    sd, c = t.sends.c, t.campaigns.c
    with ledger._read() as conn:
        row = (
            conn.execute(
                select(t.sends, c.name.label("campaign"))
                .select_from(t.sends.outerjoin(t.campaigns, c.id == sd.campaign_id))
                .where(sd.id == send_id)
            )
            .mappings()
            .first()
        )
        if row is None:
            return None
        e = t.events.c
        bounces = conn.execute(
            select(func.count()).select_from(t.events).where(e.send_id == send_id)
        ).scalar_one()
    return {
        "send_id": row["id"],
        "email": row["email"],
        "campaign": row["campaign"],
        "message_id": row["message_id"],
        "bounceback_id": row["bounceback_id"],
        "return_path": row["return_path"],
        "sent_at": iso(row["sent_at"]),
        "contact_id": row["contact_id"],
        "bounces": int(bounces),
    }


@dataclass(slots=True)
class SuppressionImport:
    added: int = 0
    already: int = 0
    invalid: int = 0
    problems: list[str] = field(default_factory=list)  # "line N: why", the first 20


def import_suppressions(
    ledger: Ledger, rows: Iterator[tuple[int, str, str]], chunk: int = 1000
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
        with ledger._write() as conn:
            known = set(conn.execute(select(s.email).where(s.email.in_(wanted))).scalars())
            fresh = [
                t.clip(t.suppressions, {"email": e, "reason": pending[e], "source": "manual"})
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


# --- quarantined (and other kept) messages ----------------------------------------------------
def list_messages(
    ledger: Ledger, outcome: str, limit: int, after: Key | None = None
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
    with ledger._read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    page, key = _page(rows, limit, lambda r: (r.id,))
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
        for r in page
    ], key


def count_messages(ledger: Ledger, outcome: str) -> int:
    m = t.messages.c
    with ledger._read() as conn:
        n = conn.execute(select(func.count()).select_from(t.messages).where(m.outcome == outcome))
        return int(n.scalar_one())


# --- activities (human replies filed on contacts) ---------------------------------------------
def contact_activities(
    ledger: Ledger, email: str, limit: int, after: Key | None = None
) -> tuple[dict[str, Any], Key | None] | None:
    """The activities filed on the contact owning ``email`` (current or bounced address),
    newest first; ``after`` = [date, id]. None when no contact has the address."""
    act = t.activities.c
    with ledger._read() as conn:
        address = ledger._address_by_email(conn, normalise(email))
        if address is None:
            return None
        cid = address["contact_id"]
        where: list[ColumnElement[bool]] = [act.contact_id == cid]
        if (seek := _newest_first(act.date, act.id, after)) is not None:
            where.append(seek)
        rows = conn.execute(
            select(
                act.id,
                act.message_id,
                act.header_message_id,
                act.date,
                act.sender,
                act.sender_name,
                act.subject,
                act.body,
            )
            .where(*where)
            .order_by(act.date.desc(), act.id.desc())
            .limit(limit + 1)
        ).all()
    page, key = _page(rows, limit, lambda r: (r.date, r.id))
    return {
        "contact_id": cid,
        "activities": [
            {
                "id": r.id,
                "message_id": r.message_id,
                "header_message_id": r.header_message_id,
                "date": iso(r.date),
                "sender": r.sender,
                "sender_name": r.sender_name,
                "subject": r.subject,
                "body": r.body,
            }
            for r in page
        ],
    }, key
