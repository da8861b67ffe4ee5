"""Every ledger test runs twice: on SQLite and on a real PostgreSQL server
(the ``db_url`` fixture of tests/conftest.py)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bounceback.config import Config
from bounceback.ledger import Ledger

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"
_counter = itertools.count(1)


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
