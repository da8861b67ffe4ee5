"""Contacts and their addresses: add, import, change an address, the contact's flags
(bulk mail, disabled) from its addresses, and the reads that show them."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from bounceback.ledger import erasure
from bounceback.ledger import tables as t
from bounceback.ledger.addresses import by_email, normalise, reset_values, valid_email
from bounceback.ledger.campaigns import campaign_id
from bounceback.ledger.contact_flags import sync_contacts
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.paging import Key, ends_with_pattern, like_pattern, newest_first, page
from bounceback.ledger.policy import policy_steps
from bounceback.ledger.sends import insert_send
from bounceback.ledger.store import ImportResult, LedgerError, Store
from bounceback.ledger.suppression import any_suppressed

KINDS = ("contact", "company", "lead")
ERASED_HINT = "suppressed; `bounceback suppression remove` first if they asked to come back"


# --- writes -------------------------------------------------------------------------------
def add_contact(store: Store, email: str, name: str = "", kind: str = "contact") -> int:
    """Add a contact with one address; returns the address id."""
    email = normalise(email)
    if not valid_email(email):
        raise LedgerError(f"not an email address: {email!r}")
    if kind not in KINDS:
        raise LedgerError(f"kind must be one of {', '.join(KINDS)}")
    with store.write() as conn:
        if by_email(conn, email, current_only=True) is not None:
            raise LedgerError(f"{email} already belongs to a contact")
        if erasure.is_erased(conn, email):
            raise LedgerError(f"{email} was erased ({ERASED_HINT})")
        return insert_contact(conn, email, name, kind)


def insert_contact(conn: Connection, email: str, name: str, kind: str) -> int:
    cid = conn.execute(
        insert(t.contacts).values(kind=kind, name=name).returning(t.contacts.c.id)
    ).scalar_one()
    return int(
        conn.execute(
            insert(t.addresses)
            .values(contact_id=cid, email=email, bounce_counts={})
            .returning(t.addresses.c.id)
        ).scalar_one()
    )


def import_contacts(store: Store, text: str) -> ImportResult:
    """CSV with a header: email (required), name, kind, campaign. Bad rows by line."""
    result = ImportResult()
    rows, errors = read_csv(text, required=("email",))
    result.errors.extend(errors)
    with store.write() as conn:
        campaigns: dict[str, int] = {}
        for line, row in rows:
            email = normalise(row.get("email", ""))
            kind = (row.get("kind") or "contact").strip().lower()
            if not valid_email(email):
                result.errors.append(f"line {line}: not an email address: {email!r}")
                continue
            if kind not in KINDS:
                result.errors.append(f"line {line}: kind must be one of {', '.join(KINDS)}")
                continue
            name = (row.get("name") or "").strip()
            found = by_email(conn, email, current_only=True)
            if found is None and erasure.is_erased(conn, email):
                result.errors.append(f"line {line}: {email} was erased ({ERASED_HINT})")
                continue
            if found is None:
                aid = insert_contact(conn, email, name, kind)
                result.imported += 1
            else:
                aid = found["id"]
                conn.execute(
                    update(t.contacts)
                    .where(t.contacts.c.id == found["contact_id"])
                    .values(name=name or t.contacts.c.name, kind=kind)
                )
                result.updated += 1
            campaign = (row.get("campaign") or "").strip()
            if campaign:
                if campaign not in campaigns:
                    campaigns[campaign] = campaign_id(conn, campaign, create=True)
                # The contact was mailed in this campaign: a send without a Message-ID,
                # so recipient matching links its bounces to the campaign. Once only,
                # so importing the same file again changes nothing.
                sd = t.sends.c
                logged = conn.execute(
                    select(sd.id).where(
                        sd.address_id == aid,
                        sd.campaign_id == campaigns[campaign],
                        sd.message_id.is_(None),
                    )
                ).first()
                if logged is None:
                    insert_send(conn, email, campaigns[campaign], aid)
    return result


def set_email(store: Store, old: str, new: str) -> None:
    """A new address for the contact: counts start over, bulk mail back, history kept."""
    old, new = normalise(old), normalise(new)
    if not valid_email(new):
        raise LedgerError(f"not an email address: {new!r}")
    with store.write() as conn:
        address = by_email(conn, old)
        if address is None:
            raise LedgerError(f"no contact has the address {old}")
        taken = by_email(conn, new, current_only=True)
        if taken is not None and taken["id"] != address["id"]:
            raise LedgerError(f"{new} already belongs to another contact")
        if erasure.is_erased(conn, new):
            raise LedgerError(f"{new} was erased ({ERASED_HINT})")
        if address["email"] and address["email"] != new:
            conn.execute(
                update(t.addresses)
                .where(t.addresses.c.id == address["id"])
                .values(bounced_address=address["email"] if address["bounced"] else None)
            )
        conn.execute(
            update(t.addresses)
            .where(t.addresses.c.id == address["id"])
            .values(email=new, **reset_values(utcnow()))
        )
        sync_contacts(conn, [address["contact_id"]], store.config.policy)


def read_csv(
    text: str, required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows with their line numbers (the header is line 1) and the errors found."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [r for r in required if r not in fields]
    if missing:
        return [], [f"line 1: the header lacks {', '.join(missing)}"]
    reader.fieldnames = fields
    rows = []
    errors = []
    for record in reader:
        line = reader.line_num
        if None in record:
            errors.append(f"line {line}: more fields than the header")
            continue
        if any(v is None for v in record.values()):
            errors.append(f"line {line}: fewer fields than the header")
            continue
        rows.append((line, {k: v for k, v in record.items() if k}))
    return rows, errors


# --- reads --------------------------------------------------------------------------------
def contact_view(store: Store, email: str, history_limit: int = 100) -> dict[str, Any] | None:
    """Status, flags, counts, bounced address and history (newest first)."""
    email = normalise(email)
    with store.read() as conn:
        address = by_email(conn, email)
        if address is None:
            return None
        contact = (
            conn.execute(select(t.contacts).where(t.contacts.c.id == address["contact_id"]))
            .mappings()
            .one()
        )
        e = t.events.c
        history = (
            conn.execute(
                select(t.events)
                .where(e.address_id == address["id"])
                .order_by(e.occurred_at.desc(), e.id.desc())
                .limit(history_limit)
            )
            .mappings()
            .all()
        )
        # The address in use; a removed one is judged by the address it had.
        suppressed = any_suppressed(conn, [address["email"] or address["bounced_address"]])
    return {
        "contact_id": contact["id"],
        "name": contact["name"],
        "kind": contact["kind"],
        "bulk_mail": contact["bulk_mail"],
        "disabled": contact["disabled"],
        "email": address["email"],
        "bounced_address": address["bounced_address"],
        "bounced": address["bounced"],
        "on_hold": address["on_hold"],
        "hold_since": iso(address["hold_since"]),
        "hold_type": address["hold_type"],
        "suppressed": suppressed,
        "bounce_counts": dict(address["bounce_counts"] or {}),
        "consecutive_bounces": address["consecutive_bounces"],
        "history": [_history_item(h) for h in history],
    }


def _history_item(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["occurred_at"]),
        "email": row["email"],
        "kind": row["kind"],
        "reason": row["reason"],
        "bounce_type": row["bounce_type"],
        "hardbounce": row["hardbounce"],
        "status": row["status"],
        "diagnostic": row["diagnostic"],
        "source": row["source"],
        "match_method": row["match_method"],
        "rule": row["rule"],
        "effects": row["effects"] or {},
        "undone": row["undone_at"] is not None,
    }


@dataclass(slots=True)
class ContactFilters:
    on_hold: bool | None = None
    bounced: bool | None = None
    kind: str | None = None


def search_contacts(
    store: Store, q: str, filters: ContactFilters, limit: int, after: Key | None = None
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
        rows = address_rows(
            store, [or_(a.email == q, a.bounced_address == q), *common], [a.id], limit
        )
        if rows:
            return _contact_page(rows, limit)
    if q.startswith("@") and len(q) > 1:
        pattern = ends_with_pattern(q)
        common.append(
            or_(a.email.like(pattern, escape="\\"), a.bounced_address.like(pattern, escape="\\"))
        )
    elif q:
        pattern = like_pattern(q)
        common.append(
            or_(
                a.email.like(pattern, escape="\\"),
                a.bounced_address.like(pattern, escape="\\"),
                func.lower(c.name).like(pattern, escape="\\"),
            )
        )
    return _contact_page(address_rows(store, common, [a.id], limit), limit)


def address_rows(
    store: Store, where: list[ColumnElement[bool]], order: list[Any], limit: int
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
    with store.read() as conn:
        rows: Sequence[Any] = conn.execute(stmt).all()
    return rows


def _contact_page(rows: Sequence[Any], limit: int) -> tuple[list[dict[str, Any]], Key | None]:
    shown, key = page(rows, limit, lambda r: (r.id,))
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
        for r in shown
    ], key


def contact_timeline(
    store: Store, email: str, limit: int = 100, after: Key | None = None
) -> tuple[dict[str, Any], Key | None] | None:
    """The "why" timeline of the contact owning ``email`` (current or bounced address):
    each event newest first with the address at the time, the reason, the rule that
    decided and the policy steps it triggered. None when no contact has the address."""
    email = normalise(email)
    a, e, c = t.addresses.c, t.events.c, t.campaigns.c
    with store.read() as conn:
        address = by_email(conn, email)
        if address is None:
            return None
        cid = address["contact_id"]
        # The contact's addresses as values, not a subquery: PostgreSQL can then OR the
        # two indexes; with the subquery it walked every event newest first (issue 14).
        mine = list(conn.execute(select(a.id).where(a.contact_id == cid)).scalars())
        where: list[ColumnElement[bool]] = [or_(e.contact_id == cid, e.address_id.in_(mine))]
        if (seek := newest_first(e.occurred_at, e.id, after)) is not None:
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
    shown, key = page(rows, limit, lambda r: (r.occurred_at, r.id))
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
        for r in shown
    ]
    return {
        "contact_id": cid,
        "email": address["email"],
        "bounced_address": address["bounced_address"],
        "last_reset_at": iso(address["reset_at"]),
        "events": events,
    }, key


def contact_activities(
    store: Store, email: str, limit: int, after: Key | None = None
) -> tuple[dict[str, Any], Key | None] | None:
    """The activities filed on the contact owning ``email`` (current or bounced address),
    newest first; ``after`` = [date, id]. None when no contact has the address."""
    act = t.activities.c
    with store.read() as conn:
        address = by_email(conn, normalise(email))
        if address is None:
            return None
        cid = address["contact_id"]
        where: list[ColumnElement[bool]] = [act.contact_id == cid]
        if (seek := newest_first(act.date, act.id, after)) is not None:
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
    shown, key = page(rows, limit, lambda r: (r.date, r.id))
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
            for r in shown
        ],
    }, key
