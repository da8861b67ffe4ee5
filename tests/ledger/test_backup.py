"""``db backup``: a consistent copy while another connection writes, restored and
counted table by table, on SQLite (the online backup API) and on a real PostgreSQL
(pg_dump custom format, pg_restore into a new database of the same server)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import threading
from pathlib import Path

import pytest
from ledger_support import fixture_bytes, make_config
from sqlalchemy import create_engine, func, select
from sqlalchemy.engine import make_url
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.ledger.backup import BackupError, backup, libpq_url
from bounceback.ledger.models import Base
from bounceback.model import RawMessage
from support.pgtemp import ThrowawayPostgres

NAMES = ("lhost-postfix-02.eml", "lhost-exim-02.eml", "arf-01.eml", "reply-human-01.eml")


def fill(ledger: Ledger) -> None:
    ledger.add_contact("userunknown@example.co.jp", "Gone")
    ledger.add_contact("maria.lopez@example.org", "María")
    ledger.record_send("userunknown@example.co.jp", campaign="spring")
    raws = [(n, RawMessage(data=fixture_bytes(n), source="test")) for n in NAMES]
    list(ledger.process(raws, purpose="both"))


def counts(url: str) -> dict[str, int]:
    """Rows in every table of the ledger's schema."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return {
                table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
                for table in Base.metadata.sorted_tables
            }
    finally:
        engine.dispose()


def test_sqlite_backup_is_one_snapshot_while_a_writer_runs(
    ledger: Ledger, db_url: str, tmp_path: Path
) -> None:
    if not db_url.startswith("sqlite"):
        pytest.skip("SQLite's online backup (PostgreSQL: the pg_dump test)")
    fill(ledger)
    stop, under_way = threading.Event(), threading.Event()
    written = [0]

    def writer() -> None:  # a contact and its address per transaction, as serve adds them
        while not stop.is_set():
            ledger.add_contact(f"new{written[0]}@example.net")
            written[0] += 1
            if written[0] == 20:
                under_way.set()

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        assert under_way.wait(timeout=120)  # the writer is under way before the copy starts
        copies = [backup(db_url, tmp_path / f"copy{n}.db") for n in range(3)]
    finally:
        stop.set()
        thread.join()
    assert written[0] > 20
    for result in copies:
        assert result.backend == "sqlite" and result.size > 0
        copy = counts(f"sqlite:///{result.path}")
        # One commit boundary: every contact has its address, ids without a gap.
        assert copy["contacts"] == copy["email_addresses"] >= 22
        with sqlite3.connect(result.path) as conn:
            ids = [r[0] for r in conn.execute("SELECT id FROM contacts ORDER BY id")]
            assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert ids == list(range(1, len(ids) + 1))
    # At rest, the copy holds every row of every table, and opens as a ledger.
    final = backup(db_url, tmp_path / "final.db")
    restored_url = f"sqlite:///{final.path}"
    assert counts(restored_url) == counts(db_url)
    assert counts(db_url)["bounce_events"] > 0 and counts(db_url)["activities"] > 0
    restored = Ledger.open(make_config(restored_url))
    try:
        view = restored.contact_view("userunknown@example.co.jp")
        assert view is not None and view["bounced"]
    finally:
        restored.close()


def test_postgresql_backup_restores_every_row(
    ledger: Ledger, db_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if not db_url.startswith("postgresql"):
        pytest.skip("pg_dump (SQLite: the online backup test)")
    if shutil.which("pg_dump") is None or shutil.which("pg_restore") is None:
        pytest.skip("the PostgreSQL client tools are not on PATH")
    fill(ledger)
    result = backup(db_url, tmp_path / "ledger.dump")
    assert result.backend == "postgresql" and result.size > 0
    server: ThrowawayPostgres = request.getfixturevalue("pg_server")
    name = f"{make_url(db_url).database}_restored"
    target = server.create_database(name, template="template0")
    dsn, env = libpq_url(target)
    subprocess.run(
        ["pg_restore", "--no-owner", "--exit-on-error", f"--dbname={dsn}", str(result.path)],
        check=True,
        capture_output=True,
        env=env or None,
    )
    assert counts(target) == counts(db_url)
    assert counts(target)["bounce_events"] > 0 and counts(target)["activities"] > 0
    restored = Ledger.open(make_config(target))
    try:
        assert restored.is_suppressed("userunknown@example.co.jp")
    finally:
        restored.close()


def test_a_backup_never_overwrites(db_url: str, tmp_path: Path) -> None:
    existing = tmp_path / "there.db"
    existing.write_bytes(b"keep me")
    with pytest.raises(BackupError, match="exists"):
        backup(db_url, existing)
    assert existing.read_bytes() == b"keep me"
    with pytest.raises(BackupError, match="not a directory"):
        backup(db_url, tmp_path / "missing" / "x.db")


def test_without_pg_dump_the_error_names_the_practice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # nothing on PATH
    with pytest.raises(BackupError, match=r"pg_dump is not on PATH.*operations\.md"):
        backup("postgresql+psycopg://u:secret@127.0.0.1:1/x", tmp_path / "x.dump")
    assert not (tmp_path / "x.dump").exists()


def test_the_password_stays_out_of_the_command_line() -> None:
    dsn, env = libpq_url("postgresql+psycopg://bb:s3cret@db.example:5433/ledger")
    assert dsn == "postgresql://bb@db.example:5433/ledger"
    assert env == {"PGPASSWORD": "s3cret"}


def test_the_cli(
    ledger: Ledger, db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fill(ledger)
    monkeypatch.chdir(tmp_path)  # no stray ./bounceback.toml
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    runner = CliRunner()
    env = {"BOUNCEBACK_DATABASE_URL": db_url}
    target = tmp_path / "backup.bin"
    done = runner.invoke(app, ["db", "backup", str(target)], env=env)
    if db_url.startswith("postgresql") and shutil.which("pg_dump") is None:
        assert done.exit_code == 3 and "pg_dump" in done.output
        return
    assert done.exit_code == 0, done.output
    assert "backed up" in done.output and target.stat().st_size > 0
    again = runner.invoke(app, ["db", "backup", str(target)], env=env)
    assert again.exit_code == 3 and "exists" in again.output
    if db_url.startswith("sqlite"):
        assert counts(f"sqlite:///{target}")[t.events.name] == counts(db_url)[t.events.name]
