"""``process``: the engine plus the ledger, batched, idempotent, safe with two processes.

Per batch of messages: parse and classify (pure, outside any transaction), then in
ONE transaction: skip keys already seen, match every bounce to a send and an
address, claim the idempotency keys (``INSERT .. ON CONFLICT DO NOTHING``: a key
another process claimed first makes the message a duplicate), lock the addresses
and contacts (``FOR UPDATE`` on PostgreSQL, ordered to avoid deadlocks), apply the
policy in memory and write everything back with a handful of executemany
statements. Each message's changes land whole or not at all: a batch that fails
is rolled back and retried one message at a time, so one bad message cannot sink
its neighbours, and an outcome is reported (and may be acknowledged) only after
its transaction committed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import multiprocessing
import os
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

from sqlalchemy import Connection, Engine, Table, bindparam, delete, select, update
from sqlalchemy.exc import DBAPIError, OperationalError

from bounceback.classify import RuleSet, classify, classify_each
from bounceback.config import Config
from bounceback.ledger import campaign_counts
from bounceback.ledger import tables as t
from bounceback.ledger.activities import Purpose, Reply, file_replies, read_reply
from bounceback.ledger.db import dialect_insert, unavailable
from bounceback.ledger.deadline import TooSlow, limit, run_within
from bounceback.ledger.lookup import BatchLookup, SendRef, chunks
from bounceback.ledger.models import naive_utc, utcnow
from bounceback.ledger.orphans import die_with_parent
from bounceback.ledger.outcomes import MessageOutcome
from bounceback.ledger.policy import AddressState, ContactState, Effects, Facts, apply
from bounceback.ledger.rollups import add_events as count_in_rollups
from bounceback.match.matcher import MatchResult, find_send
from bounceback.match.verp import VerpSigner
from bounceback.model import Bounce, Kind, RawMessage, Report, SourceEvent
from bounceback.parse import parse

KEY_LENGTH = 200  # messages.idempotency_key


@dataclass(slots=True)
class Outcome:
    """What became of one message; ``error`` means nothing was written (do not ack)."""

    label: str
    outcome: MessageOutcome
    key: str
    records: int = 0
    error: str = ""
    raw: RawMessage | None = None


@dataclass(slots=True)
class Summary:
    processed: int = 0
    matched: int = 0
    unmatched: int = 0
    ignored: int = 0
    quarantined: int = 0
    duplicates: int = 0
    errors: int = 0
    bounces: int = 0
    filed: int = 0  # human replies filed as activities (purpose "activities" or "both")

    def add(self, outcome: Outcome) -> None:
        self.processed += 1
        kind = MessageOutcome(outcome.outcome)  # a caller may hand the plain string
        setattr(self, kind.summary_field, getattr(self, kind.summary_field) + 1)
        if kind.applies_bounces:
            self.bounces += outcome.records

    def as_dict(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in self.__slots__}


@dataclass(slots=True)
class _Item:
    label: str
    raw: RawMessage
    key: str
    outcome: MessageOutcome | None = None  # decided by prepare, or later
    error: str = ""
    report: Report | None = None
    bounces: list[Bounce] = field(default_factory=list)
    refs: list[SendRef | None] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    # Per bounce: did the evidence prove a send of ours (see _match)?
    verified: list[bool] = field(default_factory=list)
    address_ids: list[int | None] = field(default_factory=list)
    message_id: int | None = None
    compressed: bytes | None = None  # the raw bytes, zlib, as stored
    # What prepare() decided, before any transaction: a retry starts from here.
    prepared: tuple[MessageOutcome | None, str] = (None, "")
    replaces: int | None = None  # a quarantined message row this one takes the place of
    reply: Reply | None = None  # a human reply's fields, read once when it is filed

    def decided(self) -> MessageOutcome:
        """The outcome once committed (every path through ``_commit`` sets one)."""
        if self.outcome is None:
            raise RuntimeError(f"{self.label}: committed without an outcome")
        return self.outcome


# A message parsed and classified, waiting for its transaction (Ledger.prepare, .commit).
PreparedMessage = _Item


def idempotency_key(raw: RawMessage) -> str:
    """The provider's event id for events; a hash of the bytes for mail, its line
    endings as LF: SMTP carries CRLF, a Maildir file LF, and it is the same message."""
    if raw.event is not None and raw.event.get("id"):
        return fit_key(f"event:{raw.source}:{raw.event['id']}")
    return "sha256:" + hashlib.sha256(raw.data.replace(b"\r\n", b"\n")).hexdigest()


def fit_key(key: str) -> str:
    """A key the column holds whole: a long one is hashed, never cut (cut keys collide)."""
    if len(key) <= KEY_LENGTH:
        return key
    return "long:" + hashlib.sha256(key.encode("utf-8", "surrogatepass")).hexdigest()


def _retryable(exc: DBAPIError) -> bool:
    """PostgreSQL deadlock or serialization failure: try again, it is nobody's fault."""
    code = getattr(exc.orig, "sqlstate", None)
    return code in ("40001", "40P01")


