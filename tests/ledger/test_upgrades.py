"""docs/operations.md, "Upgrades": an older release on a database a newer one migrated
stops with a clear message (and exit code 3), not a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
from ledger_support import make_config
from sqlalchemy import text
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.ledger import Ledger, LedgerUnavailable
from bounceback.ledger.db import HEAD, make_engine


def stamp(db_url: str, revision: str) -> None:
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :r"), {"r": revision})
    engine.dispose()


def test_a_newer_revision_is_refused_clearly(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Ledger.open(make_config(db_url)).close()
    stamp(db_url, "0999")  # what a future release would leave
    with pytest.raises(LedgerUnavailable, match=rf"revision 0999, newer .*\({HEAD}\)"):
        Ledger.open(make_config(db_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    result = CliRunner().invoke(
        app, ["suppression", "check", "a@b.example"], env={"BOUNCEBACK_DATABASE_URL": db_url}
    )
    assert result.exit_code == 3 and "newer than this bounceback" in result.output
    stamp(db_url, HEAD)
    Ledger.open(make_config(db_url)).close()  # the same database opens at its own revision
