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

from bounceback.ledger import users
from bounceback.ledger.models import utcnow
from bounceback.ledger.store import Store
from bounceback.ledger.users import AuthError as AuthError  # raised here too
from bounceback.ledger.users import list_api_keys as list_api_keys
from bounceback.ledger.users import list_users as list_users

SCOPES = ("read", "admin")
ROLES = ("read", "admin")
CACHE_TTL = 10.0  # seconds a verified key is trusted without asking the database
LAST_USED_EVERY = dt.timedelta(minutes=1)
MIN_PASSWORD = 8

_KEY = re.compile(r"^bb_([0-9a-f]{8})_[A-Za-z0-9_-]{16,128}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,254}$")

# scrypt cost: n=2**14, r=8, p=1 takes ~50 ms and 16 MiB: slow for a guesser, fine for a login.
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P, _SCRYPT_LEN = 2**14, 8, 1, 32


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


def create_api_key(ledger: Store, name: str, scope: str) -> str:
    """A new key named ``name``; returns the key itself (only its hash is kept)."""
    name = name.strip()
    if not _NAME.match(name):
        raise AuthError(f"bad key name {name!r}: letters, digits, space and ._@- only")
    if scope not in SCOPES:
        raise AuthError(f"scope must be one of {', '.join(SCOPES)}")
    prefix = secrets.token_hex(4)
    token = f"bb_{prefix}_{secrets.token_urlsafe(32)}"
    users.add_api_key(ledger, name, prefix, _hash(token), scope)
    return token


def verify_api_key(ledger: Store, token: str) -> str | None:
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
        users.touch_api_key(ledger, found.key_id, wall)
    return found.scope


def cached_scope(ledger: Store, token: str) -> str | None:
    """The scope when ``verify_api_key`` would answer it from the cache without any query
    or write; None means "ask ``verify_api_key``" (perhaps in a thread), not "refused"."""
    found = _cache.get((id(ledger.engine), _hash(token)))
    if found is None or found.expires < _clock() or found.used_at is None:
        return None
    if utcnow() - found.used_at >= LAST_USED_EVERY:
        return None
    return found.scope


def _load_key(ledger: Store, digest: str, now: float) -> _Cached | None:
    key = users.live_api_key(ledger, digest)
    if key is None:
        return None
    return _Cached(key.scope, key.id, now + CACHE_TTL, key.last_used_at)


def revoke_api_key(ledger: Store, name: str) -> bool:
    """Revoke the key named ``name``; False when there is no such live key."""
    done = users.revoke_api_key(ledger, name)
    clear_cache()
    return done


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


def create_user(ledger: Store, username: str, password: str, role: str = "admin") -> int:
    """A dashboard user; returns its id."""
    username = username.strip()
    if not _NAME.match(username):
        raise AuthError(f"bad username {username!r}: letters, digits and ._@- only")
    _check_new(password, role)
    return users.add_user(ledger, username, hash_password(password), role)


def verify_user(ledger: Store, username: str, password: str) -> str | None:
    """The user's role when the password is right and the user is enabled, else None."""
    found = users.user(ledger, username.strip())
    if found is None:
        check_password(password, _dummy())
        return None
    if not check_password(password, found.password_hash) or found.disabled:
        return None
    users.record_login(ledger, found.id)
    return found.role


def set_password(ledger: Store, username: str, password: str) -> bool:
    """A new password for ``username``; False when there is no such user."""
    _check_new(password, "admin")
    return users.set_password_hash(ledger, username.strip(), hash_password(password))


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