def prepare(
    label: str, raw: RawMessage, rules: RuleSet | None, max_bytes: int, deadline: float = 0.0
) -> _Item:
    """Parse, classify, hash and compress: pure work, outside any transaction.

    ``deadline``: seconds parse + classify may take (0: no limit); a message that
    takes longer is quarantined as too slow (ledger.deadline)."""
    item = _Item(label=label, raw=raw, key=idempotency_key(raw))
    if max_bytes and len(raw.data) > max_bytes:
        item.outcome, item.error = (
            MessageOutcome.QUARANTINED,
            f"message too large: {len(raw.data)} bytes",
        )
    else:
        try:
            _analyse(item, rules, deadline)
        except TooSlow as slow:  # kept, with the reason, for a retry after a fix
            item.report, item.bounces = None, []
            item.outcome, item.error = MessageOutcome.QUARANTINED, str(slow)
        except Exception as exc:  # an engine bug: keep the message, do not stop the run
            item.report, item.bounces = None, []
            item.outcome, item.error = (
                MessageOutcome.QUARANTINED,
                f"engine error: {type(exc).__name__}: {exc}",
            )
    if item.outcome != MessageOutcome.IGNORED:
        item.compressed = zlib.compress(raw.data, 6)
    item.prepared = (item.outcome, item.error)
    return item


def analyse(data: bytes, rules: RuleSet | None) -> tuple[Report, list[Bounce]]:
    """parse + classify of one message (module level: a child process runs it too)."""
    report = parse(data)
    return report, [] if report.kind == Kind.UNPARSEABLE else classify(report, rules)


def analyse_each(data: bytes, rules: RuleSet | None) -> tuple[Report, list[Bounce | None]]:
    """``analyse`` with one entry per record, None where an ignore rule matched (replay)."""
    report = parse(data)
    return report, [] if report.kind == Kind.UNPARSEABLE else classify_each(report, rules)


def _analyse(item: _Item, rules: RuleSet | None, deadline: float) -> None:
    data = item.raw.data
    report, bounces = run_within(deadline, analyse, data, rules)
    item.report = report
    if report.kind == Kind.UNPARSEABLE:
        item.outcome, item.error = MessageOutcome.QUARANTINED, report.error or "unparseable"
        return
    item.bounces = bounces
    # Records but no bounces: every record was ignored by a user rule (not a bounce).
    if not item.bounces and (report.kind == Kind.NOT_BOUNCE or report.records):
        item.outcome = MessageOutcome.IGNORED
    elif not item.bounces:
        item.outcome, item.error = MessageOutcome.QUARANTINED, f"{report.kind} without a recipient"


def prepare_event(event: SourceEvent, rules: RuleSet | None) -> _Item:
    """An event a log or webhook source already turned into a Report: classify only."""
    raw = RawMessage(
        data=b"",
        source=event.source,
        ref=event.ref,
        received_at=event.received_at,
        event=dict(event.meta),
    )
    item = _Item(label=event.ref, raw=raw, key=fit_key(event.key), report=event.report)
    item.bounces = classify(event.report, rules)
    if not item.bounces:
        item.outcome = MessageOutcome.IGNORED
    item.prepared = (item.outcome, item.error)
    return item


