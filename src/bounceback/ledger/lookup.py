"""The send log as the matcher's ``SendLookup``, batched to avoid a query per bounce.

The matcher is a black box that asks for sends by id, bounceback id, Message-ID or
address. A first pass with ``recording=True`` answers "none" and notes every key
asked for; one query per key kind then loads them all; the second pass answers
from that cache (and queries directly on a miss, which keeps it correct).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from bounceback.ledger import tables as t

_CHUNK = 500  # keep IN lists well under the drivers' parameter limits


@dataclass(frozen=True, slots=True)
class SendRef:
    id: int
    contact_id: int | None
    address_id: int | None
    campaign_id: int | None
    email: str
    sent_at: dt.datetime | None


_COLUMNS = (
    t.sends.c.id,
    t.sends.c.contact_id,
    t.sends.c.address_id,
    t.sends.c.campaign_id,
    t.sends.c.email,
    t.sends.c.sent_at,
    t.sends.c.bounceback_id,
    t.sends.c.message_id,
)


def chunks(values: Iterable[Any]) -> Iterable[list[Any]]:
    batch: list[Any] = []
    for value in values:
        batch.append(value)
        if len(batch) >= _CHUNK:
            yield batch
            batch = []
    if batch:
        yield batch


class BatchLookup:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.recording = False
        self._want: dict[str, set[Any]] = {"id": set(), "bb": set(), "mid": set(), "addr": set()}
        self._cache: dict[str, dict[Any, SendRef | None]] = {k: {} for k in self._want}

    # --- the SendLookup protocol -------------------------------------------------
    def by_id(self, send_id: int) -> SendRef | None:
        return self._get("id", send_id)

    def by_bounceback_id(self, value: str) -> SendRef | None:
        return self._get("bb", value.strip())

    def by_message_id(self, value: str) -> SendRef | None:
        return self._get("mid", value.strip())

    def latest_for_address(self, address: str) -> SendRef | None:
        return self._get("addr", address.strip().lower())

    # --- batching ----------------------------------------------------------------
    def _get(self, kind: str, key: Any) -> SendRef | None:
        if not key:
            return None
        if self.recording:
            self._want[kind].add(key)
            return None
        cache = self._cache[kind]
        if key not in cache:
            self._load(kind, [key])
        return cache.get(key)

    def prefetch(self) -> None:
        """Load everything the recording pass asked for, one query per kind and chunk."""
        for kind, keys in self._want.items():
            missing = [k for k in keys if k not in self._cache[kind]]
            for batch in chunks(missing):
                self._load(kind, batch)
            keys.clear()

    def _load(self, kind: str, keys: list[Any]) -> None:
        column = {
            "id": t.sends.c.id,
            "bb": t.sends.c.bounceback_id,
            "mid": t.sends.c.message_id,
            "addr": t.sends.c.email,
        }[kind]
        cache = self._cache[kind]
        for key in keys:
            cache.setdefault(key, None)
        rows = self.conn.execute(select(*_COLUMNS).where(column.in_(keys))).all()
        key_index = {"id": 0, "bb": 6, "mid": 7, "addr": 4}[kind]
        for row in rows:
            ref = SendRef(row[0], row[1], row[2], row[3], row[4], row[5])
            key = row[key_index]
            if kind == "addr":
                # The latest send to the address wins.
                old = cache.get(key)
                if old is not None and (old.sent_at or dt.datetime.min, old.id) >= (
                    ref.sent_at or dt.datetime.min,
                    ref.id,
                ):
                    continue
            cache[key] = ref
            # The matcher answers with a send id; keep the row for by_id() too.
            self._cache["id"].setdefault(ref.id, ref)
