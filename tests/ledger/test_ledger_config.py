"""The config file and the environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from bounceback.config import ConfigError, load

TOML = """
[database]
url = "sqlite:///from-file.db"
lock_timeout_ms = 500

[policy]
remove_address_on_hard_bounce = false
disable_after = 0
closed_campaign_statuses = ["Archived"]

[policy.thresholds]
Quota = 5
Away = 0

[policy.decay]
enabled = true
stale_after_days = 7

[verp]
domain = "bounces.example.org"
active_key = "new"

[verp.keys]
old = "the old secret, still accepted"
new = "the new secret, used to sign"

[rules]
rules_file = "rules.toml"
"""


def test_file_then_environment(tmp_path: Path) -> None:
    path = tmp_path / "bounceback.toml"
    path.write_text(TOML)
    config = load(path, env={})
    assert config.database_url == "sqlite:///from-file.db" and config.lock_timeout_ms == 500
    policy = config.policy
    assert not policy.remove_address_on_hard_bounce and policy.disable_after == 0
    assert policy.closed_campaign_statuses == frozenset({"archived"})
    assert (policy.thresholds["Quota"], policy.thresholds["Away"]) == (5, None)
    assert policy.thresholds["Invalid"] == 1  # untouched defaults stay
    assert policy.threshold_overrides == {"Quota": 5, "Away": None}
    assert policy.decay.enabled and policy.decay.stale_after_days == 7
    assert config.verp.enabled and set(config.verp.keys) == {"old", "new"}
    assert config.rules_file == tmp_path / "rules.toml"  # relative to the file
    env = {"BOUNCEBACK_DATABASE_URL": "postgresql+psycopg://u@h/db"}
    assert load(path, env=env).database_url == "postgresql+psycopg://u@h/db"
    assert load(env={"BOUNCEBACK_CONFIG": str(path)}).database_url == "sqlite:///from-file.db"


def test_broken_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "bounceback.toml"
    path.write_text("[policy\n")
    with pytest.raises(ConfigError, match=r"bounceback\.toml"):
        load(path, env={})
    with pytest.raises(ConfigError, match=r"missing\.toml"):
        load(tmp_path / "missing.toml", env={})
