"""Shared fixtures: real messages from tests/fixtures/emails, the corpus when it is there,
and fresh migrated databases of each kind (``db_url``: SQLite and a real PostgreSQL).

The PostgreSQL cluster is a throwaway (support.pgtemp): initdb into a
temp dir, pg_ctl on 127.0.0.1 and a free port, stopped by its PID at the end. Each
test gets a fresh database copied from a migrated template.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from bounceback.ledger.db import make_engine, upgrade
from support.pgtemp import ThrowawayPostgres, bindir

ROOT = Path(__file__).resolve().parent.parent
EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"
# The shared corpus sits beside the repository; tests that need it skip without it.
CORPUS = ROOT.parent / "shared" / "corpora" / "sisimai" / "emails"


def email_bytes(name: str) -> bytes:
    """The bytes of one fixture message, e.g. email_bytes("lhost-postfix-02.eml")."""
    return (EMAILS / name).read_bytes()


@pytest.fixture
def email() -> Callable[[str], bytes]:
    return email_bytes


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    if not CORPUS.is_dir():
        pytest.skip(f"corpus not found at {CORPUS}")
    return CORPUS


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


# CI runs the same fuzz examples every time (a failure there is reproducible);
# elsewhere Hypothesis explores new ones on each run.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