_worker_rules: RuleSet | None = None
_worker_max_bytes = 0
_worker_deadline = 0.0


def _init_worker(rules: RuleSet | None, max_bytes: int, deadline: float, parent_pid: int) -> None:
    global _worker_rules, _worker_max_bytes, _worker_deadline
    die_with_parent(parent_pid)  # a killed parent must not leave workers running
    _worker_rules, _worker_max_bytes, _worker_deadline = rules, max_bytes, deadline


def _prepare_batch(batch: list[tuple[str, RawMessage]]) -> list[_Item]:
    rules, max_bytes, deadline = _worker_rules, _worker_max_bytes, _worker_deadline
    return [prepare(label, raw, rules, max_bytes, deadline) for label, raw in batch]


def _parallel(
    batches: Iterator[list[tuple[str, RawMessage]]],
    jobs: int,
    rules: RuleSet | None,
    max_bytes: int,
    deadline: float,
) -> Iterator[list[_Item]]:
    """Prepared batches in input order, at most 2 x jobs in flight (memory stays flat).

    Workers that cannot start (spawn needs an importable ``__main__``: not so for a
    script read from stdin) or die are no reason to stop: the rest is parsed here.
    """

    def inline(batch: list[tuple[str, RawMessage]]) -> list[_Item]:
        return [prepare(label, raw, rules, max_bytes, deadline) for label, raw in batch]

    # spawn, not fork: a forked child would share the parent's database sockets.
    context = multiprocessing.get_context("spawn")
    pending: deque[tuple[list[tuple[str, RawMessage]], Future[list[_Item]]]] = deque()
    with ProcessPoolExecutor(
        jobs,
        mp_context=context,
        initializer=_init_worker,
        initargs=(rules, max_bytes, deadline, os.getpid()),
    ) as pool:
        try:
            for batch in batches:
                pending.append((batch, pool.submit(_prepare_batch, batch)))
                if len(pending) >= 2 * jobs:
                    yield pending[0][1].result()
                    pending.popleft()
            while pending:
                yield pending[0][1].result()
                pending.popleft()
        except BrokenProcessPool:
            pass
    for batch, _ in pending:
        yield inline(batch)
    for batch in batches:
        yield inline(batch)


