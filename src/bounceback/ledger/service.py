"""The ledger as one object: contacts, sends, campaigns, suppression, holds, health.

``Ledger.open()`` reads the config, connects, migrates on first use. Every write
method is one transaction. ``process`` lives in :mod:`bounceback.ledger.process`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Engine, and_, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError, IntegrityError

from bounceback import config as config_mod
from bounceback.classify import RuleSet
from bounceback.classify import load as load_rules
from bounceback.config import Config, PolicyConfig
from bounceback.ledger import erasure, live
from bounceback.ledger import tables as t
from bounceback.ledger.activities import Purpose
from bounceback.ledger.db import ensure_schema, make_engine, unavailable
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.process import Outcome, PreparedMessage, Processor, dialect_insert
from bounceback.ledger.rollups import add_sends  # W2: stats
from bounceback.ledger.web_settings import apply_settings, refresh
from bounceback.match.verp import VerpSigner
from bounceback.model import RawMessage, SourceEvent

KINDS = ("contact", "company", "lead")
ERASED_HINT = "suppressed; `bounceback suppression remove` first if they asked to come back"


class LedgerError(ValueError):
    """A request the ledger refuses (unknown contact, address taken...)."""


@dataclass(slots=True)
class ImportResult:
    imported: int = 0
    updated: int = 0
    errors: list[str] = field(default_factory=list)


def normalise(email: str) -> str:
    return email.strip().strip("<>").strip().lower()


def valid_email(email: str) -> bool:
    local, at, domain = email.rpartition("@")
    return bool(at and local and "." in domain and " " not in email and len(email) <= 320)


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


class Ledger:
    def __init__(self, engine: Engine, config: Config, rules: RuleSet | None = None) -> None:
        self.engine = engine
        self.config = config
        self.rules = rules
        self.signer = signer_from(config)

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
        ledger.load_thresholds()
        apply_settings(ledger)  # W2: settings edited in the dashboard, over the file's
        return ledger

    def close(self) -> None:
        self.engine.dispose()

    def load_thresholds(self) -> None:
        """The bounce_types table's thresholds, with the config file's on top."""
        with self._read() as conn:
            table = {r.name: r.threshold for r in conn.execute(select(t.bounce_types))}
        policy = self.config.policy
        policy.thresholds = {**policy.thresholds, **table, **policy.threshold_overrides}

    def _read(self) -> Any:
        try:
            return self.engine.connect()
        except DBAPIError as exc:
            raise unavailable(exc) from exc

    def _write(self) -> Any:
        try:
            return self.engine.begin()
        except DBAPIError as exc:
            raise unavailable(exc) from exc

    # --- processing ---------------------------------------------------------------
    def current_rules(self) -> RuleSet | None:
        """The database's user rules, then the config file's; re-read when edited.

        Called before each piece of work, it also applies settings and thresholds that
        another process changed (the dashboard, the API, the CLI)."""
        from bounceback.ledger.rules_store import current_rules

        now = live.current(self)  # one lookup serves both caches
        refresh(self, now)
        return current_rules(self, now)

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
        processor = Processor(self.engine, self.config, self.current_rules(), self.signer, purpose)
        return processor.run(messages, batch_size, on_committed, jobs)

    def prepare(self, label: str, raw: RawMessage) -> PreparedMessage:
        """Parse and classify one message ahead of its commit (pure: any thread)."""
        return Processor(self.engine, self.config, self.current_rules(), self.signer).prepare(
            label, raw
        )

    def commit(self, prepared: list[PreparedMessage]) -> list[Outcome]:
        """Apply prepared messages (``prepare``) in one transaction; outcomes in order."""
        return Processor(self.engine, self.config, self.current_rules(), self.signer).commit(
            prepared
        )

    def retry_quarantined(self) -> Iterator[Outcome]:
        """Process quarantined messages again from their kept bytes."""
        rules = self.current_rules()
        return Processor(self.engine, self.config, rules, self.signer).retry_quarantined()

    def store_events(self, events: Iterable[SourceEvent]) -> list[Outcome]:
        """Apply events from logs and webhooks (already Reports), idempotent by key."""
        return Processor(self.engine, self.config, self.current_rules(), self.signer).store(events)

    def sink(self, events: list[SourceEvent]) -> None:
        """The sources' sink: store all or raise, so the caller reads them again."""
        failed = [o for o in self.store_events(events) if o.outcome == "error"]
        if failed:
            raise LedgerError(f"{len(failed)} events not stored: {failed[0].error}")

    def process_bytes(self, data: bytes, label: str = "-", source: str = "cli") -> Outcome:
        return next(iter(self.process([(label, RawMessage(data=data, source=source))])))

    # --- contacts -------------------------------------------------------------------
    def add_contact(self, email: str, name: str = "", kind: str = "contact") -> int:
        """Add a contact with one address; returns the address id."""
        email = normalise(email)
        if not valid_email(email):
            raise LedgerError(f"not an email address: {email!r}")
        if kind not in KINDS:
            raise LedgerError(f"kind must be one of {', '.join(KINDS)}")
        with self._write() as conn:
            if self._address_by_email(conn, email, current_only=True) is not None:
                raise LedgerError(f"{email} already belongs to a contact")
            if erasure.is_erased(conn, email):
                raise LedgerError(f"{email} was erased ({ERASED_HINT})")
            return self._insert_contact(conn, email, name, kind)

    def _insert_contact(self, conn: Connection, email: str, name: str, kind: str) -> int:
        cid = conn.execute(
            insert(t.contacts).values(kind=kind, name=name).returning(t.contacts.c.id)
        ).scalar_one()
        return int(
            conn.execute(
                insert(t.addresses)
                .values(contact_id=cid, email=email, bounce_counts={})
                .returning(t.addresses.c.id)
            ).scalar_one()
        )

    def import_contacts(self, text: str) -> ImportResult:
        """CSV with a header: email (required), name, kind, campaign. Bad rows by line."""
        result = ImportResult()
        rows, errors = _read_csv(text, required=("email",))
        result.errors.extend(errors)
        with self._write() as conn:
            campaigns: dict[str, int] = {}
            for line, row in rows:
                email = normalise(row.get("email", ""))
                kind = (row.get("kind") or "contact").strip().lower()
                if not valid_email(email):
                    result.errors.append(f"line {line}: not an email address: {email!r}")
                    continue
                if kind not in KINDS:
                    result.errors.append(f"line {line}: kind must be one of {', '.join(KINDS)}")
                    continue
                name = (row.get("name") or "").strip()
                found = self._address_by_email(conn, email, current_only=True)
                if found is None and erasure.is_erased(conn, email):
                    result.errors.append(f"line {line}: {email} was erased ({ERASED_HINT})")
                    continue
                if found is None:
                    aid = self._insert_contact(conn, email, name, kind)
                    result.imported += 1
                else:
                    aid = found["id"]
                    conn.execute(
                        update(t.contacts)
                        .where(t.contacts.c.id == found["contact_id"])
                        .values(name=name or t.contacts.c.name, kind=kind)
                    )
                    result.updated += 1
                campaign = (row.get("campaign") or "").strip()
                if campaign:
                    if campaign not in campaigns:
                        campaigns[campaign] = self._campaign_id(conn, campaign, create=True)
                    # The contact was mailed in this campaign: a send without a Message-ID,
                    # so recipient matching links its bounces to the campaign. Once only,
                    # so importing the same file again changes nothing.
                    sd = t.sends.c
                    logged = conn.execute(
                        select(sd.id).where(
                            sd.address_id == aid,
                            sd.campaign_id == campaigns[campaign],
                            sd.message_id.is_(None),
                        )
                    ).first()
                    if logged is None:
                        self._insert_send(conn, email, campaigns[campaign], aid)
        return result

    def _address_by_email(
        self, conn: Connection, email: str, current_only: bool = False
    ) -> dict[str, Any] | None:
        a = t.addresses.c
        row = conn.execute(select(t.addresses).where(a.email == email)).mappings().first()
        if row is None and not current_only:
            row = (
                conn.execute(
                    select(t.addresses).where(a.bounced_address == email).order_by(a.id.desc())
                )
                .mappings()
                .first()
            )
        return dict(row) if row is not None else None

    def contact_view(self, email: str, history_limit: int = 100) -> dict[str, Any] | None:
        """Status, flags, counts, bounced address and history (newest first)."""
        email = normalise(email)
        with self._read() as conn:
            address = self._address_by_email(conn, email)
            if address is None:
                return None
            contact = (
                conn.execute(select(t.contacts).where(t.contacts.c.id == address["contact_id"]))
                .mappings()
                .one()
            )
            e = t.events.c
            history = (
                conn.execute(
                    select(t.events)
                    .where(e.address_id == address["id"])
                    .order_by(e.occurred_at.desc(), e.id.desc())
                    .limit(history_limit)
                )
                .mappings()
                .all()
            )
            # The address in use; a removed one is judged by the address it had.
            suppressed = self._suppressed(conn, [address["email"] or address["bounced_address"]])
        return {
            "contact_id": contact["id"],
            "name": contact["name"],
            "kind": contact["kind"],
            "bulk_mail": contact["bulk_mail"],
            "disabled": contact["disabled"],
            "email": address["email"],
            "bounced_address": address["bounced_address"],
            "bounced": address["bounced"],
            "on_hold": address["on_hold"],
            "hold_since": iso(address["hold_since"]),
            "hold_type": address["hold_type"],
            "suppressed": suppressed,
            "bounce_counts": dict(address["bounce_counts"] or {}),
            "consecutive_bounces": address["consecutive_bounces"],
            "history": [_event_view(h) for h in history],
        }

    def _suppressed(self, conn: Connection, emails: list[str | None]) -> bool:
        wanted = [x for x in emails if x]
        if not wanted:
            return False
        s = t.suppressions.c
        keys = erasure.suppression_keys(conn, wanted)  # an erased address stays suppressed
        return conn.execute(select(s.id).where(s.email.in_(keys))).first() is not None

    def unhold(self, email: str) -> bool:
        """Take an address off hold: counts cleared, bounce suppression lifted, bulk mail back."""
        email = normalise(email)
        with self._write() as conn:
            address = self._address_by_email(conn, email)
            if address is None:
                return False
            restored = address["email"] or self._free(conn, address["bounced_address"])
            self._reset_address(conn, address, restored)
            s = t.suppressions.c
            conn.execute(
                delete(t.suppressions).where(
                    s.email.in_([x for x in (restored, address["bounced_address"]) if x]),
                    s.source == "bounce",
                )
            )
            sync_contact(conn, address["contact_id"], self.config.policy)
        return True

    def _free(self, conn: Connection, email: str | None) -> str | None:
        """``email`` if no other address holds it now."""
        if not email:
            return None
        taken = self._address_by_email(conn, email, current_only=True)
        return None if taken is not None else email

    def _reset_address(self, conn: Connection, address: dict[str, Any], email: str | None) -> None:
        conn.execute(
            update(t.addresses)
            .where(t.addresses.c.id == address["id"])
            .values(email=email, **reset_values(utcnow()))
        )

    def set_email(self, old: str, new: str) -> None:
        """A new address for the contact: counts start over, bulk mail back, history kept."""
        old, new = normalise(old), normalise(new)
        if not valid_email(new):
            raise LedgerError(f"not an email address: {new!r}")
        with self._write() as conn:
            address = self._address_by_email(conn, old)
            if address is None:
                raise LedgerError(f"no contact has the address {old}")
            taken = self._address_by_email(conn, new, current_only=True)
            if taken is not None and taken["id"] != address["id"]:
                raise LedgerError(f"{new} already belongs to another contact")
            if erasure.is_erased(conn, new):
                raise LedgerError(f"{new} was erased ({ERASED_HINT})")
            if address["email"] and address["email"] != new:
                conn.execute(
                    update(t.addresses)
                    .where(t.addresses.c.id == address["id"])
                    .values(bounced_address=address["email"] if address["bounced"] else None)
                )
            self._reset_address(conn, address, new)
            sync_contact(conn, address["contact_id"], self.config.policy)

    # --- suppression ----------------------------------------------------------------
    def suppress(self, email: str, reason: str = "", source: str = "manual") -> bool:
        """Add to the suppression list; False when it was already there."""
        email = normalise(email)
        if not valid_email(email):
            raise LedgerError(f"not an email address: {email!r}")
        with self._write() as conn:
            stmt = (
                dialect_insert(conn, t.suppressions)
                .values(email=email, reason=reason, source=source)
                .on_conflict_do_nothing(index_elements=["email"])
                .returning(t.suppressions.c.id)
            )
            return conn.execute(stmt).first() is not None

    def unsuppress(self, email: str) -> bool:
        """Lift a suppression; the address may be mailed again (bulk mail restored)."""
        email = normalise(email)
        with self._write() as conn:
            keys = erasure.suppression_keys(conn, [email])  # an erased address too
            gone = conn.execute(delete(t.suppressions).where(t.suppressions.c.email.in_(keys)))
            address = self._address_by_email(conn, email)
            if address is not None and address["bounced"]:
                restored = address["email"] or self._free(conn, address["bounced_address"])
                conn.execute(
                    update(t.addresses)
                    .where(t.addresses.c.id == address["id"])
                    .values(email=restored, bounced=False, reset_at=utcnow())
                )
            if address is not None:
                sync_contact(conn, address["contact_id"], self.config.policy)
            return bool(gone.rowcount)

    def is_suppressed(self, email: str) -> bool:
        with self._read() as conn:
            return self._suppressed(conn, [normalise(email)])

    def suppressions(self) -> list[dict[str, Any]]:
        s = t.suppressions.c
        with self._read() as conn:
            rows = conn.execute(select(t.suppressions).order_by(s.since.desc(), s.id.desc()))
            return [
                {"email": r.email, "reason": r.reason, "source": r.source, "since": iso(r.since)}
                for r in rows
            ]

    # --- campaigns ------------------------------------------------------------------
    def add_campaign(self, name: str, status: str = "active") -> int:
        with self._write() as conn:
            try:
                with conn.begin_nested():
                    return int(
                        conn.execute(
                            insert(t.campaigns)
                            .values(name=name, status=status)
                            .returning(t.campaigns.c.id)
                        ).scalar_one()
                    )
            except IntegrityError as exc:
                raise LedgerError(f"a campaign named {name!r} exists") from exc

    def _campaign_id(self, conn: Connection, name: str, create: bool = False) -> int:
        c = t.campaigns.c
        found = conn.execute(select(c.id).where(c.name == name)).scalar()
        if found is not None:
            return int(found)
        if not create:
            raise LedgerError(f"no campaign named {name!r}")
        stmt = dialect_insert(conn, t.campaigns).on_conflict_do_nothing(index_elements=["name"])
        conn.execute(stmt, [{"name": name, "status": "active"}])
        return int(conn.execute(select(c.id).where(c.name == name)).scalar_one())

    def set_campaign_status(self, name: str, status: str) -> None:
        with self._write() as conn:
            cid = self._campaign_id(conn, name)
            conn.execute(update(t.campaigns).where(t.campaigns.c.id == cid).values(status=status))

    def campaign_stats(self, name: str) -> dict[str, Any]:
        with self._read() as conn:
            cid = self._campaign_id(conn, name)
            row = conn.execute(select(t.campaigns).where(t.campaigns.c.id == cid)).one()
            sent = conn.execute(
                select(func.count()).select_from(t.sends).where(t.sends.c.campaign_id == cid)
            ).scalar_one()
            e = t.events.c
            live = and_(e.campaign_id == cid, e.undone_at.is_(None))
            reasons = conn.execute(
                select(e.reason, func.count()).where(live).group_by(e.reason).order_by(e.reason)
            ).all()
            types = conn.execute(
                select(e.bounce_type, func.count())
                .where(live)
                .group_by(e.bounce_type)
                .order_by(e.bounce_type)
            ).all()
        hard, soft = int(row.hard_bounces), int(row.soft_bounces)
        closed = row.status.lower() in self.config.policy.closed_campaign_statuses
        return {
            "name": row.name,
            "status": row.status,
            "closed": closed,
            "sent": int(sent),
            "hard_bounces": hard,
            "soft_bounces": soft,
            "bounce_rate": round((hard + soft) / sent, 4) if sent else 0.0,
            "by_reason": {r or "": int(n) for r, n in reasons},
            "by_type": {b or "": int(n) for b, n in types},
        }

    # --- holds and resends ----------------------------------------------------------
    def holds(self, bounce_type: str | None = None) -> list[dict[str, Any]]:
        a, c = t.addresses.c, t.contacts.c
        stmt = (
            select(a.email, a.bounced_address, a.hold_type, a.hold_since, a.bounce_counts, c.name)
            .join(t.contacts, c.id == a.contact_id)
            .where(a.on_hold)
            .order_by(a.hold_since.desc(), a.id)
        )
        if bounce_type:
            stmt = stmt.where(a.hold_type == bounce_type)
        with self._read() as conn:
            return [
                {
                    "email": r.email or r.bounced_address,
                    "name": r.name,
                    "hold_type": r.hold_type,
                    "hold_since": iso(r.hold_since),
                    "bounce_counts": dict(r.bounce_counts or {}),
                }
                for r in conn.execute(stmt)
            ]

    def resend_list(self, campaign: str) -> list[dict[str, Any]]:
        """Addresses that soft-bounced in the campaign and may be tried again."""
        e, a, c, s = t.events.c, t.addresses.c, t.contacts.c, t.suppressions.c
        with self._read() as conn:
            cid = self._campaign_id(conn, campaign)
            hard = select(e.address_id).where(
                e.campaign_id == cid,
                e.hardbounce,
                e.undone_at.is_(None),
                e.address_id.is_not(None),
            )
            # Each address's latest soft bounce in the campaign: its time and reason
            # come from that one bounce.
            latest = (
                select(func.max(e.id))
                .where(
                    e.campaign_id == cid,
                    e.kind == "bounce",
                    ~e.hardbounce,
                    e.undone_at.is_(None),
                    e.address_id.is_not(None),
                )
                .group_by(e.address_id)
            )
            stmt = (
                select(a.email, c.name, e.occurred_at, e.reason)
                .select_from(t.events)
                .join(t.addresses, a.id == e.address_id)
                .join(t.contacts, c.id == a.contact_id)
                .where(
                    e.id.in_(latest),
                    a.email.is_not(None),
                    ~a.on_hold,
                    ~a.bounced,
                    ~c.disabled,
                    a.id.not_in(hard),
                    ~select(s.id).where(s.email == a.email).exists(),
                )
                .order_by(a.email)
            )
            return [
                {"email": r[0], "name": r[1], "last_bounce_at": iso(r[2]), "reason": r[3]}
                for r in conn.execute(stmt)
            ]

    # --- sends ----------------------------------------------------------------------
    def record_send(
        self,
        email: str,
        campaign: str | None = None,
        message_id: str | None = None,
        bounceback_id: str | None = None,
        return_path: str | None = None,
        sent_at: dt.datetime | None = None,
    ) -> int:
        """One line of the send log; returns the send id."""
        email = normalise(email)
        with self._write() as conn:
            cid = self._campaign_id(conn, campaign, create=True) if campaign else None
            return self._insert_send(
                conn, email, cid, None, message_id, bounceback_id, return_path, sent_at
            )

    def set_send_ids(self, send_id: int, bounceback_id: str, return_path: str | None) -> None:
        with self._write() as conn:
            conn.execute(
                update(t.sends)
                .where(t.sends.c.id == send_id)
                .values(bounceback_id=bounceback_id, return_path=return_path)
            )

    def _insert_send(
        self,
        conn: Connection,
        email: str,
        campaign_id: int | None,
        address_id: int | None = None,
        message_id: str | None = None,
        bounceback_id: str | None = None,
        return_path: str | None = None,
        sent_at: dt.datetime | None = None,
    ) -> int:
        contact_id = None
        if address_id is None:
            found = self._address_by_email(conn, email, current_only=True)
            if found is not None:
                address_id, contact_id = found["id"], found["contact_id"]
        else:
            contact_id = conn.execute(
                select(t.addresses.c.contact_id).where(t.addresses.c.id == address_id)
            ).scalar()
        row = t.clip(
            t.sends,
            {
                "email": email,
                "campaign_id": campaign_id,
                "address_id": address_id,
                "contact_id": contact_id,
                "message_id": (message_id or "").strip() or None,
                "bounceback_id": bounceback_id or None,
                "return_path": return_path or None,
                "sent_at": _naive(sent_at) or utcnow(),
            },
        )
        send_id = int(
            conn.execute(insert(t.sends).values(row).returning(t.sends.c.id)).scalar_one()
        )
        add_sends(conn, [(row["sent_at"], campaign_id, row["email"])])  # W2: send_stats rollup
        return send_id

    def import_sends(self, text: str) -> ImportResult:
        """A send log from another system (see match.send_csv); bad rows by line."""
        from bounceback.match.send_csv import parse_sends_csv

        rows, errors = parse_sends_csv(text)
        result = ImportResult(errors=list(errors))
        with self._write() as conn:
            campaigns: dict[str, int] = {}
            for row in rows:
                cid = None
                if row.campaign:
                    if row.campaign not in campaigns:
                        campaigns[row.campaign] = self._campaign_id(conn, row.campaign, True)
                    cid = campaigns[row.campaign]
                try:
                    with conn.begin_nested():
                        self._insert_send(
                            conn,
                            normalise(row.email),
                            cid,
                            None,
                            row.message_id,
                            row.bounceback_id,
                            row.return_path,
                            row.sent_at,
                        )
                    result.imported += 1
                except IntegrityError:
                    result.errors.append(
                        f"{row.email}: bounceback id {row.bounceback_id!r} is already in the log"
                    )
        return result

    # --- sender health --------------------------------------------------------------
    def health(self, now: dt.datetime | None = None) -> dict[str, Any]:
        """Sender-fault bounces per recipient domain in the window; bursts are warnings."""
        policy = self.config.policy
        now = _naive(now) or utcnow()
        since = now - dt.timedelta(hours=policy.sender_health_window_hours)
        e = t.events.c
        # `domain || ''` keeps SQLite from walking the whole domain index for the GROUP BY
        # (seconds at 1M events) instead of reading the occurred_at range (milliseconds).
        domain = (e.domain + "").label("domain")
        with self._read() as conn:
            rows = conn.execute(
                select(domain, e.reason, func.count(), func.max(e.occurred_at))
                .where(e.bounce_type == "Sender", e.occurred_at >= since, e.undone_at.is_(None))
                .group_by(domain, e.reason)
            ).all()
        domains: dict[str, dict[str, Any]] = {}
        for domain, reason, n, last in rows:
            entry = domains.setdefault(domain, {"domain": domain, "count": 0, "reasons": {}})
            entry["count"] += int(n)
            entry["reasons"][reason] = int(n)
            entry["last"] = max(entry.get("last") or "", iso(last) or "")
        ordered = sorted(domains.values(), key=lambda d: (-d["count"], d["domain"]))
        for entry in ordered:
            entry["warning"] = entry["count"] >= policy.sender_health_burst
        return {
            "window_hours": policy.sender_health_window_hours,
            "burst": policy.sender_health_burst,
            "since": iso(since),
            "warnings": [d for d in ordered if d["warning"]],
            "domains": ordered,
        }

    # --- unmatched and quarantined ---------------------------------------------------
    def messages(self, outcome: str, limit: int = 100) -> list[dict[str, Any]]:
        m = t.messages.c
        with self._read() as conn:
            rows = conn.execute(
                select(m.id, m.ref, m.received_at, m.kind, m.detector, m.error, m.size)
                .where(m.outcome == outcome)
                .order_by(m.id.desc())
                .limit(limit)
            ).all()
        return [
            {
                "id": r.id,
                "ref": r.ref,
                "received_at": iso(r.received_at),
                "kind": r.kind,
                "detector": r.detector,
                "error": r.error,
                "size": r.size,
            }
            for r in rows
        ]

    # --- settings -------------------------------------------------------------------
    def setting(self, key: str) -> str | None:
        with self._read() as conn:
            value = conn.execute(select(t.settings.c.value).where(t.settings.c.key == key))
            found = value.scalar()
            return None if found is None else str(found)

    def set_setting(self, key: str, value: str) -> None:
        with self._write() as conn:
            conn.execute(delete(t.settings).where(t.settings.c.key == key))
            conn.execute(insert(t.settings).values(key=key, value=value))

    def thresholds(self) -> dict[str, int | None]:
        """The hold thresholds in force: the bounce_types table, the config file on top."""
        self.load_thresholds()
        return dict(self.config.policy.thresholds)

    def set_threshold(self, bounce_type: str, threshold: int | None) -> None:
        with self._write() as conn:
            done = conn.execute(
                update(t.bounce_types)
                .where(t.bounce_types.c.name == bounce_type)
                .values(threshold=threshold)
            )
            if not done.rowcount:
                raise LedgerError(f"no bounce type named {bounce_type!r}")
            live.bump(conn)
        self.config.policy.thresholds[bounce_type] = threshold


