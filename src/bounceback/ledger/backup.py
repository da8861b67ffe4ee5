"""``bounceback db backup FILE``: a consistent copy of the ledger while it is in use.

SQLite: the online backup API (``sqlite3.Connection.backup``) in one step, which reads
one snapshot: in WAL mode writers go on meanwhile and the copy is the database as it
was at one commit. The copy is written beside FILE and renamed into place, so FILE is
either absent or whole. PostgreSQL: ``pg_dump --format=custom`` (one snapshot too),
restored with ``pg_restore``; see docs/operations.md, "Backup and restore".
"""

from __future__ import annotations

import contextlib
import os
import shutil
import sqlite3
import subprocess
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy.engine import make_url

PRACTICE = "docs/operations.md, 'Backup and restore'"


class BackupError(RuntimeError):
    """The backup was not made; FILE was left as it was."""


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    backend: str  # sqlite | postgresql
    size: int  # bytes written


def backup(url: str, target: Path, *, busy_timeout_ms: int = 15000) -> BackupResult:
    """Copy the database at ``url`` into ``target`` (which must not exist yet)."""
    parsed = make_url(url)
    if target.exists():
        raise BackupError(f"{target} exists: choose a new file (a backup never overwrites)")
    if not target.parent.is_dir():
        raise BackupError(f"{target.parent} is not a directory")
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        _sqlite(parsed.database or "", target, busy_timeout_ms)
    elif backend == "postgresql":
        _postgresql(url, target)
    else:
        raise BackupError(f"no backup for {backend!r} databases; see {PRACTICE}")
    return BackupResult(target, backend, target.stat().st_size)


def _sqlite(database: str, target: Path, busy_timeout_ms: int) -> None:
    if not database or database == ":memory:":
        raise BackupError("an in-memory database has nothing to back up")
    if not Path(database).is_file():
        raise BackupError(f"no database at {database}")
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        # Read-only: a backup must never change the database it copies.
        source = sqlite3.connect(
            f"file:{Path(database).resolve()}?mode=ro", uri=True, timeout=busy_timeout_ms / 1000
        )
        try:
            copy = sqlite3.connect(partial)
            try:
                source.backup(copy)  # all pages in one step: one snapshot
                ok = copy.execute("PRAGMA quick_check").fetchone()
                if ok is None or ok[0] != "ok":
                    raise BackupError(f"the copy failed its check: {ok}")
            finally:
                copy.close()
        finally:
            source.close()
        os.replace(partial, target)
    except sqlite3.Error as exc:
        raise BackupError(f"the backup failed: {exc}") from exc
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()


def libpq_url(url: str) -> tuple[str, dict[str, str]]:
    """The URL as libpq tools take it (no driver suffix) and the password as an
    environment variable, so it never shows in the process list."""
    parsed = make_url(url)
    env = {"PGPASSWORD": str(parsed.password)} if parsed.password else {}
    plain = parsed.set(drivername="postgresql")._replace(password=None)
    return plain.render_as_string(hide_password=False), env


def _postgresql(url: str, target: Path) -> None:
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            "pg_dump is not on PATH: install the PostgreSQL client tools of the server's "
            f"version (Debian: postgresql-client), or back up as {PRACTICE} describes"
        )
    dsn, env = libpq_url(url)
    partial = target.with_name(target.name + ".partial")
    command = [pg_dump, "--format=custom", "--no-owner", f"--file={partial}", f"--dbname={dsn}"]
    try:
        done = subprocess.run(
            command, env={**os.environ, **env}, capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            detail = (done.stderr or done.stdout).strip().splitlines()
            raise BackupError(f"pg_dump failed: {detail[-1] if detail else done.returncode}")
        os.replace(partial, target)
    finally:
        with contextlib.suppress(OSError):
            partial.unlink()