class Processor:
    def __init__(
        self,
        engine: Engine,
        config: Config,
        rules: RuleSet | None = None,
        signer: VerpSigner | None = None,
        purpose: Purpose = "bounces",
    ) -> None:
        self.engine = engine
        self.purpose = purpose
        self.config = config
        self.policy = config.policy
        self.rules = rules
        self.signer = signer
        self.deadline = limit(config.policy.parse_deadline_seconds)

    # --- the public loop -----------------------------------------------------------
    def run(
        self,
        messages: Iterable[tuple[str, RawMessage]],
        batch_size: int = 200,
        on_committed: Callable[[Outcome], None] | None = None,
        jobs: int = 1,
    ) -> Iterator[Outcome]:
        """Process (label, message) pairs; yield each outcome after its commit.

        ``jobs`` > 1 parses in that many worker processes while this one writes:
        parsing is pure and most of the work, the database wants one writer.
        """
        source = iter(messages)
        batches = iter(lambda: list(islice(source, batch_size)), [])
        if jobs > 1:
            prepared = _parallel(
                batches, jobs, self.rules, self.policy.max_message_bytes, self.deadline
            )
        else:
            prepared = ([self.prepare(label, raw) for label, raw in b] for b in batches)
        for items in prepared:
            for outcome in self._commit_safely(items):
                if on_committed is not None and outcome.outcome != MessageOutcome.ERROR:
                    on_committed(outcome)
                yield outcome

    def prepare(self, label: str, raw: RawMessage) -> _Item:
        """One message parsed and classified under this processor's limits."""
        return prepare(label, raw, self.rules, self.policy.max_message_bytes, self.deadline)

    def commit(self, items: list[_Item]) -> list[Outcome]:
        """Prepared messages applied in one transaction (one at a time if that fails)."""
        return self._commit_safely(items)

    def store(self, events: Iterable[SourceEvent], batch_size: int = 200) -> list[Outcome]:
        """Apply source events (logs, webhooks), idempotent by their keys."""
        source = iter(events)
        outcomes: list[Outcome] = []
        while batch := list(islice(source, batch_size)):
            outcomes.extend(self._commit_safely([prepare_event(e, self.rules) for e in batch]))
        return outcomes

    def retry_quarantined(
        self, batch_size: int = 200, only: Iterable[int] | None = None
    ) -> Iterator[Outcome]:
        """Process the kept bytes of quarantined messages again (after an engine fix);
        ``only``: just these message rows (the dashboard's per-message retry).

        The ids are taken first: a message quarantined again gets a new row, which
        this run must not pick up a second time.
        """
        m = t.messages.c
        stmt = select(m.id).where(m.outcome == MessageOutcome.QUARANTINED, m.raw.is_not(None))
        if only is not None:
            stmt = stmt.where(m.id.in_(sorted(set(only))))
        with self.engine.connect() as conn:
            ids = list(conn.execute(stmt.order_by(m.id)).scalars())
        for start in range(0, len(ids), batch_size):
            with self.engine.connect() as conn:
                rows = conn.execute(
                    select(m.id, m.raw, m.source, m.ref, m.received_at)
                    .where(
                        m.id.in_(ids[start : start + batch_size]),
                        m.outcome == MessageOutcome.QUARANTINED,
                    )
                    .order_by(m.id)
                ).all()
            items = []
            for row in rows:
                raw = RawMessage(zlib.decompress(row.raw), row.source, row.ref, row.received_at)
                item = self.prepare(row.ref, raw)
                item.replaces = row.id
                items.append(item)
            yield from self._commit_safely(items)

    # --- transactions --------------------------------------------------------------
    def _commit_safely(self, items: list[_Item]) -> list[Outcome]:
        failure: Exception | None = None
        for attempt in range(3):
            try:
                return self._commit(items)
            except DBAPIError as exc:
                if _retryable(exc) and attempt < 2:
                    continue
                if isinstance(exc, OperationalError):
                    raise unavailable(exc) from exc
                failure = exc
            except Exception as exc:  # one bad message must not stop the others
                failure = exc
            break
        if len(items) == 1:
            return [self._failed(items[0], failure or RuntimeError("failed"))]
        # One at a time, so the bad message is the only one not written.
        return [o for item in items for o in self._commit_safely([item])]

    @staticmethod
    def _reset(item: _Item) -> None:
        item.outcome, item.error = item.prepared
        item.refs, item.methods, item.address_ids, item.message_id = [], [], [], None
        item.verified = []

    @staticmethod
    def _failed(item: _Item, exc: BaseException) -> Outcome:
        detail = str(getattr(exc, "orig", None) or exc).strip().splitlines()[:1]
        text = f"{type(exc).__name__}: {detail[0] if detail else ''}"
        return Outcome(
            item.label, MessageOutcome.ERROR, item.key, len(item.bounces), text, item.raw
        )

    def _commit(self, items: list[_Item]) -> list[Outcome]:
        for item in items:  # a retry starts from what prepare() found
            self._reset(item)
            self._set_purpose(item)
        with self.engine.begin() as conn:
            retried = [i.replaces for i in items if i.replaces is not None]
            for batch in chunks(retried):
                # In this same transaction: the old row goes only if the new one lands.
                m = t.messages.c
                conn.execute(
                    delete(t.messages).where(
                        m.id.in_(batch), m.outcome == MessageOutcome.QUARANTINED
                    )
                )
            fresh = self._skip_seen(conn, items)
            self._match(conn, [i for i in fresh if i.bounces and not i.outcome])
            self._claim(conn, fresh)
            self._apply(
                conn, [i for i in fresh if i.outcome is not None and i.outcome.applies_bounces]
            )
            filed = [
                i for i in fresh if i.outcome == MessageOutcome.FILED and i.message_id is not None
            ]
            if filed:
                file_replies(conn, [(i.message_id or 0, i.key, i.reply) for i in filed if i.reply])
        return [Outcome(i.label, i.decided(), i.key, len(i.bounces), i.error, i.raw) for i in items]

    def _set_purpose(self, item: _Item) -> None:
        """Bounces are not applied for "activities"; human replies are filed unless "bounces"."""
        if self.purpose == "bounces" or item.outcome == MessageOutcome.QUARANTINED:
            return
        if self.purpose == "activities" and item.bounces:
            item.outcome, item.error = MessageOutcome.IGNORED, ""
            return
        report = item.report
        if (
            item.outcome != MessageOutcome.IGNORED
            or report is None
            or report.kind != Kind.NOT_BOUNCE
        ):
            return
        if not item.raw.data:  # an event from a log or webhook, not a message
            return
        if item.reply is None:
            try:
                item.reply = read_reply(item.raw.data)
            except Exception as exc:  # keep it for a person rather than lose it
                item.outcome, item.error = (
                    MessageOutcome.QUARANTINED,
                    f"reply: {type(exc).__name__}: {exc}",
                )
                item.compressed = item.compressed or zlib.compress(item.raw.data, 6)
                return
        if item.reply.automated:  # a notification or list mail: nobody to file it on
            return
        item.outcome = MessageOutcome.FILED
        if item.compressed is None:  # the activity's raw message lives on the messages row
            item.compressed = zlib.compress(item.raw.data, 6)

    def _skip_seen(self, conn: Connection, items: list[_Item]) -> list[_Item]:
        seen: set[str] = set()
        for batch in chunks({i.key for i in items}):
            col = t.messages.c.idempotency_key
            seen.update(conn.execute(select(col).where(col.in_(batch))).scalars())
        fresh = []
        for item in items:
            if item.key in seen:
                item.outcome, item.error = MessageOutcome.DUPLICATE, ""
            else:
                seen.add(item.key)
                fresh.append(item)
        return fresh

    def _match(self, conn: Connection, items: list[_Item]) -> None:
        lookup = BatchLookup(conn)
        unsigned = self.config.verp.unsigned_domain

        def find(item: _Item, bounce: Bounce) -> MatchResult:
            assert item.report is not None
            return find_send(
                item.report,
                bounce,
                lookup,
                self.signer,
                item.raw.envelope_to,
                unsigned_domain=unsigned,
            )

        lookup.recording = True
        for item in items:
            for bounce in item.bounces:
                find(item, bounce)
        lookup.prefetch()
        lookup.recording = False
        for item in items:
            for bounce in item.bounces:
                result = find(item, bounce)
                if result.problem:
                    item.outcome, item.error = (
                        MessageOutcome.QUARANTINED,
                        f"matching: {result.problem}",
                    )
                    break
                ref = lookup.by_id(result.send_id) if result.send_id is not None else None
                item.refs.append(ref)
                item.methods.append(result.method if ref is not None else "none")
                item.verified.append(self._verified(item, result))
        self._resolve_addresses(conn, [i for i in items if not i.outcome])

    def _verified(self, item: _Item, result: MatchResult) -> bool:
        """Whether this bounce may act on a contact (DESIGN.md, Policy).

        Mail can be forged by anyone; where signed VERP is configured only a bounce
        that proves a send of ours may act. Log lines and signed webhooks are not mail:
        their source vouches for them. Without signed VERP, the recipient is all a site
        has, and it is trusted (docs/security.md says what that costs).
        """
        return item.raw.event is not None or self.signer is None or result.proves_send

    def _resolve_addresses(self, conn: Connection, items: list[_Item]) -> None:
        """The address each bounce is about: the matched send's, else the recipient's."""
        wanted = {
            b.recipient.lower()
            for i in items
            for b, ref in zip(i.bounces, i.refs, strict=True)
            if ref is None or ref.address_id is None
        }
        by_email: dict[str, int] = {}
        by_bounced: dict[str, int] = {}
        a = t.addresses
        for batch in chunks(wanted):
            rows = conn.execute(
                select(a.c.id, a.c.email, a.c.bounced_address)
                .where(a.c.email.in_(batch) | a.c.bounced_address.in_(batch))
                .order_by(a.c.id)
            ).all()
            for row in rows:
                if row.email:
                    by_email[row.email] = row.id
                if row.bounced_address:
                    by_bounced[row.bounced_address] = row.id
        for item in items:
            for n, (bounce, ref) in enumerate(zip(item.bounces, item.refs, strict=True)):
                if ref is not None and ref.address_id is not None:
                    item.address_ids.append(ref.address_id)
                    continue
                email = bounce.recipient.lower()
                found = by_email.get(email) or by_bounced.get(email)
                item.address_ids.append(found)
                if found is not None and item.methods[n] == "none":
                    item.methods[n] = "address"
            item.outcome = (
                MessageOutcome.MATCHED
                if any(x is not None for x in item.address_ids)
                else MessageOutcome.UNMATCHED
            )

    def _claim(self, conn: Connection, items: list[_Item]) -> None:
        """Insert the message rows; a key that is already there makes a duplicate."""
        if not items:
            return
        rows = []
        for item in sorted(items, key=lambda i: i.key):  # one order: no deadlocks between workers
            report = item.report
            rows.append(
                t.clip(
                    t.messages,
                    {
                        "idempotency_key": item.key,
                        "source": item.raw.source,
                        "ref": item.raw.ref or item.label,
                        "received_at": naive_utc(item.raw.received_at),
                        "size": len(item.raw.data),
                        "raw": item.compressed,
                        "kind": str(report.kind) if report else "",
                        "detector": report.detector if report else "",
                        "outcome": item.outcome,
                        "error": item.error,
                    },
                )
            )
        stmt = (
            dialect_insert(conn, t.messages)
            # No conflict target: on partitioned PostgreSQL the key's uniqueness lives in
            # message_keys (migration 0007), whose trigger skips a taken key.
            .on_conflict_do_nothing()
            .returning(t.messages.c.id, t.messages.c.idempotency_key)
        )
        claimed = {row[1]: row[0] for row in conn.execute(stmt, rows)}
        for item in items:
            item.message_id = claimed.get(item.key)
            if item.message_id is None:
                item.outcome, item.error = MessageOutcome.DUPLICATE, ""

    def _apply(self, conn: Connection, items: list[_Item]) -> None:
        """Each bounce through the policy, in order, then every change written at once."""
        if not items:
            return
        batch = self._load_state(conn, items)
        events = [
            self._apply_bounce(batch, item, n, bounce)
            for item in items
            for n, bounce in enumerate(item.bounces)
        ]
        conn.execute(t.events.insert(), events)
        count_in_rollups(conn, events)  # daily_stats, in the same transaction
        batch.write(conn)

    def _load_state(self, conn: Connection, items: list[_Item]) -> _Batch:
        """The batch's addresses and contacts (locked), and its open campaigns' counts."""
        ids = sorted({a for i in items for a in i.address_ids if a is not None})
        addresses = _lock_rows(conn, t.addresses, ids)
        contact_ids = sorted({row["contact_id"] for row in addresses.values()})
        contacts = _lock_rows(conn, t.contacts, contact_ids)
        campaign_ids = {r.campaign_id for i in items for r in i.refs if r and r.campaign_id}
        still_open = campaign_counts.open_campaigns(conn, campaign_ids, self.policy)
        return _Batch(
            addresses=addresses,
            contacts=contacts,
            states={aid: _address_state(row) for aid, row in addresses.items()},
            people={
                cid: ContactState(row["bulk_mail"], row["disabled"])
                for cid, row in contacts.items()
            },
            open_campaigns=still_open,
            tally=campaign_counts.Tally(conn, _campaign_addresses(items, still_open)),
        )

    def _apply_bounce(self, batch: _Batch, item: _Item, n: int, bounce: Bounce) -> dict[str, Any]:
        """One bounce: the policy on its address and contact, its campaign count; the
        event row that records it."""
        at = naive_utc(item.raw.received_at)
        aid, ref = item.address_ids[n], item.refs[n]
        effects = Effects()
        email = bounce.recipient.lower()
        contact_id = None
        if aid is not None and aid in batch.states:
            state = batch.states[aid]
            email = state.email or state.bounced_address or email
            contact_id = batch.addresses[aid]["contact_id"]
            facts = Facts(
                str(bounce.kind),
                bounce.hardbounce,
                bounce.bounce_type,
                bounce.reason,
                at,
                verified=item.verified[n],
            )
            effects = apply(facts, state, batch.people[contact_id], self.policy)
            batch.dirty.add(aid)
            if effects.suppressed:
                batch.suppress.setdefault(
                    email,
                    {
                        "email": email,
                        "reason": bounce.reason or effects.suppressed,
                        "source": effects.suppressed,
                        "since": at,
                    },
                )
        campaign_id = ref.campaign_id if ref else None
        counted = campaign_counts.counts_as(
            str(bounce.kind),
            bounce.hardbounce,
            item.verified[n],
            campaign_open=campaign_id in batch.open_campaigns,
        )
        if counted and campaign_id is not None:
            batch.tally.add(campaign_id, aid, counted)
        return _event_row(item, n, bounce, aid, contact_id, ref, email, at, effects, counted)


