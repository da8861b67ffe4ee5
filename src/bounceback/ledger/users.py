"""Dashboard users, API keys and sessions as stored: the rows behind ``web.auth`` and
``web.session``, which keep the hashing, caching and cookies (no SQL in ``web/``)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from bounceback.ledger import tables as t
from bounceback.ledger.db import LedgerUnavailable, dialect_insert
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.store import LedgerError, Store

SECRET_SETTING = "http.session_secret"


class AuthError(LedgerError):
    """A key or user request refused (bad name, unknown scope, name taken...)."""


# --- API keys -----------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredKey:
    id: int
    scope: str
    last_used_at: dt.datetime | None


def add_api_key(store: Store, name: str, prefix: str, key_hash: str, scope: str) -> None:
    try:
        with store.write() as conn:
            conn.execute(
                insert(t.api_keys).values(name=name, prefix=prefix, key_hash=key_hash, scope=scope)
            )
    except IntegrityError as exc:
        raise AuthError(f"an API key named {name!r} exists") from exc


def live_api_key(store: Store, key_hash: str) -> StoredKey | None:
    """The key with this hash, unless unknown or revoked."""
    k = t.api_keys.c
    with store.read() as conn:
        row = conn.execute(
            select(k.id, k.scope, k.last_used_at, k.revoked_at).where(k.key_hash == key_hash)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return StoredKey(int(row.id), str(row.scope), row.last_used_at)


def api_key_name(store: Store, prefix: str) -> str | None:
    """The name of the key whose token starts bb_<prefix>_ (who acted, for a record)."""
    k = t.api_keys.c
    with store.read() as conn:
        name = conn.execute(select(k.name).where(k.prefix == prefix)).scalar()
    return str(name) if name is not None else None


def touch_api_key(store: Store, key_id: int, when: dt.datetime) -> None:
    """Record use; a busy database only delays the record, it never fails the request."""
    try:
        with store.write() as conn:
            conn.execute(
                update(t.api_keys).where(t.api_keys.c.id == key_id).values(last_used_at=when)
            )
    except (DBAPIError, LedgerUnavailable):
        pass


def list_api_keys(store: Store) -> list[dict[str, Any]]:
    k = t.api_keys.c
    with store.read() as conn:
        rows = conn.execute(select(t.api_keys).order_by(k.name)).mappings().all()
    return [
        {
            "name": r["name"],
            "prefix": f"bb_{r['prefix']}_",
            "scope": r["scope"],
            "created_at": iso(r["created_at"]),
            "last_used_at": iso(r["last_used_at"]),
            "revoked_at": iso(r["revoked_at"]),
        }
        for r in rows
    ]


def revoke_api_key(store: Store, name: str) -> bool:
    """Revoke the key named ``name``; False when there is no such live key."""
    k = t.api_keys.c
    with store.write() as conn:
        done = conn.execute(
            update(t.api_keys)
            .where(k.name == name.strip(), k.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    return bool(done.rowcount)


# --- users --------------------------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class StoredUser:
    id: int
    password_hash: str
    role: str
    disabled: bool


def add_user(store: Store, username: str, password_hash: str, role: str) -> int:
    try:
        with store.write() as conn:
            return int(
                conn.execute(
                    insert(t.users)
                    .values(username=username, password_hash=password_hash, role=role)
                    .returning(t.users.c.id)
                ).scalar_one()
            )
    except IntegrityError as exc:
        raise AuthError(f"a user named {username!r} exists") from exc


def user(store: Store, username: str) -> StoredUser | None:
    u = t.users.c
    with store.read() as conn:
        row = conn.execute(
            select(u.id, u.password_hash, u.role, u.disabled).where(u.username == username)
        ).first()
    if row is None:
        return None
    return StoredUser(int(row.id), str(row.password_hash), str(row.role), bool(row.disabled))


def record_login(store: Store, user_id: int) -> None:
    """When the user last logged in; a busy database only loses the record."""
    try:
        with store.write() as conn:
            conn.execute(
                update(t.users).where(t.users.c.id == user_id).values(last_login_at=utcnow())
            )
    except (DBAPIError, LedgerUnavailable):
        pass


def set_password_hash(store: Store, username: str, password_hash: str) -> bool:
    """False when there is no such user."""
    with store.write() as conn:
        done = conn.execute(
            update(t.users)
            .where(t.users.c.username == username)
            .values(password_hash=password_hash)
        )
    return bool(done.rowcount)


def list_users(store: Store) -> list[dict[str, Any]]:
    u = t.users.c
    with store.read() as conn:
        rows = conn.execute(select(t.users).order_by(u.username)).mappings().all()
    return [
        {
            "username": r["username"],
            "role": r["role"],
            "disabled": r["disabled"],
            "created_at": iso(r["created_at"]),
            "last_login_at": iso(r["last_login_at"]),
        }
        for r in rows
    ]


# --- sessions -----------------------------------------------------------------------------
def session_secret(store: Store) -> str:
    """The stored cookie secret; the first process to ask stores a new one."""
    with store.write() as conn:
        # Insert-if-absent then read: two processes starting together agree on one secret.
        conn.execute(
            dialect_insert(conn, t.settings)
            .values(key=SECRET_SETTING, value=secrets.token_urlsafe(48))
            .on_conflict_do_nothing(index_elements=["key"])
        )
        value = conn.execute(
            select(t.settings.c.value).where(t.settings.c.key == SECRET_SETTING)
        ).scalar_one()
    return str(value)


def session_user(store: Store, username: str, sid: str) -> StoredUser | None:
    """The enabled user of a session that did not log out, else None."""
    u, r = t.users.c, t.revoked_sessions.c
    revoked = select(r.sid).where(r.sid == sid).exists()
    with store.read() as conn:
        row = conn.execute(
            select(u.id, u.role, u.password_hash, u.disabled, revoked.label("revoked")).where(
                u.username == username
            )
        ).first()
    if row is None or row.disabled or row.revoked:
        return None
    return StoredUser(int(row.id), str(row.password_hash), str(row.role), False)


def revoke_session(store: Store, sid: str, username: str, expires_at: dt.datetime) -> None:
    """Refuse this session from now on; rows of sessions that expired anyway are dropped."""
    r = t.revoked_sessions.c
    with store.write() as conn:
        conn.execute(delete(t.revoked_sessions).where(r.expires_at < utcnow()))
        conn.execute(
            dialect_insert(conn, t.revoked_sessions)
            .values(sid=sid, username=username[:255], expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=["sid"])
        )
