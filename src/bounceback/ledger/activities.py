"""Human replies filed as activities on the contacts named in From, To and Cc.

A reply is a message the engine calls ``not_bounce`` (auto-replies are ``autoreply``
and stay Away bounces). It is filed on every contact whose address appears in
From/To/Cc; when none has the From address, a contact is created for the sender
so no reply is lost. The raw bytes stay on the ``messages`` row (zlib).
"""

from __future__ import annotations

import datetime as dt
import email.utils
from dataclasses import dataclass, field
from email.header import decode_header, make_header
from email.message import Message
from typing import Any

from sqlalchemy import Connection, Engine, select

from bounceback.ledger import tables as t
from bounceback.ledger.erasure import is_erased
from bounceback.ledger.lookup import chunks
from bounceback.ledger.models import utcnow

# Defined with the records (sources name it too); imported from here as well.
from bounceback.model import PURPOSES as PURPOSES
from bounceback.model import Purpose as Purpose
from bounceback.parse.mail import Mail

BODY_LIMIT = 100_000  # characters of decoded text kept; the raw message has the rest


@dataclass(slots=True)
class Reply:
    """What an activity needs from the message, read once."""

    subject: str
    sender: str
    sender_name: str
    date: dt.datetime | None
    message_id: str
    body: str
    addresses: list[str] = field(default_factory=list)  # From, To, Cc: lowercase, unique
    automated: bool = False  # says it was sent by a program (RFC 3834, list or bulk mail)


_MACHINE_PRECEDENCE = ("bulk", "list", "junk")


def _automated(msg: Message) -> bool:
    """A machine's mail that the engine did not take for a bounce: not a person's reply."""
    submitted = str(msg.get("auto-submitted") or "").strip().lower()
    if submitted and not submitted.startswith("no"):
        return True
    if str(msg.get("precedence") or "").strip().lower() in _MACHINE_PRECEDENCE:
        return True
    return msg.get("list-id") is not None or msg.get("list-unsubscribe") is not None


def _decode(value: str) -> str:
    try:
        return str(make_header(decode_header(value)))
    except (ValueError, LookupError, UnicodeError):
        return value


def read_reply(data: bytes) -> Reply:
    mail = Mail.from_bytes(data)
    msg = mail.msg
    pairs = email.utils.getaddresses(
        [str(v) for name in ("from", "to", "cc") for v in (msg.get_all(name) or [])]
    )
    addresses: list[str] = []
    for _, addr in pairs:
        addr = addr.strip().lower()
        if "@" in addr and addr not in addresses:
            addresses.append(addr)
    senders = email.utils.getaddresses([str(v) for v in msg.get_all("from") or []])
    name, sender = senders[0] if senders else ("", "")
    date = None
    raw_date = msg.get("date")
    if raw_date:
        try:
            date = email.utils.parsedate_to_datetime(str(raw_date))
        except (TypeError, ValueError, IndexError):
            date = None
    return Reply(
        subject=_decode(str(msg.get("subject") or "")).strip(),
        sender=sender.strip().lower(),
        sender_name=_decode(name).strip(),
        date=date,
        message_id=str(msg.get("message-id") or "").strip(),
        body=mail.text[:BODY_LIMIT],
        addresses=addresses,
        automated=_automated(msg),
    )


def _naive(value: dt.datetime | None) -> dt.datetime:
    if value is None:
        return utcnow()
    if value.tzinfo is not None:
        return value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def _contacts_by_address(conn: Connection, emails: set[str]) -> dict[str, int]:
    a = t.addresses.c
    found: dict[str, int] = {}
    for batch in chunks(emails):
        rows = conn.execute(
            select(a.email, a.contact_id).where(a.email.in_(batch)).order_by(a.id)
        ).all()
        for row in rows:
            found.setdefault(str(row.email), int(row.contact_id))
    return found


def _create_contact(conn: Connection, email_: str, name: str) -> int:
    contact_id = int(
        conn.execute(
            t.contacts.insert()
            .values(t.clip(t.contacts, {"kind": "contact", "name": name, "created_at": utcnow()}))
            .returning(t.contacts.c.id)
        ).scalar_one()
    )
    conn.execute(t.addresses.insert().values(contact_id=contact_id, email=email_))
    return contact_id


def file_replies(conn: Connection, replies: list[tuple[int, str, Reply]]) -> int:
    """File (message row id, idempotency key, reply) triples; returns activities added.

    Runs in the caller's transaction, after the message rows were claimed: a message
    processed twice is a duplicate and never reaches here again.
    """
    wanted = {addr for _, _, r in replies for addr in r.addresses}
    known = _contacts_by_address(conn, wanted)
    rows: list[dict[str, Any]] = []
    for message_id, key, reply in replies:
        if reply.sender and "@" in reply.sender and reply.sender not in known:
            if is_erased(conn, reply.sender):  # an erased person is not made a contact again
                continue
            known[reply.sender] = _create_contact(conn, reply.sender, reply.sender_name)
        contact_ids = sorted({known[a] for a in reply.addresses if a in known})
        for contact_id in contact_ids:
            rows.append(
                t.clip(
                    t.activities,
                    {
                        "contact_id": contact_id,
                        "message_id": message_id,
                        "message_key": key,
                        "header_message_id": reply.message_id,
                        "subject": reply.subject,
                        "sender": reply.sender,
                        "sender_name": reply.sender_name,
                        "date": _naive(reply.date),
                        "body": reply.body,
                        "created_at": utcnow(),
                    },
                )
            )
    if rows:
        conn.execute(t.activities.insert(), rows)
    return len(rows)


def list_activities(engine: Engine, email_: str, limit: int = 100) -> list[dict[str, Any]] | None:
    """The activities of the contact with this address, newest first; None: no such contact."""
    a, act = t.addresses.c, t.activities.c
    wanted = email_.strip().lower()
    with engine.connect() as conn:
        contact_id = conn.execute(
            select(a.contact_id)
            .where((a.email == wanted) | (a.bounced_address == wanted))
            .order_by(a.id)
            .limit(1)
        ).scalar()
        if contact_id is None:
            return None
        rows = conn.execute(
            select(t.activities)
            .where(act.contact_id == contact_id)
            .order_by(act.date.desc(), act.id.desc())
            .limit(limit)
        ).mappings()
        return [
            {
                "id": row["id"],
                "contact_id": row["contact_id"],
                "message_id": row["message_id"],
                "message_key": row["message_key"],
                "header_message_id": row["header_message_id"],
                "date": row["date"].isoformat(),
                "sender": row["sender"],
                "sender_name": row["sender_name"],
                "subject": row["subject"],
                "body": row["body"],
            }
            for row in rows
        ]