def _campaign_addresses(items: list[_Item], still_open: set[int]) -> Iterator[tuple[int, int]]:
    """(campaign id, address id) of each bounce that may count in an open campaign."""
    for item in items:
        for ref, aid in zip(item.refs, item.address_ids, strict=True):
            if ref is not None and ref.campaign_id in still_open and aid is not None:
                yield ref.campaign_id, aid


@dataclass(slots=True)
class _Batch:
    """What one transaction's bounces change, loaded once and written once."""

    addresses: dict[int, dict[str, Any]]
    contacts: dict[int, dict[str, Any]]
    states: dict[int, AddressState]
    people: dict[int, ContactState]
    open_campaigns: set[int]
    tally: campaign_counts.Tally
    dirty: set[int] = field(default_factory=set)  # address ids the policy touched
    suppress: dict[str, dict[str, Any]] = field(default_factory=dict)  # by email

    def write(self, conn: Connection) -> None:
        if self.dirty:
            _write_addresses(conn, {aid: self.states[aid] for aid in sorted(self.dirty)})
            _write_contacts(conn, self.people, self.contacts)
        if self.suppress:
            stmt = dialect_insert(conn, t.suppressions).on_conflict_do_nothing(
                index_elements=["email"]
            )
            conn.execute(stmt, [self.suppress[k] for k in sorted(self.suppress)])
        self.tally.write(conn)


