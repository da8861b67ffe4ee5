"""Mailgun's replay defence: how long a signed request stays acceptable, and the store of
tokens already used (settings and the provider both need them, so they live apart)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from typing import Protocol

__all__ = ["DEFAULT_MAX_AGE", "ReplayGuard", "TokenStore"]

# Mailgun retries a failed delivery for 8 hours, and retries are reported to carry
# the original signature: a shorter window would turn a database outage into lost
# events. Replays inside the window are stopped by the token store.
DEFAULT_MAX_AGE = 9 * 3600.0


class TokenStore(Protocol):
    """Tokens already used. ``claim`` is atomic: of two requests with one token, one
    wins; ``release`` gives a token back when its events could not be stored."""

    def claim(self, token: str, expires_at: dt.datetime) -> bool: ...

    def release(self, token: str) -> None: ...


class ReplayGuard:
    """A TokenStore in memory (bounded): for tests and one-off use. ``serve`` keeps the
    tokens in the database (``ledger.webhook_tokens.LedgerTokens``), so a restart forgets none."""

    def __init__(self, max_tokens: int = 100_000) -> None:
        self.max_tokens = max_tokens
        self._seen: OrderedDict[str, dt.datetime] = OrderedDict()
        self._lock = threading.Lock()

    def claim(self, token: str, expires_at: dt.datetime) -> bool:
        now = dt.datetime.now(dt.UTC)
        with self._lock:
            for old in [t for t, until in self._seen.items() if until < now]:
                del self._seen[old]
            if token in self._seen:
                return False
            self._seen[token] = expires_at
            while len(self._seen) > self.max_tokens:
                self._seen.popitem(last=False)
            return True

    def release(self, token: str) -> None:
        with self._lock:
            self._seen.pop(token, None)
