"""Campaigns: their status, bounce figures and who may be mailed again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, and_, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bounceback.ledger import tables as t
from bounceback.ledger.campaign_counts import is_closed
from bounceback.ledger.db import dialect_insert
from bounceback.ledger.models import iso
from bounceback.ledger.store import LedgerError, Store


def add_campaign(store: Store, name: str, status: str = "active") -> int:
    with store.write() as conn:
        try:
            with conn.begin_nested():
                return int(
                    conn.execute(
                        insert(t.campaigns)
                        .values(name=name, status=status)
                        .returning(t.campaigns.c.id)
                    ).scalar_one()
                )
        except IntegrityError as exc:
            raise LedgerError(f"a campaign named {name!r} exists") from exc


def campaign_id(conn: Connection, name: str, create: bool = False) -> int:
    """The campaign's id; created (active) when ``create``, else LedgerError if unknown."""
    c = t.campaigns.c
    found = conn.execute(select(c.id).where(c.name == name)).scalar()
    if found is not None:
        return int(found)
    if not create:
        raise LedgerError(f"no campaign named {name!r}")
    stmt = dialect_insert(conn, t.campaigns).on_conflict_do_nothing(index_elements=["name"])
    conn.execute(stmt, [{"name": name, "status": "active"}])
    return int(conn.execute(select(c.id).where(c.name == name)).scalar_one())


def set_campaign_status(store: Store, name: str, status: str) -> None:
    with store.write() as conn:
        cid = campaign_id(conn, name)
        conn.execute(update(t.campaigns).where(t.campaigns.c.id == cid).values(status=status))


def campaign_stats(store: Store, name: str) -> dict[str, Any]:
    with store.read() as conn:
        cid = campaign_id(conn, name)
        row = conn.execute(select(t.campaigns).where(t.campaigns.c.id == cid)).one()
        sent = conn.execute(
            select(func.count()).select_from(t.sends).where(t.sends.c.campaign_id == cid)
        ).scalar_one()
        e = t.events.c
        live = and_(e.campaign_id == cid, e.undone_at.is_(None))
        reasons = conn.execute(
            select(e.reason, func.count()).where(live).group_by(e.reason).order_by(e.reason)
        ).all()
        types = conn.execute(
            select(e.bounce_type, func.count())
            .where(live)
            .group_by(e.bounce_type)
            .order_by(e.bounce_type)
        ).all()
    hard, soft = int(row.hard_bounces), int(row.soft_bounces)
    return {
        "name": row.name,
        "status": row.status,
        "closed": is_closed(row.status, store.config.policy),
        "sent": int(sent),
        "hard_bounces": hard,
        "soft_bounces": soft,
        "bounce_rate": round((hard + soft) / sent, 4) if sent else 0.0,
        "by_reason": {r or "": int(n) for r, n in reasons},
        "by_type": {b or "": int(n) for b, n in types},
    }


def resend_list(store: Store, campaign: str) -> list[dict[str, Any]]:
    """Addresses that soft-bounced in the campaign and may be tried again."""
    e, a, c, s = t.events.c, t.addresses.c, t.contacts.c, t.suppressions.c
    with store.read() as conn:
        cid = campaign_id(conn, campaign)
        hard = select(e.address_id).where(
            e.campaign_id == cid,
            e.hardbounce,
            e.undone_at.is_(None),
            e.address_id.is_not(None),
        )
        # Each address's latest soft bounce in the campaign: its time and reason
        # come from that one bounce.
        latest = (
            select(func.max(e.id))
            .where(
                e.campaign_id == cid,
                e.kind == "bounce",
                ~e.hardbounce,
                e.undone_at.is_(None),
                e.address_id.is_not(None),
            )
            .group_by(e.address_id)
        )
        stmt = (
            select(a.email, c.name, e.occurred_at, e.reason)
            .select_from(t.events)
            .join(t.addresses, a.id == e.address_id)
            .join(t.contacts, c.id == a.contact_id)
            .where(
                e.id.in_(latest),
                a.email.is_not(None),
                ~a.on_hold,
                ~a.bounced,
                ~c.disabled,
                a.id.not_in(hard),
                ~select(s.id).where(s.email == a.email).exists(),
            )
            .order_by(a.email)
        )
        return [
            {"email": r[0], "name": r[1], "last_bounce_at": iso(r[2]), "reason": r[3]}
            for r in conn.execute(stmt)
        ]