def _lock_rows(conn: Connection, table: Table, ids: list[int]) -> dict[int, dict[str, Any]]:
    """Rows by id, locked for this transaction on PostgreSQL (SQLite locks the file)."""
    out: dict[int, dict[str, Any]] = {}
    for batch in chunks(ids):
        stmt = select(table).where(table.c.id.in_(batch)).order_by(table.c.id)
        if conn.dialect.name == "postgresql":
            stmt = stmt.with_for_update()
        for row in conn.execute(stmt).mappings():
            out[row["id"]] = dict(row)
    return out


def _address_state(row: dict[str, Any]) -> AddressState:
    return AddressState(
        email=row["email"],
        bounced_address=row["bounced_address"],
        bounced=row["bounced"],
        on_hold=row["on_hold"],
        hold_since=row["hold_since"],
        hold_type=row["hold_type"],
        counts=dict(row["bounce_counts"] or {}),
        consecutive=row["consecutive_bounces"],
        last_bounce_at=row["last_bounce_at"],
        last_counted_on=row["last_counted_on"],
    )


def address_values(state: AddressState) -> dict[str, Any]:
    return {
        "email": state.email,
        "bounced_address": state.bounced_address,
        "bounced": state.bounced,
        "on_hold": state.on_hold,
        "hold_since": state.hold_since,
        "hold_type": state.hold_type,
        "bounce_counts": state.counts,
        "consecutive_bounces": state.consecutive,
        "last_bounce_at": state.last_bounce_at,
        "last_counted_on": state.last_counted_on,
    }


