"""The ledger as one object: ``Ledger.open()`` reads the config, connects, migrates on
first use; ``process`` applies messages (:mod:`bounceback.ledger.process`).

The rest is a facade over the area modules, which hold the queries and take any
:class:`~bounceback.ledger.store.Store` (the web calls them directly):

- contacts (:mod:`.contacts`, flags in :mod:`.contact_flags`), holds (:mod:`.holds`),
  suppression (:mod:`.suppression`), campaigns (:mod:`.campaigns`), sends
  (:mod:`.sends`), bounces and sender health (:mod:`.bounces`), kept messages
  (:mod:`.messages`), settings and thresholds (:mod:`.settings`), rules
  (:mod:`.rules_store`), users and sessions (:mod:`.users`).

Every write is one transaction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from bounceback import config as config_mod
from bounceback.classify import RuleSet
from bounceback.classify import load as load_rules
from bounceback.config import Config
from bounceback.ledger import (
    bounces,
    campaigns,
    contacts,
    holds,
    live,
    messages,
    rules_store,
    sends,
    settings,
    suppression,
)
from bounceback.ledger.activities import Purpose
from bounceback.ledger.db import ensure_schema, make_engine
from bounceback.ledger.outcomes import MessageOutcome
from bounceback.ledger.process import Outcome, PreparedMessage, Processor
from bounceback.ledger.store import ImportResult, LedgerError, Store
from bounceback.model import RawMessage, SourceEvent

__all__ = ["ImportResult", "Ledger", "LedgerError"]


class Ledger(Store):
    @classmethod
    def open(
        cls, config: Config | None = None, url: str | None = None, rules: RuleSet | None = None
    ) -> Ledger:
        """Connect (migrating on first use) with the config file's settings."""
        config = config or config_mod.load()
        if url:
            config.database_url = url
        if rules is None and config.rules_file is not None:
            rules = load_rules(config.rules_file)
        engine = make_engine(config.database_url, busy_timeout_ms=config.lock_timeout_ms)
        ensure_schema(engine)
        ledger = cls(engine, config, rules)
        settings.load_thresholds(ledger)
        settings.apply_settings(ledger)  # settings edited in the dashboard win over the file's
        return ledger

    def close(self) -> None:
        self.engine.dispose()

    # --- processing ---------------------------------------------------------------
    def current_rules(self) -> RuleSet | None:
        """The database's user rules, then the config file's; re-read when edited.

        Called before each piece of work, it also applies settings and thresholds that
        another process changed (the dashboard, the API, the CLI)."""
        now = live.current(self)  # one lookup serves both caches
        settings.refresh(self, now)
        return rules_store.current_rules(self, now)

    def process(
        self,
        messages: Iterable[tuple[str, RawMessage]],
        batch_size: int = 200,
        on_committed: Callable[[Outcome], None] | None = None,
        jobs: int = 1,
        purpose: Purpose = "bounces",
    ) -> Iterator[Outcome]:
        """Apply messages; each outcome is yielded (and acked) after its commit.

        ``purpose``: "bounces" applies bounces; "activities" files human replies on
        their contacts (outcome ``filed``) and applies no bounce; "both" does both.
        """
        return self._processor(purpose).run(messages, batch_size, on_committed, jobs)

    def prepare(self, label: str, raw: RawMessage) -> PreparedMessage:
        """Parse and classify one message ahead of its commit (pure: any thread)."""
        return self._processor().prepare(label, raw)

    def commit(self, prepared: list[PreparedMessage]) -> list[Outcome]:
        """Apply prepared messages (``prepare``) in one transaction; outcomes in order."""
        return self._processor().commit(prepared)

    def retry_quarantined(self) -> Iterator[Outcome]:
        """Process quarantined messages again from their kept bytes."""
        return self._processor().retry_quarantined()

    def store_events(self, events: Iterable[SourceEvent]) -> list[Outcome]:
        """Apply events from logs and webhooks (already Reports), idempotent by key."""
        return self._processor().store(events)

    def sink(self, events: list[SourceEvent]) -> None:
        """The sources' sink: store all or raise, so the caller reads them again."""
        failed = [o for o in self.store_events(events) if o.outcome == MessageOutcome.ERROR]
        if failed:
            raise LedgerError(f"{len(failed)} events not stored: {failed[0].error}")

    def process_bytes(self, data: bytes, label: str = "-", source: str = "cli") -> Outcome:
        return next(iter(self.process([(label, RawMessage(data=data, source=source))])))

    def _processor(self, purpose: Purpose = "bounces") -> Processor:
        return Processor(self.engine, self.config, self.current_rules(), self.signer, purpose)

    # --- the areas (see the module docstring) ----------------------------------------
    def add_contact(self, email: str, name: str = "", kind: str = "contact") -> int:
        return contacts.add_contact(self, email, name, kind)

    def import_contacts(self, text: str) -> ImportResult:
        return contacts.import_contacts(self, text)

    def contact_view(self, email: str, history_limit: int = 100) -> dict[str, Any] | None:
        return contacts.contact_view(self, email, history_limit)

    def set_email(self, old: str, new: str) -> None:
        contacts.set_email(self, old, new)

    def unhold(self, email: str) -> bool:
        return holds.unhold(self, email)

    def holds(self, bounce_type: str | None = None) -> list[dict[str, Any]]:
        return holds.all_holds(self, holds.HoldFilters(bounce_type=bounce_type))

    def suppress(self, email: str, reason: str = "", source: str = "manual") -> bool:
        return suppression.suppress(self, email, reason, source)

    def unsuppress(self, email: str) -> bool:
        return suppression.unsuppress(self, email)

    def is_suppressed(self, email: str) -> bool:
        return suppression.is_suppressed(self, email)

    def suppressions(self) -> list[dict[str, Any]]:
        return suppression.all_suppressions(self)

    def add_campaign(self, name: str, status: str = "active") -> int:
        return campaigns.add_campaign(self, name, status)

    def set_campaign_status(self, name: str, status: str) -> None:
        campaigns.set_campaign_status(self, name, status)

    def campaign_stats(self, name: str) -> dict[str, Any]:
        return campaigns.campaign_stats(self, name)

    def resend_list(self, campaign: str) -> list[dict[str, Any]]:
        return campaigns.resend_list(self, campaign)

    def record_send(
        self,
        email: str,
        campaign: str | None = None,
        message_id: str | None = None,
        bounceback_id: str | None = None,
        return_path: str | None = None,
        sent_at: dt.datetime | None = None,
    ) -> int:
        return sends.record_send(
            self, email, campaign, message_id, bounceback_id, return_path, sent_at
        )

    def set_send_ids(self, send_id: int, bounceback_id: str, return_path: str | None) -> None:
        sends.set_send_ids(self, send_id, bounceback_id, return_path)

    def import_sends(self, text: str) -> ImportResult:
        return sends.import_sends(self, text)

    def health(self, now: dt.datetime | None = None) -> dict[str, Any]:
        return bounces.health(self, now)

    def messages(self, outcome: str, limit: int = 100) -> list[dict[str, Any]]:
        return messages.list_messages(self, outcome, limit)[0]

    def load_thresholds(self) -> None:
        settings.load_thresholds(self)

    def thresholds(self) -> dict[str, int | None]:
        return settings.thresholds(self)

    def set_threshold(self, bounce_type: str, threshold: int | None) -> None:
        settings.store_threshold(self, bounce_type, threshold)
