"""Bounce events: the list, one event's detail, and sender health (the bounces that say
the fault is ours)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select

from bounceback.ledger import tables as t
from bounceback.ledger.models import iso, naive_utc
from bounceback.ledger.paging import Key, newest_first, page
from bounceback.ledger.policy import SENDER
from bounceback.ledger.store import Store


@dataclass(slots=True)
class BounceFilters:
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    campaign: str | None = None
    domain: str | None = None
    reason: str | None = None
    bounce_type: str | None = None
    hard: bool | None = None
    matched: bool | None = None
    kind: str | None = None


def _bounce_item(r: Any) -> dict[str, Any]:
    return {
        "id": r.id,
        "occurred_at": iso(r.occurred_at),
        "email": r.email,
        "domain": r.domain,
        "kind": r.kind,
        "reason": r.reason,
        "bounce_type": r.bounce_type,
        "hardbounce": r.hardbounce,
        "status": r.status,
        "reply_code": r.reply_code,
        "diagnostic": r.diagnostic[:300],
        "rule": r.rule,
        "matched": r.match_method != "none",
        "match_method": r.match_method,
        "verified": r.verified,
        "contact_id": r.contact_id,
        "campaign": r.campaign,
        "source": r.source,
        "undone": r.undone_at is not None,
    }


def _bounce_select() -> Select[Any]:
    e, c = t.events.c, t.campaigns.c
    return select(
        e.id,
        e.occurred_at,
        e.email,
        e.domain,
        e.kind,
        e.reason,
        e.bounce_type,
        e.hardbounce,
        e.status,
        e.reply_code,
        e.diagnostic,
        e.rule,
        e.match_method,
        e.verified,
        e.contact_id,
        e.source,
        e.undone_at,
        c.name.label("campaign"),
    ).select_from(t.events.outerjoin(t.campaigns, c.id == e.campaign_id))


def list_bounces(
    store: Store, filters: BounceFilters, limit: int, after: Key | None = None
) -> tuple[list[dict[str, Any]], Key | None]:
    """Bounce events, newest first; ``after`` = [occurred_at, id] of the last one seen."""
    e = t.events.c
    f = filters
    where: list[ColumnElement[bool]] = []
    if f.since is not None:
        where.append(e.occurred_at >= f.since)
    if f.until is not None:
        where.append(e.occurred_at < f.until)
    if f.campaign:
        where.append(
            e.campaign_id
            == select(t.campaigns.c.id).where(t.campaigns.c.name == f.campaign).scalar_subquery()
        )
    if f.domain:
        where.append(e.domain == f.domain.strip().lower())
    if f.reason:
        where.append(e.reason == f.reason)
    if f.bounce_type:
        where.append(e.bounce_type == f.bounce_type)
    if f.hard is not None:
        where.append(e.hardbounce if f.hard else ~e.hardbounce)
    if f.matched is not None:
        where.append(e.match_method != "none" if f.matched else e.match_method == "none")
    if f.kind:
        where.append(e.kind == f.kind)
    if (seek := newest_first(e.occurred_at, e.id, after)) is not None:
        where.append(seek)
    stmt = _bounce_select().where(*where).order_by(e.occurred_at.desc(), e.id.desc())
    with store.read() as conn:
        rows = conn.execute(stmt.limit(limit + 1)).all()
    shown, key = page(rows, limit, lambda r: (r.occurred_at, r.id))
    return [_bounce_item(r) for r in shown], key


# Event columns shown in a bounce's detail (everything parsed, not the bookkeeping).
_DETAIL_SKIP = frozenset({"undo_id", "campaign_counted", "message_id", "position"})


def bounce_detail(store: Store, event_id: int) -> dict[str, Any] | None:
    """Every parsed field of one event, its campaign, message and policy effects."""
    e, c, m = t.events.c, t.campaigns.c, t.messages.c
    stmt = (
        select(t.events, c.name.label("campaign"), m.idempotency_key, m.ref, m.outcome)
        .select_from(
            t.events.outerjoin(t.campaigns, c.id == e.campaign_id).outerjoin(
                t.messages, m.id == e.message_id
            )
        )
        .where(e.id == event_id)
    )
    with store.read() as conn:
        row = conn.execute(stmt).mappings().first()
    if row is None:
        return None
    out: dict[str, Any] = {
        k: (iso(v) if isinstance(v, dt.datetime) else v)
        for k, v in row.items()
        if k in t.events.c and k not in _DETAIL_SKIP
    }
    out["effects"] = dict(row["effects"] or {})
    out["matched"] = row["match_method"] != "none"
    out["undone"] = row["undone_at"] is not None
    out["campaign"] = row["campaign"]
    out["message"] = (
        None
        if row["message_id"] is None
        else {
            "id": row["message_id"],
            "key": row["idempotency_key"],
            "ref": row["ref"],
            "outcome": row["outcome"],
        }
    )
    return out


def health(store: Store, now: dt.datetime | None = None) -> dict[str, Any]:
    """Sender-fault bounces per recipient domain in the window; bursts are warnings."""
    policy = store.config.policy
    now = naive_utc(now)
    since = now - dt.timedelta(hours=policy.sender_health_window_hours)
    e = t.events.c
    # `domain || ''` keeps SQLite from walking the whole domain index for the GROUP BY
    # (seconds at 1M events) instead of reading the occurred_at range (milliseconds).
    domain = (e.domain + "").label("domain")
    with store.read() as conn:
        rows = conn.execute(
            select(domain, e.reason, func.count(), func.max(e.occurred_at))
            .where(e.bounce_type == SENDER, e.occurred_at >= since, e.undone_at.is_(None))
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
