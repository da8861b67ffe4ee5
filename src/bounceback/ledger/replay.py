"""Replay (re-classify stored bounces under other rules) and undo (reverse an incident).

Both work the same way: change the stored events (new classification, or marked
undone), then rebuild each affected address from its remaining history with the
policy's own :func:`~bounceback.ledger.policy.apply`, and write the difference:
holds, bounced flag, removed address, bounce-made suppressions, bulk mail, disabled.
History is never deleted; the run itself is recorded in ``undo_runs``.
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update

from bounceback.classify import RuleSet, decide_reason
from bounceback.config import PolicyConfig
from bounceback.ledger import campaign_counts, retention
from bounceback.ledger import tables as t
from bounceback.ledger.contact_flags import sync_contacts
from bounceback.ledger.db import dialect_insert
from bounceback.ledger.deadline import TooSlow, limit, run_within
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.policy import AddressState, ContactState, Facts, rebuild
from bounceback.ledger.process import address_values, analyse_each
from bounceback.ledger.rollups import add_events as count_in_rollups
from bounceback.ledger.store import Store
from bounceback.rule_ref import RuleRef

_CLASSIFIED = ("reason", "hardbounce", "permanent", "bounce_type", "rule", "status")


@dataclass(slots=True)
class RunReport:
    dry_run: bool
    events_checked: int = 0
    events_changed: int = 0
    changes: list[dict[str, Any]] = field(default_factory=list)
    addresses: list[dict[str, Any]] = field(default_factory=list)
    run_id: int | None = None
    # Messages whose parse went past the deadline: their events keep what they had.
    too_slow: list[int] = field(default_factory=list)
    # Retention: addresses left as they are (their older history was pruned, so it
    # cannot rebuild them), and bounces whose raw bytes are gone (not re-read).
    history_pruned: list[str] = field(default_factory=list)
    unreadable: int = 0
    unreadable_until: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "events_checked": self.events_checked,
            "events_changed": self.events_changed,
            "changes": self.changes,
            "addresses": self.addresses,
            "run_id": self.run_id,
            "too_slow": self.too_slow,
            "history_pruned": self.history_pruned,
            "unreadable": self.unreadable,
            "unreadable_until": iso(self.unreadable_until),
        }

    def retention_notes(self) -> list[str]:
        """What retention kept this run from doing, in words."""
        notes = []
        if self.unreadable:
            newest = f"{self.unreadable_until:%Y-%m-%d}" if self.unreadable_until else "?"
            notes.append(
                f"{self.unreadable} bounces (up to {newest}) not re-read: "
                "their raw bytes were pruned ([retention] raw_message_days)"
            )
        if self.history_pruned:
            notes.append(
                f"{len(self.history_pruned)} addresses left as they are (their older "
                f"bounces were pruned): {', '.join(self.history_pruned[:20])}"
                + (" ..." if len(self.history_pruned) > 20 else "")
            )
        return notes


def replay(
    ledger: Store,
    rules: RuleSet | None,
    since: dt.datetime | None = None,
    dry_run: bool = False,
) -> RunReport:
    """Re-classify stored bounces (from their kept raw bytes) under ``rules``.

    An event whose record an ignore rule now drops (not a bounce) is undone, as
    ``undo`` does it: kept, marked with this run, out of the address's history, the
    campaign counts and the statistics."""
    report = RunReport(dry_run=dry_run)
    e, m = t.events.c, t.messages.c
    with ledger.engine.begin() as conn:
        stmt = (
            select(t.events, m.raw)
            .join(t.messages, m.id == e.message_id)
            .where(e.undone_at.is_(None), m.raw.is_not(None))
            .order_by(e.message_id, e.position)
        )
        if since is not None:
            stmt = stmt.where(e.occurred_at >= since)
        report.unreadable, report.unreadable_until = retention.unreadable_events(conn, since)
        by_message: dict[int, list[dict[str, Any]]] = defaultdict(list)
        raws: dict[int, bytes] = {}
        for mapping in conn.execute(stmt).mappings():
            by_message[mapping["message_id"]].append(dict(mapping))
            raws[mapping["message_id"]] = mapping["raw"]
        new_values: dict[int, dict[str, Any]] = {}
        ignored: set[int] = set()
        deadline = limit(ledger.config.policy.parse_deadline_seconds)
        for message_id, rows in by_message.items():
            data = zlib.decompress(raws[message_id])
            try:
                parsed, bounces = run_within(deadline, analyse_each, data, rules)
            except TooSlow:
                report.too_slow.append(message_id)
                continue
            for row in rows:
                report.events_checked += 1
                if row["position"] >= len(bounces):
                    continue
                b = bounces[row["position"]]
                if b is None:
                    ignored.add(row["id"])
                    report.events_changed += 1
                    report.changes.append(_ignored_change(row, parsed, rules))
                    continue
                new = {
                    "reason": b.reason,
                    "hardbounce": b.hardbounce,
                    "permanent": b.permanent,
                    "bounce_type": b.bounce_type,
                    "rule": b.rule,
                    "status": b.status,
                }
                old = {k: row[k] for k in _CLASSIFIED}
                if new == old:
                    continue
                report.events_changed += 1
                new_values[row["id"]] = new
                report.changes.append(
                    {
                        "event": row["id"],
                        "email": row["email"],
                        "old": {k: old[k] for k in ("reason", "hardbounce", "bounce_type")},
                        "new": {k: new[k] for k in ("reason", "hardbounce", "bounce_type")},
                        "rule": new["rule"],
                    }
                )
        affected = {
            row["address_id"]
            for rows in by_message.values()
            for row in rows
            if (row["id"] in new_values or row["id"] in ignored) and row["address_id"] is not None
        }
        affected = _without_pruned_history(conn, affected, report)
        report.addresses = _settle(
            conn, ledger.config.policy, affected, new_values, ignored, dry_run
        )
        if not dry_run and (new_values or ignored):
            for event_id, values in new_values.items():
                conn.execute(update(t.events).where(e.id == event_id).values(values))
            _recount_campaigns(conn, ledger.config.policy, new_values)
            # Move the rollup counts from the old classification to the new one.
            old_rows = [r for rows in by_message.values() for r in rows if r["id"] in new_values]
            count_in_rollups(conn, old_rows, sign=-1)
            count_in_rollups(conn, [{**r, **new_values[r["id"]]} for r in old_rows])
            report.run_id = _record_run(conn, "replay", since, None, "", "", report)
            dropped = [r for rows in by_message.values() for r in rows if r["id"] in ignored]
            _undo_events(conn, dropped, report.run_id)
        if dry_run:
            conn.rollback()
    return report


def undo(
    ledger: Store,
    since: dt.datetime,
    until: dt.datetime,
    reason: str = "",
    domain: str = "",
    dry_run: bool = False,
) -> RunReport:
    """Reverse what the bounces in [since, until] did; keep them, marked undone."""
    report = RunReport(dry_run=dry_run)
    e = t.events.c
    with ledger.engine.begin() as conn:
        stmt = select(t.events).where(
            e.undone_at.is_(None), e.occurred_at >= since, e.occurred_at <= until
        )
        if reason:
            stmt = stmt.where(e.reason == reason)
        if domain:
            stmt = stmt.where(e.domain == domain.lower())
        rows = [dict(r) for r in conn.execute(stmt.order_by(e.id)).mappings()]
        report.events_checked = report.events_changed = len(rows)
        undone = {r["id"] for r in rows}
        report.changes = [
            {
                "event": r["id"],
                "email": r["email"],
                "reason": r["reason"],
                "at": iso(r["occurred_at"]),
            }
            for r in rows
        ]
        affected = {r["address_id"] for r in rows if r["address_id"] is not None}
        affected = _without_pruned_history(conn, affected, report)
        report.addresses = _settle(conn, ledger.config.policy, affected, {}, undone, dry_run)
        if not dry_run and rows:
            run_id = _record_run(conn, "undo", since, until, reason, domain, report)
            report.run_id = run_id
            now = utcnow()
            for batch in _chunks(sorted(undone)):
                conn.execute(
                    update(t.events).where(e.id.in_(batch)).values(undone_at=now, undo_id=run_id)
                )
            campaign_counts.recount(
                conn,
                {r["campaign_id"] for r in rows if r["campaign_counted"] and r["campaign_id"]},
            )
            count_in_rollups(conn, rows, sign=-1)  # undone events leave the stats
        if dry_run:
            conn.rollback()
    return report


def _without_pruned_history(conn: Connection, ids: set[int], report: RunReport) -> set[int]:
    """Leave out (and name) the addresses retention pruned history of: rebuilding them
    from what is left would silently forget the pruned bounces."""
    pruned = retention.addresses_with_pruned_history(conn, ids)
    if pruned:
        a = t.addresses.c
        names = conn.execute(
            select(func.coalesce(a.email, a.bounced_address)).where(a.id.in_(sorted(pruned)))
        ).scalars()
        report.history_pruned = sorted(str(n) for n in names)
    return ids - pruned


def _ignored_change(row: dict[str, Any], parsed: Any, rules: RuleSet | None) -> dict[str, Any]:
    """The change for an event an ignore rule now drops: the rule that says so."""
    record = parsed.records[row["position"]] if row["position"] < len(parsed.records) else None
    found = None
    if rules is not None and record is not None:
        found = rules.first_match(parsed, record, decide_reason(parsed, record).rule)
    return {
        "event": row["id"],
        "email": row["email"],
        "old": {k: row[k] for k in ("reason", "hardbounce", "bounce_type")},
        # Not a bounce: the event is undone.
        "new": {"reason": "", "hardbounce": False, "bounce_type": "", "ignored": True},
        "rule": str(RuleRef.user(found.id)) if found is not None else "",
    }


def _undo_events(conn: Connection, rows: list[dict[str, Any]], run_id: int) -> None:
    """Mark events undone by run ``run_id``: out of campaign counts and statistics."""
    if not rows:
        return
    e = t.events.c
    now = utcnow()
    for batch in _chunks(sorted(r["id"] for r in rows)):
        conn.execute(update(t.events).where(e.id.in_(batch)).values(undone_at=now, undo_id=run_id))
    campaign_counts.recount(
        conn, {r["campaign_id"] for r in rows if r["campaign_counted"] and r["campaign_id"]}
    )
    count_in_rollups(conn, rows, sign=-1)


def _settle(
    conn: Connection,
    policy: PolicyConfig,
    address_ids: set[int],
    new_values: dict[int, dict[str, Any]],
    undone: set[int],
    dry_run: bool,
) -> list[dict[str, Any]]:
    """Rebuild each address from its live history (with changes); write what differs."""
    out = []
    e, a = t.events.c, t.addresses.c
    contacts_touched: set[int] = set()
    for aid in sorted(address_ids):
        address = conn.execute(select(t.addresses).where(a.id == aid)).mappings().one()
        history = conn.execute(
            select(t.events)
            .where(e.address_id == aid, e.undone_at.is_(None))
            .order_by(e.occurred_at, e.id)
        ).mappings()
        old_facts, new_facts = [], []
        for row in history:
            if address["reset_at"] is not None and row["occurred_at"] < address["reset_at"]:
                continue
            old_facts.append(_facts(row, {}))
            if row["id"] not in undone:
                new_facts.append(_facts(row, new_values.get(row["id"], {})))
        email = address["email"] or address["bounced_address"]
        before, before_effects = rebuild(email, old_facts, ContactState(), policy)
        after, after_effects = rebuild(email, new_facts, ContactState(), policy)
        was_suppressed = any(x.suppressed for x in before_effects)
        now_suppressed = any(x.suppressed for x in after_effects)
        change = {
            "email": email,
            "on_hold": [before.on_hold, after.on_hold],
            "hold_type": [before.hold_type, after.hold_type],
            "bounced": [before.bounced, after.bounced],
            "suppressed": [was_suppressed, now_suppressed],
        }
        if any(v[0] != v[1] for k, v in change.items() if k != "email"):
            out.append(change)
        if dry_run:
            continue
        if after.email and after.email != address["email"]:
            taken = conn.execute(select(a.id).where(a.email == after.email, a.id != aid)).first()
            if taken is not None:
                after.email = None
        if not after.bounced:
            # Keep an older bounced address as history, unless it is the one restored.
            kept = address["bounced_address"]
            after.bounced_address = kept if kept != after.email else None
        _write_state(conn, aid, after)
        if email:
            _sync_suppression(conn, email, was_suppressed, now_suppressed, new_facts)
        contacts_touched.add(address["contact_id"])
    sync_contacts(conn, sorted(contacts_touched), policy)
    return out


def _facts(row: Any, override: dict[str, Any]) -> Facts:
    return Facts(
        kind=row["kind"],
        hardbounce=override.get("hardbounce", row["hardbounce"]),
        bounce_type=override.get("bounce_type", row["bounce_type"]),
        reason=override.get("reason", row["reason"]),
        at=row["occurred_at"],
        verified=row["verified"],
    )


def _write_state(conn: Connection, aid: int, state: AddressState) -> None:
    conn.execute(update(t.addresses).where(t.addresses.c.id == aid).values(address_values(state)))


def _sync_suppression(
    conn: Connection, email: str, was: bool, now: bool, facts: list[Facts]
) -> None:
    s = t.suppressions.c
    if was and not now:
        # Only what bounces put there: a person's own suppression stays.
        conn.execute(
            delete(t.suppressions).where(s.email == email, s.source.in_(("bounce", "complaint")))
        )
    elif now and not was:
        last = next(f for f in reversed(facts) if f.hardbounce or f.kind == "complaint")
        source = "complaint" if last.kind == "complaint" else "bounce"
        stmt = dialect_insert(conn, t.suppressions).on_conflict_do_nothing(index_elements=["email"])
        conn.execute(stmt, [{"email": email, "reason": last.reason, "source": source}])


def _recount_campaigns(
    conn: Connection, policy: PolicyConfig, new_values: dict[int, dict[str, Any]]
) -> None:
    """A replay that turns soft into hard moves the campaign counts (open campaigns only)."""
    e, c = t.events.c, t.campaigns.c
    touched: set[int] = set()
    for batch in _chunks(sorted(new_values)):
        rows = conn.execute(
            select(e.id, e.campaign_id, e.campaign_counted, c.status)
            .join(t.campaigns, c.id == e.campaign_id)
            .where(e.id.in_(batch), e.campaign_counted != "")
        ).all()
        for row in rows:
            if campaign_counts.is_closed(row.status, policy):
                continue
            new = campaign_counts.hard_or_soft(new_values[row.id]["hardbounce"])
            if new == row.campaign_counted:
                continue
            touched.add(row.campaign_id)
            conn.execute(update(t.events).where(e.id == row.id).values(campaign_counted=new))
    campaign_counts.recount(conn, touched)


def _record_run(
    conn: Connection,
    kind: str,
    since: dt.datetime | None,
    until: dt.datetime | None,
    reason: str,
    domain: str,
    report: RunReport,
) -> int:
    summary = {
        "events": report.events_changed,
        "addresses": len(report.addresses),
        "unheld": sum(1 for x in report.addresses if x["on_hold"] == [True, False]),
        "unsuppressed": sum(1 for x in report.addresses if x["suppressed"] == [True, False]),
        "restored": sum(1 for x in report.addresses if x["bounced"] == [True, False]),
    }
    return int(
        conn.execute(
            insert(t.undo_runs)
            .values(
                kind=kind,
                since=since,
                until=until,
                reason_filter=reason,
                domain_filter=domain,
                summary=summary,
            )
            .returning(t.undo_runs.c.id)
        ).scalar_one()
    )


def _chunks(values: list[int], size: int = 500) -> list[list[int]]:
    return [values[i : i + size] for i in range(0, len(values), size)]


__all__ = ["RunReport", "replay", "undo"]