def sync_contact(conn: Connection, contact_id: int, policy: PolicyConfig) -> None:
    """Bulk mail off while any address is bounced or suppressed; disabled by the count."""
    a, s = t.addresses.c, t.suppressions.c
    rows = conn.execute(select(t.addresses).where(a.contact_id == contact_id)).mappings().all()
    # Current addresses only: a dead address kept as history may stay suppressed.
    emails = [r["email"] for r in rows if r["email"]]
    suppressed = (
        bool(emails) and conn.execute(select(s.id).where(s.email.in_(emails))).first() is not None
    )
    bad = suppressed or any(r["bounced"] for r in rows)
    disabled = bool(policy.disable_after) and any(
        r["consecutive_bounces"] >= policy.disable_after for r in rows
    )
    conn.execute(
        update(t.contacts)
        .where(t.contacts.c.id == contact_id)
        .values(
            bulk_mail="do_not_allow" if bad else "allowed",
            disabled=disabled,
            disabled_at=utcnow() if disabled else None,
        )
    )


def reset_values(now: dt.datetime) -> dict[str, Any]:
    """An address's bounce state cleared (unhold, a new address): its counts start over."""
    return {
        "bounced": False,
        "on_hold": False,
        "hold_since": None,
        "hold_type": None,
        "bounce_counts": {},
        "consecutive_bounces": 0,
        "reset_at": now,
    }


