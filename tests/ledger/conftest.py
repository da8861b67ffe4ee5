"""Every ledger test runs twice: on SQLite and on a real PostgreSQL server.

The PostgreSQL cluster is a throwaway: initdb into a temp dir, started with pg_ctl
on 127.0.0.1 and a free port (as the ``postgres`` user when the tests run as root,
since PostgreSQL refuses to run as root), stopped by its PID at the end. Each test
gets a fresh database copied from a migrated template.
"""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger.db import make_engine, upgrade

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
_counter = itertools.count(1)


def _pg_bindir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(Path(p).parts[-3]) if Path(p).parts[-3].isdigit() else 0,
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _run(args: list[str], user: str | None) -> None:
    subprocess.run(args, check=True, capture_output=True, user=user, timeout=120)


@pytest.fixture(scope="session")
def pg_base_url() -> Iterator[str]:
    """A running throwaway PostgreSQL server; yields a URL without a database name."""
    bindir = _pg_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (Debian package postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    user = "postgres" if os.geteuid() == 0 else None
    root = Path(tempfile.mkdtemp(prefix="bounceback-pg-"))
    if user is not None:
        shutil.chown(root, user)
    data = root / "data"
    port = _free_port()
    _run([str(bindir / "initdb"), "-D", str(data), "-U", "bounceback", "--auth=trust",
          "-E", "UTF8", "--no-sync", "--no-instructions"], user)  # fmt: skip
    options = (
        f"-p {port} -c listen_addresses=127.0.0.1 -k {root} -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=50"
    )
    _run([str(bindir / "pg_ctl"), "-D", str(data), "-l", str(root / "log"), "-o", options,
          "-w", "-t", "60", "start"], user)  # fmt: skip
    pid = int((data / "postmaster.pid").read_text().split()[0])
    base = f"postgresql+psycopg://bounceback@127.0.0.1:{port}"
    try:
        admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE bb_template"))
        admin.dispose()
        template = make_engine(f"{base}/bb_template")
        upgrade(template)
        template.dispose()
        yield base
    finally:
        os.kill(pid, signal.SIGINT)  # fast shutdown, by PID
        for _ in range(300):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.05)
        shutil.rmtree(root, ignore_errors=True)


def new_pg_database(base: str) -> str:
    name = f"t{os.getpid()}_{next(_counter)}"
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"CREATE DATABASE {name} TEMPLATE bb_template"))
    admin.dispose()
    return f"{base}/{name}"


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A fresh, migrated database of each kind."""
    if request.param == "sqlite":
        target = tmp_path / "ledger.db"
        shutil.copy(sqlite_template, target)
        return f"sqlite:///{target}"
    base: str = request.getfixturevalue("pg_base_url")
    return new_pg_database(base)


def make_config(url: str, **policy: Any) -> Config:
    config = Config(database_url=url, lock_timeout_ms=2000)
    for key, value in policy.items():
        setattr(config.policy, key, value)
    return config


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(make_config(db_url))
    yield opened
    opened.close()


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
