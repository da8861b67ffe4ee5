"""API keys and dashboard users.

An API key reads ``bb_<8 hex prefix>_<secret>``; only its SHA-256 is stored. The prefix
is shown in lists so a key can be recognised without revealing it. Verifying a key is on
every request's path: a small in-process cache (hash → scope, a few seconds) keeps it to
one dict lookup; revoking through this module clears the cache at once, other processes
see a revocation within ``CACHE_TTL`` seconds. ``last_used_at`` is written at most once a
minute per key, never on every request.

Passwords: scrypt with a random salt, stored as ``scrypt$n$r$p$salt$hash`` (base64),
compared in constant time.

Contract used by others:
- create_api_key(ledger, name, scope) -> str   (the key, shown once; scope "read" | "admin")
- verify_api_key(ledger, token) -> str | None   (the scope, or None)
- create_user(ledger, username, password, role="admin") -> int
- verify_user(ledger, username, password) -> str | None   (the role, or None)
"""

from __future__ import annotations

import base64
import datetime as dt
import functools
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from bounceback.ledger import tables as t
from bounceback.ledger.db import LedgerUnavailable
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.service import Ledger, LedgerError

SCOPES = ("read", "admin")
ROLES = ("read", "admin")
CACHE_TTL = 10.0  # seconds a verified key is trusted without asking the database
LAST_USED_EVERY = dt.timedelta(minutes=1)
MIN_PASSWORD = 8

_KEY = re.compile(r"^bb_([0-9a-f]{8})_[A-Za-z0-9_-]{16,128}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,254}$")

# scrypt cost: n=2**14, r=8, p=1 takes ~50 ms and 16 MiB: slow for a guesser, fine for a login.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


class AuthError(LedgerError):
    """A key or user request refused (bad name, unknown scope, name taken...)."""


# --- API keys -------------------------------------------------------------------------
@dataclass(slots=True)
class _Cached:
    scope: str
    key_id: int
    expires: float  # time.monotonic()
    used_at: dt.datetime | None  # last_used_at as last written (or read)


_clock = time.monotonic  # a seam for tests of the TTL
_cache: dict[tuple[int, str], _Cached] = {}
_cache_lock = threading.Lock()


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def clear_cache() -> None:
    """Forget every verified key (after a revocation)."""
    with _cache_lock:
        _cache.clear()


