"""Fixtures the mailbox-source tests share: a ledger knowing two contacts, a Dovecot."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from dovecot import Dovecot, dovecot  # noqa: F401  (the session fixture, for `mailbox`)

from bounceback.config import Config
from bounceback.ledger import Ledger


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    config = Config(database_url=f"sqlite:///{tmp_path / 'ledger.db'}", lock_timeout_ms=2000)
    config.policy.max_message_bytes = 200_000
    opened = Ledger.open(config)
    opened.add_contact("kijitora@example.net")  # lhost-postfix-03
    opened.add_contact("kijitora@user.example.or.jp")  # lhost-postfix-07
    yield opened
    opened.close()


@pytest.fixture
def mailbox(dovecot: Dovecot) -> Iterator[Dovecot]:  # noqa: F811
    """The shared Dovecot with an empty INBOX and no folders."""
    dovecot.empty()
    yield dovecot


def pytest_configure(config: pytest.Config) -> None:
    # Long tests (a 10,000-message mailbox): they run by default and in CI;
    # `-m "not slow"` leaves them out locally.
    config.addinivalue_line("markers", "slow: a long test; runs in CI, skip with -m 'not slow'")