def _read_csv(
    text: str, required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[str]]:
    """Rows with their line numbers (the header is line 1) and the errors found."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff"), newline=""))
    fields = [f.strip().lower() for f in reader.fieldnames or []]
    missing = [r for r in required if r not in fields]
    if missing:
        return [], [f"line 1: the header lacks {', '.join(missing)}"]
    reader.fieldnames = fields
    rows = []
    errors = []
    for record in reader:
        line = reader.line_num
        if None in record:
            errors.append(f"line {line}: more fields than the header")
            continue
        if any(v is None for v in record.values()):
            errors.append(f"line {line}: fewer fields than the header")
            continue
        rows.append((line, {k: v for k, v in record.items() if k}))
    return rows, errors


def _naive(value: dt.datetime | None) -> dt.datetime | None:
    if value is None or value.tzinfo is None:
        return value
    return value.astimezone(dt.UTC).replace(tzinfo=None)


def _event_view(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "at": iso(row["occurred_at"]),
        "email": row["email"],
        "kind": row["kind"],
        "reason": row["reason"],
        "bounce_type": row["bounce_type"],
        "hardbounce": row["hardbounce"],
        "status": row["status"],
        "diagnostic": row["diagnostic"],
        "source": row["source"],
        "match_method": row["match_method"],
        "rule": row["rule"],
        "effects": row["effects"] or {},
        "undone": row["undone_at"] is not None,
    }
