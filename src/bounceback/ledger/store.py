"""What every area of the ledger works with: the database, the config, the rules.

``Store`` is the base of :class:`bounceback.ledger.service.Ledger`. The area modules
(contacts, holds, suppression, campaigns, sends, bounces, messages, settings, rules,
users) take a ``Store``, so none of them imports the facade that calls them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from bounceback import config as config_mod
from bounceback.classify import RuleSet
from bounceback.config import Config
from bounceback.ledger.db import unavailable
from bounceback.match.verp import VerpSigner


class LedgerError(ValueError):
    """A request the ledger refuses (unknown contact, address taken...)."""


@dataclass(slots=True)
class ImportResult:
    """A CSV import: rows added, rows updated, bad rows by line."""

    imported: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def signer_from(config: Config) -> VerpSigner | None:
    verp = config.verp
    if not verp.enabled:
        return None
    try:
        return VerpSigner(
            keys=verp.keys,
            active_key=verp.active_key,
            domain=verp.domain,
            prefix=verp.prefix,
            separator=verp.separator,
            max_age=dt.timedelta(days=verp.max_age_days),
        )
    except ValueError as exc:
        raise config_mod.ConfigError(f"[verp]: {exc}") from exc


class Store:
    """An engine with the config and the file's rules; ``read``/``write`` connect."""

    def __init__(self, engine: Engine, config: Config, rules: RuleSet | None = None) -> None:
        self.engine = engine
        self.config = config
        self.rules = rules
        self.signer = signer_from(config)

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection for reads; a locked or unreachable database says so."""
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise unavailable(exc) from exc
        with conn:
            yield conn

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """One transaction: committed on leaving, rolled back on an exception."""
        try:
            conn = self.engine.connect()
        except DBAPIError as exc:
            raise unavailable(exc) from exc
        with conn, conn.begin():
            yield conn
