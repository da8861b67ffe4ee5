"""``[retention]`` in the config, serve's daily run (time passed in, never slept), its
log and /metrics counters, and ``bounceback db prune``."""

from __future__ import annotations

import datetime as dt
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine
from typer.testing import CliRunner

from bounceback.cli import app
from bounceback.config import ConfigError, RetentionConfig, from_dict
from bounceback.ledger import Ledger
from bounceback.ledger.retention import next_run, run_daily, run_once
from bounceback.model import RawMessage
from bounceback.serve import Metrics
from support.samples import dsn

PARIS = dt.timezone(dt.timedelta(hours=1))


def test_retention_defaults_and_keys() -> None:
    default = from_dict({}).retention
    assert (default.raw_message_days, default.bounce_event_months) == (90, 24)
    assert (default.quarantined_unmatched_days, default.daily_at) == (90, dt.time(3, 30))
    set_ = from_dict(
        {"retention": {"raw_message_days": 0, "daily_at": "01:15", "bounce_event_months": 6}}
    ).retention
    assert (set_.raw_message_days, set_.daily_at, set_.bounce_event_months) == (
        0,
        dt.time(1, 15),
        6,
    )
    assert from_dict({"retention": {"daily_at": dt.time(4, 0)}}).retention.daily_at == dt.time(4)


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ({"raw_days": 3}, "retention.raw_days: unknown key"),
        ({"raw_message_days": -1}, "retention.raw_message_days: expected a whole number ≥ 0"),
        ({"batch_size": 0}, "retention.batch_size: expected a whole number ≥ 1"),
        ({"daily_at": "half past three"}, "retention.daily_at: expected a time"),
        ({"enabled": "yes"}, "retention.enabled: expected true or false"),
    ],
)
def test_bad_retention_settings_are_named(table: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        from_dict({"retention": table})


def test_the_next_run_is_the_next_quiet_hour() -> None:
    at = dt.time(3, 30)
    before = dt.datetime(2026, 12, 8, 2, 0, tzinfo=PARIS)
    after = dt.datetime(2026, 12, 8, 3, 30, tzinfo=PARIS)
    assert next_run(before, at) == dt.datetime(2026, 12, 8, 3, 30, tzinfo=PARIS)
    assert next_run(after, at) == dt.datetime(2026, 12, 9, 3, 30, tzinfo=PARIS)
    new_year = dt.datetime(2026, 12, 31, 23, 0, tzinfo=PARIS)
    assert next_run(new_year, at) == dt.datetime(2027, 1, 1, 3, 30, tzinfo=PARIS)


class FakeStop(threading.Event):
    """A stop event whose wait returns at once and records how long it was asked for;
    it is set after ``rounds`` waits."""

    def __init__(self, rounds: int) -> None:
        super().__init__()
        self.waits: list[float] = []
        self.rounds = rounds

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(float(timeout or 0))
        if len(self.waits) > self.rounds:
            self.set()
        return self.is_set()


def test_serve_prunes_daily_counts_and_logs(
    ledger: Ledger, caplog: pytest.LogCaptureFixture
) -> None:
    ledger.add_contact("a@example.org")
    old = dt.datetime(2024, 1, 10)  # before the default 24 months, as of 2026-12-08
    raw = RawMessage(data=dsn("a@example.org", "5.2.2"), source="t", received_at=old)
    assert [o.outcome for o in ledger.process([("m", raw)])] == ["matched"]
    times = iter(
        [
            dt.datetime(2026, 12, 8, 1, 0, tzinfo=PARIS),  # start: partitions ahead
            dt.datetime(2026, 12, 8, 1, 0, tzinfo=PARIS),  # first wait: 2.5 h
            dt.datetime(2026, 12, 8, 3, 30, tzinfo=PARIS),  # the run
            dt.datetime(2026, 12, 8, 3, 31, tzinfo=PARIS),  # next wait: a day less a minute
            dt.datetime(2026, 12, 9, 3, 30, tzinfo=PARIS),
        ]
    )
    metrics = Metrics()
    stop = FakeStop(rounds=1)
    with caplog.at_level("INFO", logger="bounceback.retention"):
        run_daily(ledger, RetentionConfig(), metrics, stop, clock=lambda: next(times))
    assert stop.waits == [2.5 * 3600, 24 * 3600 - 60]
    text = metrics.text()
    assert 'bounceback_retention_runs_total{result="ok"} 1' in text
    assert 'bounceback_retention_removed_total{kind="events"} 1' in text
    assert "# HELP bounceback_retention_removed_total" in text
    assert any("retention" in r.message and "events=1" in r.message for r in caplog.records)


def test_a_failed_run_is_counted_not_raised(tmp_path: Path) -> None:
    metrics = Metrics()
    gone = create_engine(f"sqlite:///{tmp_path}/no/such/dir/ledger.db")
    assert run_once(gone, RetentionConfig(), metrics, dt.datetime(2026, 12, 8)) is None
    assert 'bounceback_retention_runs_total{result="error"} 1' in metrics.text()


def test_db_prune_cli(db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("BOUNCEBACK_CONFIG", raising=False)
    env = {"BOUNCEBACK_DATABASE_URL": db_url}
    runner = CliRunner()
    result = runner.invoke(app, ["db", "prune", "--dry-run"], env=env)
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("would remove 0 bounce events, 0 messages")
    result = runner.invoke(app, ["db", "prune", "--json"], env=env)
    assert result.exit_code == 0, result.output
    assert '"dry_run": false' in result.stdout and '"events": 0' in result.stdout


@pytest.mark.parametrize("enabled", [True, False])
def test_serve_starts_the_daily_prune_unless_disabled(tmp_path: Path, enabled: bool) -> None:
    from bounceback.config import Config
    from bounceback.serve import Server
    from bounceback.serve_config import ServeConfig
    from bounceback.sources.smtpd import SmtpdConfig

    config = Config(database_url=f"sqlite:///{tmp_path / 'l.db'}")
    config.retention.enabled = enabled
    ledger = Ledger.open(config)
    server = Server(ServeConfig(smtpd=SmtpdConfig(port=0, catch_all=["b@sender.example"])), ledger)
    try:
        server.start()
        names = [worker.name for worker in server._workers]
        assert ("retention" in names) is enabled
    finally:
        server.stop()
        ledger.close()
