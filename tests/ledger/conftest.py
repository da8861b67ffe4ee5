"""Every ledger test runs twice: on SQLite and on a real PostgreSQL server.

The PostgreSQL cluster is a throwaway (bounceback.ledger.pgtemp): initdb into a
temp dir, pg_ctl on 127.0.0.1 and a free port, stopped by its PID at the end. Each
test gets a fresh database copied from a migrated template.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger.db import make_engine, upgrade
from bounceback.ledger.pgtemp import ThrowawayPostgres, bindir

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
_counter = itertools.count(1)


@pytest.fixture(scope="session")
def pg_server() -> Iterator[ThrowawayPostgres]:
    """A running throwaway PostgreSQL server with a migrated template database."""
    if bindir() is None:
        if os.environ.get("CI"):
            pytest.fail("PostgreSQL is not installed (Debian package postgresql)")
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql)")
    with ThrowawayPostgres() as server:
        template = make_engine(server.create_database("bb_template"))
        upgrade(template)
        template.dispose()
        yield server


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
    server: ThrowawayPostgres = request.getfixturevalue("pg_server")
    return server.create_database(f"t{os.getpid()}_{next(_counter)}", template="bb_template")


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
