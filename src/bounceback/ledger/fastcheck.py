"""The suppression check on the API's hot path: one indexed lookup, as cheap as can be.

No ORM, no pool checkout, no statement compiling: a parameterised query the driver
prepares once, on a connection held for the purpose (autocommit: no transaction
left open). SQLite answers in microseconds from the same process, so it runs inline.
PostgreSQL is a network round trip: ``acheck`` awaits it on an asyncio connection
from a small per-loop pool, so the event loop serves other requests meanwhile and
several queries run at once; blocking the loop on a remote database would cap the
server at one round trip at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import threading
import weakref
from typing import Any

from sqlalchemy import Engine, event

from bounceback.ledger.erasure import erased_form, erasure_key

Found = tuple[str, str, str]  # reason, source, since (ISO)
ASYNC_CONNECTIONS = 4  # per event loop: queries in flight at once


class SuppressionLookup:
    def __init__(self, engine: Engine, connections: int = ASYNC_CONNECTIONS) -> None:
        self.engine = engine
        self.remote = engine.dialect.name == "postgresql"
        mark = "?" if engine.dialect.paramstyle == "qmark" else "%s"
        # The address as it is, or its erased form (ledger.erasure): one indexed IN.
        self.sql = f"SELECT reason, source, since FROM suppressions WHERE email IN ({mark}, {mark})"
        self._key: bytes | None = None
        self.connections = connections
        self._local = threading.local()
        self._held: list[Any] = []  # sync (SQLAlchemy-pooled) connections
        self._async: list[Any] = []  # psycopg AsyncConnections, across loops
        self._pools: dict[int, asyncio.Queue[Any]] = {}
        # Connections go back with the engine (Ledger.close), the lookup, or close().
        held, live = self._held, self._async
        event.listen(engine, "engine_disposed", lambda _engine: _close_all(held, live))
        weakref.finalize(self, _close_all, held, live)

    def close(self) -> None:
        _close_all(self._held, self._async)
        self._local = threading.local()
        self._pools = {}

    # --- inline (SQLite; any database from a plain thread) ----------------------------
    def _connection(self) -> Any:
        conn: Any = getattr(self._local, "conn", None)
        if conn is None:
            conn = self.engine.raw_connection()
            if self.remote:
                conn.driver_connection.autocommit = True
            self._local.conn = conn
            self._held.append(conn)
        return conn

    def _params(self, email: str) -> tuple[str, str]:
        if self._key is None:  # once: the installation's key never changes
            with self.engine.begin() as conn:
                self._key = erasure_key(conn)
        return email, erased_form(self._key, email)

    def check(self, email: str) -> Found | None:
        """(reason, source, since) when ``email`` (normalised) is suppressed."""
        params = self._params(email)
        for attempt in (1, 2):
            conn = self._connection()
            try:
                cur = conn.cursor()
                cur.execute(self.sql, params)
                rows = cur.fetchall()  # all: a half-read SQLite cursor pins its snapshot
                cur.close()
                break
            except Exception:
                # A dropped connection (server restart): a fresh one, once.
                self._local.conn = None
                if conn in self._held:
                    self._held.remove(conn)
                if conn.is_valid:  # one closed by engine_disposed is already gone
                    conn.invalidate()
                if attempt == 2:
                    raise
        return _found(rows)

    # --- awaited (PostgreSQL) ---------------------------------------------------------
    async def acheck(self, email: str) -> Found | None:
        """``check`` for an event loop: awaited on PostgreSQL, inline on SQLite."""
        if not self.remote:
            return self.check(email)
        params = self._params(email)
        pool = self._pool()
        cur = await pool.get()  # a cursor kept with its connection, reused
        try:
            for attempt in (1, 2):
                if cur is None or cur.connection.closed:
                    cur = (await self._connect()).cursor()
                try:
                    await cur.execute(self.sql, params, prepare=True)
                    rows = await cur.fetchall()
                    break
                except Exception:
                    conn = cur.connection
                    with contextlib.suppress(Exception):
                        await conn.close()
                    if conn in self._async:
                        self._async.remove(conn)
                    cur = None
                    if attempt == 2:
                        raise
        finally:
            pool.put_nowait(cur)
        return _found(rows)

    def _pool(self) -> asyncio.Queue[Any]:
        loop = asyncio.get_running_loop()
        pool = self._pools.get(id(loop))
        if pool is None:
            pool = self._pools[id(loop)] = asyncio.Queue()
            for _ in range(self.connections):
                pool.put_nowait(None)  # connected on first use
        return pool

    async def _connect(self) -> Any:
        import psycopg

        url = self.engine.url.set(drivername="postgresql")
        conn = await psycopg.AsyncConnection.connect(
            url.render_as_string(hide_password=False), autocommit=True, connect_timeout=10
        )
        self._async.append(conn)
        return conn


def _found(rows: list[Any]) -> Found | None:
    if not rows:
        return None
    reason, source, since = rows[0]
    # SQLite hands back its stored text: the same ISO form as everywhere else.
    if not isinstance(since, dt.datetime):
        since = dt.datetime.fromisoformat(str(since))
    return str(reason), str(source), since.isoformat()


def _close_all(held: list[Any], live: list[Any]) -> None:
    # A connection already gone with its server has nothing to give back.
    while held:
        conn = held.pop()
        # Invalidate, not close: closing would hand it back to a pool the engine may
        # just have discarded, where nothing would ever close it.
        if conn.is_valid:
            with contextlib.suppress(Exception):
                conn.invalidate()
    while live:
        aconn = live.pop()
        with contextlib.suppress(Exception):
            aconn.pgconn.finish()  # sync: the loop that owned it may be gone
