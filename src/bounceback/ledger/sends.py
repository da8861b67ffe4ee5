"""The send log: one line per message sent (the matcher links bounces to it)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from bounceback.ledger import tables as t
from bounceback.ledger.addresses import by_email, normalise
from bounceback.ledger.campaigns import campaign_id
from bounceback.ledger.models import iso, naive_utc
from bounceback.ledger.rollups import add_sends
from bounceback.ledger.store import ImportResult, Store
from bounceback.match.send_csv import parse_sends_csv


def record_send(
    store: Store,
    email: str,
    campaign: str | None = None,
    message_id: str | None = None,
    bounceback_id: str | None = None,
    return_path: str | None = None,
    sent_at: dt.datetime | None = None,
) -> int:
    """One line of the send log; returns the send id."""
    email = normalise(email)
    with store.write() as conn:
        cid = campaign_id(conn, campaign, create=True) if campaign else None
        return insert_send(conn, email, cid, None, message_id, bounceback_id, return_path, sent_at)


def set_send_ids(store: Store, send_id: int, bounceback_id: str, return_path: str | None) -> None:
    with store.write() as conn:
        conn.execute(
            update(t.sends)
            .where(t.sends.c.id == send_id)
            .values(bounceback_id=bounceback_id, return_path=return_path)
        )


def insert_send(
    conn: Connection,
    email: str,
    campaign_id: int | None,
    address_id: int | None = None,
    message_id: str | None = None,
    bounceback_id: str | None = None,
    return_path: str | None = None,
    sent_at: dt.datetime | None = None,
) -> int:
    contact_id = None
    if address_id is None:
        found = by_email(conn, email, current_only=True)
        if found is not None:
            address_id, contact_id = found["id"], found["contact_id"]
    else:
        contact_id = conn.execute(
            select(t.addresses.c.contact_id).where(t.addresses.c.id == address_id)
        ).scalar()
    row = t.clip(
        t.sends,
        {
            "email": email,
            "campaign_id": campaign_id,
            "address_id": address_id,
            "contact_id": contact_id,
            "message_id": (message_id or "").strip() or None,
            "bounceback_id": bounceback_id or None,
            "return_path": return_path or None,
            "sent_at": naive_utc(sent_at),
        },
    )
    send_id = int(conn.execute(insert(t.sends).values(row).returning(t.sends.c.id)).scalar_one())
    add_sends(conn, [(row["sent_at"], campaign_id, row["email"])])  # the send_stats rollup
    return send_id


def import_sends(store: Store, text: str) -> ImportResult:
    """A send log from another system (see match.send_csv); bad rows by line."""
    rows, errors = parse_sends_csv(text)
    result = ImportResult(errors=list(errors))
    with store.write() as conn:
        campaigns: dict[str, int] = {}
        for row in rows:
            cid = None
            if row.campaign:
                if row.campaign not in campaigns:
                    campaigns[row.campaign] = campaign_id(conn, row.campaign, True)
                cid = campaigns[row.campaign]
            try:
                with conn.begin_nested():
                    insert_send(
                        conn,
                        normalise(row.email),
                        cid,
                        None,
                        row.message_id,
                        row.bounceback_id,
                        row.return_path,
                        row.sent_at,
                    )
                result.imported += 1
            except IntegrityError:
                result.errors.append(
                    f"{row.email}: bounceback id {row.bounceback_id!r} is already in the log"
                )
    return result


def send_detail(store: Store, send_id: int) -> dict[str, Any] | None:
    sd, c = t.sends.c, t.campaigns.c
    with store.read() as conn:
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
