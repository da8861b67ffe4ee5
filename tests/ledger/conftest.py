"""Every ledger test runs twice: on SQLite and on a real PostgreSQL server
(the ``db_url`` fixture of tests/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from ledger_support import make_config

from bounceback.ledger import Ledger


@pytest.fixture
def ledger(db_url: str) -> Iterator[Ledger]:
    opened = Ledger.open(make_config(db_url))
    yield opened
    opened.close()
