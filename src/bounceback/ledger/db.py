"""Engines and migrations: SQLite (WAL, foreign keys on) or PostgreSQL through one URL."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, Table, create_engine, event, inspect, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, OperationalError

HEAD = "0009"  # the newest migration; checked cheaply before running Alembic
_MIGRATIONS = Path(__file__).parent / "migrations"
_LOCK_ID = 0x626F756E  # PostgreSQL advisory lock serialising concurrent first-use upgrades


class LedgerUnavailable(RuntimeError):
    """The database cannot be used right now (locked, gone, refused); nothing was written."""


def make_engine(url: str, *, busy_timeout_ms: int = 15000) -> Engine:
    """An engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout.

    ``busy_timeout_ms``: how long to wait for a lock another process holds before
    failing with a clear error (SQLite busy_timeout, PostgreSQL lock_timeout).
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            try:
                Path(database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise LedgerUnavailable(f"the database cannot be used: {database}: {exc}") from exc
        engine = create_engine(url, connect_args={"timeout": busy_timeout_ms / 1000})
        _sqlite_pragmas(engine, busy_timeout_ms)
        return engine
    options = f"-c lock_timeout={int(busy_timeout_ms)}"
    return create_engine(
        url, pool_pre_ping=True, connect_args={"options": options, "connect_timeout": 10}
    )


def _sqlite_pragmas(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        # pysqlite opens transactions lazily; let SQLAlchemy's BEGIN be the one.
        dbapi_conn.isolation_level = None
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        # WAL + NORMAL: a commit survives a process crash; fsync only at checkpoints.
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue instead of
        # one failing half-way with SQLITE_BUSY on lock upgrade.
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Run the Alembic migrations up to ``revision`` (``bounceback db upgrade``)."""
    from alembic import command
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:id)"), {"id": _LOCK_ID})
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def ensure_schema(engine: Engine) -> None:
    """Migrate on first use; a no-op (one query) when the schema is current."""
    from alembic.util import CommandError

    found = None
    try:
        found = current_revision(engine)
        if found != HEAD:
            upgrade(engine)
    except (OperationalError, DBAPIError) as exc:
        raise unavailable(exc) from exc
    except CommandError as exc:  # a revision this release does not know: a newer one's
        raise LedgerUnavailable(
            f"the database is at revision {found}, newer than this bounceback knows "
            f"({HEAD}): run the newer release (docs/operations.md, 'Upgrades')"
        ) from exc


def unavailable(exc: BaseException) -> LedgerUnavailable:
    """A clear message for a database that is locked, gone or refusing."""
    detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
    if "locked" in detail or "busy" in detail:
        return LedgerUnavailable(f"the database is locked by another process: {detail}")
    return LedgerUnavailable(f"the database cannot be used: {detail}")


def dialect_insert(conn: Connection, table: Table) -> Any:
    """An INSERT that can say ON CONFLICT DO NOTHING on either database."""
    if conn.dialect.name == "postgresql":
        return postgresql.insert(table)
    return sqlite.insert(table)
