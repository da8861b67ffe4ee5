"""Helpers the ledger tests import (conftest modules are not for importing)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bounceback.config import Config

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "emails"


def make_config(url: str, **policy: Any) -> Config:
    config = Config(database_url=url, lock_timeout_ms=2000)
    for key, value in policy.items():
        setattr(config.policy, key, value)
    return config


def fixture_bytes(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()