def create_api_key(ledger: Ledger, name: str, scope: str) -> str:
    """A new key named ``name``; returns the key itself (only its hash is kept)."""
    name = name.strip()
    if not _NAME.match(name):
        raise AuthError(f"bad key name {name!r}: letters, digits, space and ._@- only")
    if scope not in SCOPES:
        raise AuthError(f"scope must be one of {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    token = f"bb_{prefix}_{secrets.token_urlsafe(32)}"
    try:
        with ledger._write() as conn:
            conn.execute(
                insert(t.api_keys).values(
                    name=name, prefix=prefix, key_hash=_hash(token), scope=scope
                )
            )
    except IntegrityError as exc:
        raise AuthError(f"an API key named {name!r} exists") from exc
    return token


def verify_api_key(ledger: Ledger, token: str) -> str | None:
    """The key's scope, or None for a malformed, unknown or revoked key."""
    if not _KEY.match(token):
        return None  # no database query for garbage
    digest = _hash(token)
    cache_key = (id(ledger.engine), digest)
    now = _clock()
    found = _cache.get(cache_key)
    if found is None or found.expires < now:
        found = _load_key(ledger, digest, now)
        with _cache_lock:
            if found is None:
                _cache.pop(cache_key, None)
                return None
            _cache[cache_key] = found
    wall = utcnow()
    if found.used_at is None or wall - found.used_at >= LAST_USED_EVERY:
        found.used_at = wall  # first, so concurrent requests do not all write
        _touch(ledger, found.key_id, wall)
    return found.scope


def cached_scope(ledger: Ledger, token: str) -> str | None:
    """The scope when ``verify_api_key`` would answer it from the cache without any query
    or write; None means "ask ``verify_api_key``" (perhaps in a thread), not "refused"."""
    found = _cache.get((id(ledger.engine), _hash(token)))
    if found is None or found.expires < _clock() or found.used_at is None:
        return None
    if utcnow() - found.used_at >= LAST_USED_EVERY:
        return None
    return found.scope


def _load_key(ledger: Ledger, digest: str, now: float) -> _Cached | None:
    k = t.api_keys.c
    with ledger._read() as conn:
        row = conn.execute(
            select(k.id, k.scope, k.last_used_at, k.revoked_at).where(k.key_hash == digest)
        ).first()
    if row is None or row.revoked_at is not None:
        return None
    return _Cached(row.scope, int(row.id), now + CACHE_TTL, row.last_used_at)


def _touch(ledger: Ledger, key_id: int, when: dt.datetime) -> None:
    """Record use; a busy database only delays the record, it never fails the request."""
    try:
        with ledger._write() as conn:
            conn.execute(
                update(t.api_keys).where(t.api_keys.c.id == key_id).values(last_used_at=when)
            )
    except (DBAPIError, LedgerUnavailable):
        pass


def list_api_keys(ledger: Ledger) -> list[dict[str, Any]]:
    k = t.api_keys.c
    with ledger._read() as conn:
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


def revoke_api_key(ledger: Ledger, name: str) -> bool:
    """Revoke the key named ``name``; False when there is no such live key."""
    k = t.api_keys.c
    with ledger._write() as conn:
        done = conn.execute(
            update(t.api_keys)
            .where(k.name == name.strip(), k.revoked_at.is_(None))
            .values(revoked_at=utcnow())
        )
    clear_cache()
    return bool(done.rowcount)


# --- users ----------------------------------------------------------------------------
def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = _scrypt(password, salt, _SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN)
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${_b64(salt)}${_b64(digest)}"


def check_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        expected = base64.b64decode(digest)
        got = _scrypt(password, base64.b64decode(salt), int(n), int(r), int(p), len(expected))
    except ValueError:
        return False
    return hmac.compare_digest(got, expected)


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int, length: int) -> bytes:
    return hashlib.scrypt(
        password.encode(), salt=salt, n=n, r=r, p=p, dklen=length, maxmem=128 * r * (n + p + 2)
    )


@functools.cache
def _dummy() -> str:
    """Checked against when the user does not exist, so the answer takes as long."""
    return hash_password(secrets.token_urlsafe(12))


def _check_new(password: str, role: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AuthError(f"the password needs at least {MIN_PASSWORD} characters")
    if role not in ROLES:
        raise AuthError(f"role must be one of {', '.join(ROLES)}")


def create_user(ledger: Ledger, username: str, password: str, role: str = "admin") -> int:
    """A dashboard user; returns its id."""
    username = username.strip()
    if not _NAME.match(username):
        raise AuthError(f"bad username {username!r}: letters, digits and ._@- only")
    _check_new(password, role)
    try:
        with ledger._write() as conn:
            return int(
                conn.execute(
                    insert(t.users)
                    .values(username=username, password_hash=hash_password(password), role=role)
                    .returning(t.users.c.id)
                ).scalar_one()
            )
    except IntegrityError as exc:
        raise AuthError(f"a user named {username!r} exists") from exc


def verify_user(ledger: Ledger, username: str, password: str) -> str | None:
    """The user's role when the password is right and the user is enabled, else None."""
    u = t.users.c
    with ledger._read() as conn:
        row = conn.execute(
            select(u.id, u.password_hash, u.role, u.disabled).where(u.username == username.strip())
        ).first()
    if row is None:
        check_password(password, _dummy())
        return None
    if not check_password(password, row.password_hash) or row.disabled:
        return None
    try:
        with ledger._write() as conn:
            conn.execute(update(t.users).where(u.id == row.id).values(last_login_at=utcnow()))
    except (DBAPIError, LedgerUnavailable):
        pass
    return str(row.role)


def set_password(ledger: Ledger, username: str, password: str) -> bool:
    """A new password for ``username``; False when there is no such user."""
    _check_new(password, "admin")
    u = t.users.c
    with ledger._write() as conn:
        done = conn.execute(
            update(t.users)
            .where(u.username == username.strip())
            .values(password_hash=hash_password(password))
        )
    return bool(done.rowcount)


def list_users(ledger: Ledger) -> list[dict[str, Any]]:
    u = t.users.c
    with ledger._read() as conn:
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


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