def _write_addresses(conn: Connection, states: dict[int, AddressState]) -> None:
    names = list(address_values(AddressState(email=None)))
    stmt = (
        update(t.addresses)
        .where(t.addresses.c.id == bindparam("aid"))
        .values({name: bindparam(f"v_{name}") for name in names})
    )
    rows = [
        {"aid": aid, **{f"v_{k}": v for k, v in address_values(state).items()}}
        for aid, state in states.items()
    ]
    conn.execute(stmt, rows)


def _write_contacts(
    conn: Connection, people: dict[int, ContactState], before: dict[int, dict[str, Any]]
) -> None:
    changed = [
        {"cid": cid, "v_bulk": p.bulk_mail, "v_disabled": p.disabled, "v_at": utcnow()}
        for cid, p in sorted(people.items())
        if (p.bulk_mail, p.disabled) != (before[cid]["bulk_mail"], before[cid]["disabled"])
    ]
    if not changed:
        return
    c = t.contacts.c
    conn.execute(
        update(t.contacts)
        .where(c.id == bindparam("cid"))
        .values(bulk_mail=bindparam("v_bulk"), disabled=bindparam("v_disabled"))
        .values(disabled_at=bindparam("v_at")),
        changed,
    )


def _record_position(item: _Item, n: int, bounce: Bounce) -> int:
    """The record's place in its report (replay and explain classify the message again and
    look it up there): the bounce's own place unless an ignore rule dropped one before it."""
    records = item.report.records if item.report is not None else []
    for index, record in enumerate(records):
        if record is bounce.record:
            return index
    return n  # a record a user rule made (the message had none)


