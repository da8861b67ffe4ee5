"""Webhook tokens kept in the ledger's database (``webhook_tokens``): a token is used
once, by whichever process of those sharing the database sees it first, and a
restart forgets none. Rows are dropped once their timestamp is out of the window."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Engine, delete

from bounceback.ledger import tables as t
from bounceback.ledger.db import dialect_insert


def _naive_utc(when: dt.datetime) -> dt.datetime:
    return when.astimezone(dt.UTC).replace(tzinfo=None) if when.tzinfo else when


class LedgerTokens:
    """A ``mailgun_replay.TokenStore`` on the database; ``provider`` keeps providers apart."""

    def __init__(self, engine: Engine, provider: str) -> None:
        self.engine = engine
        self.provider = provider

    def claim(self, token: str, expires_at: dt.datetime) -> bool:
        c = t.webhook_tokens.c
        now = _naive_utc(dt.datetime.now(dt.UTC))
        with self.engine.begin() as conn:
            conn.execute(delete(t.webhook_tokens).where(c.expires_at < now))
            # The primary key decides between two requests racing with one token.
            # RETURNING, not rowcount: on PostgreSQL (psycopg) this INSERT reports -1.
            inserted = conn.execute(
                dialect_insert(conn, t.webhook_tokens)
                .values(provider=self.provider, token=token, expires_at=_naive_utc(expires_at))
                .on_conflict_do_nothing(index_elements=["provider", "token"])
                .returning(c.token)
            ).first()
            return inserted is not None

    def release(self, token: str) -> None:
        c = t.webhook_tokens.c
        with self.engine.begin() as conn:
            conn.execute(
                delete(t.webhook_tokens).where(c.provider == self.provider, c.token == token)
            )
