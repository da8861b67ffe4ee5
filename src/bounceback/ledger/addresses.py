"""Email addresses: their normal form, validity, lookup and a cleared bounce state."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Connection, select

from bounceback.ledger import tables as t


def normalise(email: str) -> str:
    return email.strip().strip("<>").strip().lower()


def valid_email(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain and " " not in email and len(email) <= 320)


def by_email(conn: Connection, email: str, current_only: bool = False) -> dict[str, Any] | None:
    """The address row using ``email``; else (unless ``current_only``) the newest one
    that used it before it bounced and was removed."""
    a = t.addresses.c
    row = conn.execute(select(t.addresses).where(a.email == email)).mappings().first()
    if row is None and not current_only:
        row = (
            conn.execute(
                select(t.addresses).where(a.bounced_address == email).order_by(a.id.desc())
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


def free(conn: Connection, email: str | None) -> str | None:
    """``email`` if no address holds it now."""
    if not email:
        return None
    return None if by_email(conn, email, current_only=True) is not None else email


def reset_values(now: dt.datetime) -> dict[str, Any]:
    """An address's bounce state cleared (unhold, a new address): its counts start over."""
    return {
        "bounced": False,
        "on_hold": False,
        "hold_since": None,
        "hold_type": None,
        "bounce_counts": {},
        "consecutive_bounces": 0,
        "reset_at": now,
    }
