"""A database that is locked or gone: a clear error, nothing half-written, nothing acked."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
from ledger_support import make_config
from sqlalchemy import create_engine, func, select, text

from bounceback.config import ConfigError
from bounceback.config import from_dict as config_from_dict
from bounceback.ledger import Ledger, LedgerUnavailable, Outcome
from bounceback.ledger import tables as t
from bounceback.model import RawMessage
from support.samples import dsn


def _messages(n: int) -> list[tuple[str, RawMessage]]:
    return [
        (f"m{i}", RawMessage(data=dsn(f"u{i}@example.org", "5.1.1", serial=i), source="t"))
        for i in range(n)
    ]


def test_locked_database_fails_clearly_and_writes_nothing(db_url: str) -> None:
    ledger = Ledger.open(make_config(db_url))
    ledger.add_contact("u0@example.org")
    ledger.close()
    config = make_config(db_url)
    config.lock_timeout_ms = 300
    ledger = Ledger.open(config)
    holder = create_engine(db_url)
    acked: list[Outcome] = []
    try:
        with holder.connect() as conn:
            if conn.dialect.name == "sqlite":
                conn.exec_driver_sql("BEGIN IMMEDIATE")  # another writer holds the file
            else:
                conn.execute(text("LOCK TABLE messages IN ACCESS EXCLUSIVE MODE"))
            with pytest.raises(LedgerUnavailable, match=r"locked|cannot be used"):
                list(ledger.process(_messages(3), on_committed=acked.append))
            conn.rollback()
        assert acked == []
        with ledger.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(t.messages)).scalar_one() == 0
            assert conn.execute(select(func.count()).select_from(t.events)).scalar_one() == 0
        # Once the lock is gone the same messages go through.
        assert [o.outcome for o in ledger.process(_messages(3))].count("matched") == 1
    finally:
        holder.dispose()
        ledger.close()


def test_database_gone_mid_run_is_reported(db_url: str) -> None:
    ledger = Ledger.open(make_config(db_url))
    if db_url.startswith("sqlite"):
        # An open SQLite file cannot vanish; one overwritten by something else can.
        ledger.close()
        Path(db_url.removeprefix("sqlite:///")).write_bytes(b"not a database, " * 512)
        with pytest.raises(LedgerUnavailable, match="cannot be used"):
            list(Ledger.open(make_config(db_url)).process(_messages(2)))
        return
    name = db_url.rsplit("/", 1)[1]
    admin = create_engine(db_url.rsplit("/", 1)[0] + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()
    acked: list[Outcome] = []
    with pytest.raises(LedgerUnavailable, match="cannot be used"):
        list(ledger.process(_messages(2), on_committed=acked.append))
    assert acked == []
    ledger.close()


def test_no_database_at_the_url_is_a_clear_error(db_url: str, tmp_path: Path) -> None:
    if db_url.startswith("sqlite"):
        (tmp_path / "a-file").write_text("not a folder")
        url = f"sqlite:///{tmp_path}/a-file/ledger.db"
    else:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        url = f"postgresql+psycopg://nobody@127.0.0.1:{port}/none"
    with pytest.raises(LedgerUnavailable, match="cannot be used"):
        Ledger.open(make_config(url))


def test_bad_config_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"thresholds\.Nope"):
        config_from_dict({"policy": {"thresholds": {"Nope": 1}}})
    with pytest.raises(ConfigError, match="disable_after"):
        config_from_dict({"policy": {"disable_after": -1}})
    with pytest.raises(ConfigError, match="active_key"):
        config_from_dict({"verp": {"active_key": "k9", "keys": {"k1": "x" * 20}}})
    config = config_from_dict(
        {"database": {"url": "sqlite:///x.db"}, "policy": {"thresholds": {"Quota": 0}}}
    )
    assert config.database_url == "sqlite:///x.db"
    assert config.policy.thresholds["Quota"] is None  # 0: never held