def _event_row(
    item: _Item,
    n: int,
    bounce: Bounce,
    address_id: int | None,
    contact_id: int | None,
    ref: SendRef | None,
    email: str,
    at: dt.datetime,
    effects: Effects,
    counted: str,
) -> dict[str, Any]:
    record = bounce.record
    original = bounce.original
    return t.clip(
        t.events,
        {
            "message_id": item.message_id,
            "position": _record_position(item, n, bounce),
            "address_id": address_id,
            "contact_id": contact_id,
            "send_id": ref.id if ref else None,
            "campaign_id": ref.campaign_id if ref else None,
            "match_method": item.methods[n],
            "verified": item.verified[n],
            "email": email,
            "domain": email.rpartition("@")[2],
            "source": item.raw.source,
            "kind": str(bounce.kind),
            "detector": bounce.detector,
            "reason": bounce.reason,
            "hardbounce": bounce.hardbounce,
            "permanent": bounce.permanent,
            "bounce_type": bounce.bounce_type,
            "rule": bounce.rule,
            "status": bounce.status,
            "reply_code": record.reply_code,
            "action": record.action,
            "diagnostic": record.diagnostic,
            "remote_mta": record.remote_mta,
            "reporting_mta": record.reporting_mta,
            "smtp_command": record.smtp_command,
            "original_message_id": original.message_id,
            "bounceback_id": original.bounceback_id,
            "envelope_id": original.envelope_id,
            "status_found": record.status,
            "diagnostic_type": record.diagnostic_type,
            "original_recipient": record.original_recipient,
            "last_attempt": record.last_attempt,
            "feedback_type": record.feedback_type,
            "reason_hint": record.reason_hint,
            "original_subject": original.subject,
            "original_from": original.from_,
            "original_to": original.to,
            "original_return_path": original.return_path,
            "occurred_at": at,
            "effects": effects.as_dict(),
            "campaign_counted": counted,
            "undone_at": None,
            "undo_id": None,
        },
    )
