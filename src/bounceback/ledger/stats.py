"""Statistics for the API and dashboard, read from the rollups only.

``daily_stats`` and ``send_stats`` (see :mod:`bounceback.ledger.rollups`) are small:
one row per day, campaign, domain, reason and category. Nothing here scans
``bounce_events``, so the overview stays fast with millions of bounces. Days are
UTC dates; a window is ``days`` back from today or ``since``/``until`` (inclusive).
Rates are bounces (hard + soft) per send and are ``None`` where no sends are known.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import functools
import tomllib
from collections import defaultdict
from dataclasses import dataclass
from importlib import resources
from typing import Any

from sqlalchemy import Connection, case, func, select

from bounceback.ledger import bounces, campaigns
from bounceback.ledger import tables as t
from bounceback.ledger.outcomes import MessageOutcome
from bounceback.ledger.rollups import CATEGORIES, rebuild_stats
from bounceback.ledger.settings import HealthLimits, health_limits
from bounceback.ledger.store import Store

MAX_DAYS = 3660


class StatsError(ValueError):
    """A window or filter the stats cannot use."""


@dataclass(frozen=True, slots=True)
class Window:
    since: dt.date
    until: dt.date

    def days(self) -> list[dt.date]:
        n = (self.until - self.since).days + 1
        return [self.since + dt.timedelta(days=i) for i in range(n)]

    def as_dict(self) -> dict[str, str]:
        return {"since": self.since.isoformat(), "until": self.until.isoformat()}


def utc_today() -> dt.date:
    """Today in UTC: the one clock the windows read (tests pin it across midnight)."""
    return dt.datetime.now(dt.UTC).date()


def window(
    days: int | None = 30,
    since: dt.date | None = None,
    until: dt.date | None = None,
    today: dt.date | None = None,
) -> Window:
    """``since``..``until`` when given, else the last ``days`` days up to today (UTC)."""
    today = today or utc_today()
    end = until or today
    if since is None:
        n = 30 if days is None else days
        if not 1 <= n <= MAX_DAYS:
            raise StatsError(f"days must be between 1 and {MAX_DAYS}")
        since = end - dt.timedelta(days=n - 1)
    if since > end:
        raise StatsError("since is after until")
    if (end - since).days >= MAX_DAYS:
        raise StatsError(f"a window is at most {MAX_DAYS} days")
    return Window(since, end)


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 6) if whole else None


def _counts() -> dict[str, int]:
    return dict.fromkeys(CATEGORIES, 0)


def _finish(entry: dict[str, Any], sends: int) -> dict[str, Any]:
    bounces = entry["hard"] + entry["soft"]
    entry.update(
        bounces=bounces,
        total=sum(entry[c] for c in CATEGORIES),
        sends=sends,
        bounce_rate=_rate(bounces, sends),
        complaint_rate=_rate(entry["complaint"], sends),
    )
    return entry


# --- group-bys over the rollups ------------------------------------------------------------
def _in_window(table: Any, w: Window) -> Any:
    return (table.c.day >= w.since) & (table.c.day <= w.until)


def _sums(
    conn: Connection,
    keys: list[Any],
    w: Window,
    *where: Any,
    top: tuple[int, int] | None = None,
) -> dict[tuple[Any, ...], dict[str, int]]:
    """{key values: {category: count}} in ONE scan of the window (a conditional sum per
    category); ``top`` = (limit, offset) ranks by the total, most first, in the database."""
    ds = t.daily_stats.c
    sums = [func.sum(case((ds.category == c, ds.count), else_=0)) for c in CATEGORIES]
    stmt = select(*keys, *sums).where(_in_window(t.daily_stats, w), *where).group_by(*keys)
    if top is not None:
        stmt = stmt.order_by(func.sum(ds.count).desc(), *keys).limit(top[0]).offset(top[1])
    n = len(keys)
    return {
        tuple(row[:n]): {c: int(v or 0) for c, v in zip(CATEGORIES, row[n:], strict=True)}
        for row in conn.execute(stmt)
    }


def _send_sums(conn: Connection, keys: list[Any], w: Window, *where: Any) -> dict[Any, int]:
    ss = t.send_stats.c
    stmt = (
        select(*keys, func.sum(ss.count)).where(_in_window(t.send_stats, w), *where).group_by(*keys)
    )
    return {tuple(row[:-1]): int(row[-1]) for row in conn.execute(stmt)}


def _campaigns(conn: Connection, ids: set[int]) -> dict[int, Any]:
    c = t.campaigns.c
    if not ids:
        return {}
    rows = conn.execute(select(c.id, c.name, c.status).where(c.id.in_(sorted(ids)))).all()
    return {row.id: row for row in rows}


def _campaign_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(t.campaigns.c.id).where(t.campaigns.c.name == name)).scalar()
    if found is None:
        raise StatsError(f"no campaign named {name!r}")
    return int(found)


def _ranked(rows: list[dict[str, Any]], limit: int | None, offset: int = 0) -> list[dict[str, Any]]:
    rows.sort(key=lambda r: (-r["total"], str(r["key"])))
    return [_drop_key(r) for r in (rows[offset : offset + limit] if limit else rows[offset:])]


def _drop_key(row: dict[str, Any]) -> dict[str, Any]:
    row.pop("key", None)
    return row


def _fold(counts: dict[tuple[Any, ...], dict[str, int]], at: int) -> dict[Any, dict[str, int]]:
    """Counts keyed by one element of a longer key, summed."""
    out: dict[Any, dict[str, int]] = defaultdict(_counts)
    for key, c in counts.items():
        entry = out[key[at]]
        for name, n in c.items():
            entry[name] += n
    return out


def _fold_sends(sends: dict[Any, int], at: int) -> dict[Any, int]:
    out: dict[Any, int] = defaultdict(int)
    for key, n in sends.items():
        out[key[at]] += n
    return out


# --- the public queries --------------------------------------------------------------------
def _days(w: Window, counts: dict[Any, dict[str, int]], sends: dict[Any, int]) -> list[Any]:
    return [
        _finish({"day": day.isoformat(), **counts.get(day, _counts())}, sends.get(day, 0))
        for day in w.days()
    ]


def by_day(
    ledger: Store, w: Window, campaign: str | None = None, domain: str = ""
) -> list[dict[str, Any]]:
    """Every day of the window (zeros included): counts per category, sends, rates."""
    ds, ss = t.daily_stats.c, t.send_stats.c
    where, send_where = [], []
    with ledger.engine.connect() as conn:
        if campaign:
            cid = _campaign_id(conn, campaign)
            where.append(ds.campaign_id == cid)
            send_where.append(ss.campaign_id == cid)
        if domain:
            where.append(ds.domain == domain.lower())
            send_where.append(ss.domain == domain.lower())
        counts = _fold(_sums(conn, [ds.day], w, *where), 0)
        sends = _fold_sends(_send_sums(conn, [ss.day], w, *send_where), 0)
    return _days(w, counts, sends)


def _campaign_rows(
    ledger: Store,
    conn: Connection,
    counts: dict[Any, dict[str, int]],
    sends: dict[Any, int],
) -> list[dict[str, Any]]:
    ids = set(counts) | set(sends)
    named = _campaigns(conn, ids - {0})
    closed = ledger.config.policy.closed_campaign_statuses
    rows = []
    for cid in ids:
        row = named.get(cid)
        entry = {
            "key": row.name if row else "",
            "campaign_id": cid or None,
            "name": row.name if row else ("(no campaign)" if cid == 0 else f"#{cid}"),
            "status": row.status if row else None,
            "closed": bool(row and row.status.lower() in closed),
            **counts.get(cid, _counts()),
        }
        rows.append(_finish(entry, sends.get(cid, 0)))
    return rows


def by_campaign(
    ledger: Store, w: Window, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Campaigns with bounces or sends in the window, most bounces first.

    These count every stored event of the campaign, closed or not; ``campaign_list``
    shows the campaign's own counters, which stop when it is closed."""
    ds, ss = t.daily_stats.c, t.send_stats.c
    with ledger.engine.connect() as conn:
        counts = _fold(_sums(conn, [ds.campaign_id], w), 0)
        sends = _fold_sends(_send_sums(conn, [ss.campaign_id], w), 0)
        rows = _campaign_rows(ledger, conn, counts, sends)
    return _ranked(rows, limit, offset)


def _domain_rows(
    counts: dict[Any, dict[str, int]], sends: dict[Any, int], names: set[str]
) -> list[dict[str, Any]]:
    return [
        _finish(
            {"key": d, "domain": d, "provider": provider_of(d), **counts.get(d, _counts())},
            sends.get(d, 0),
        )
        for d in names
    ]


def _top_domains(conn: Connection, w: Window, limit: int, offset: int = 0) -> list[dict[str, Any]]:
    """The page of domains with bounces, ranked by the database; sends for those only."""
    ds, ss = t.daily_stats.c, t.send_stats.c
    counts = _fold(_sums(conn, [ds.domain], w, top=(limit, offset)), 0)
    names = set(counts)
    sends: dict[Any, int] = {}
    if names:
        sends = _fold_sends(_send_sums(conn, [ss.domain], w, ss.domain.in_(sorted(names))), 0)
    return _ranked(_domain_rows(counts, sends, names), None)


def by_domain(
    ledger: Store, w: Window, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Recipient domains, most bounces first, with their provider, sends and rates.

    With ``limit``: the domains that had bounces, ranked by the database, and only
    that page detailed (there may be tens of thousands). Without: every domain with
    bounces or sends (sender health needs the sends of them all).
    """
    ds, ss = t.daily_stats.c, t.send_stats.c
    with ledger.engine.connect() as conn:
        if limit is not None:
            return _top_domains(conn, w, limit, offset)
        counts = _fold(_sums(conn, [ds.domain], w), 0)
        sends = _fold_sends(_send_sums(conn, [ss.domain], w), 0)
    names = set(counts) | {d for d, n in sends.items() if n}
    return _ranked(_domain_rows(counts, sends, names), None)


def _reason_rows(counts: dict[Any, dict[str, int]]) -> list[dict[str, Any]]:
    everything = sum(sum(c.values()) for c in counts.values())
    rows = []
    for reason, c in counts.items():
        total = sum(c.values())
        rows.append(
            {
                "key": reason,
                "reason": reason or "(none)",
                **c,
                "bounces": c["hard"] + c["soft"],
                "total": total,
                "share": _rate(total, everything),
            }
        )
    return rows


def by_reason(
    ledger: Store, w: Window, limit: int | None = None, offset: int = 0
) -> list[dict[str, Any]]:
    """Reasons, most frequent first; a reason's share of all events in the window."""
    ds = t.daily_stats.c
    with ledger.engine.connect() as conn:
        counts = _fold(_sums(conn, [ds.reason], w), 0)
    return _ranked(_reason_rows(counts), limit, offset)


def outcome_counts(ledger: Store) -> dict[str, int]:
    """Messages waiting for a person: unmatched and quarantined (indexed counts)."""
    with ledger.engine.connect() as conn:
        return _outcomes(conn)


def _outcomes(conn: Connection) -> dict[str, int]:
    m = t.messages.c
    return {
        outcome: int(
            conn.execute(
                select(func.count()).select_from(t.messages).where(m.outcome == outcome)
            ).scalar_one()
        )
        for outcome in (MessageOutcome.UNMATCHED, MessageOutcome.QUARANTINED)
    }


def overview(ledger: Store, days: int = 30, top: int = 10) -> dict[str, Any]:
    """The dashboard's front page: series per day, top campaigns, domains and reasons.

    Four scans of the window's rollup rows (day x campaign, reason, domain ranking,
    sends), whatever the number of bounces behind them. (Run side by side on four
    connections they were no faster on a busy two-core machine, so they run in turn.)
    """
    w = window(days)
    ds, ss = t.daily_stats.c, t.send_stats.c
    with ledger.engine.connect() as conn:
        by_day_campaign = _sums(conn, [ds.day, ds.campaign_id], w)
        sends = _send_sums(conn, [ss.day, ss.campaign_id], w)
        domains = _top_domains(conn, w, top)
        reasons = _sums(conn, [ds.reason], w)
        waiting = _outcomes(conn)
        campaigns = _campaign_rows(ledger, conn, _fold(by_day_campaign, 1), _fold_sends(sends, 1))
    series = _days(w, _fold(by_day_campaign, 0), _fold_sends(sends, 0))
    totals = _finish(
        {c: sum(d[c] for d in series) for c in CATEGORIES}, sum(d["sends"] for d in series)
    )
    return {
        "window": w.as_dict(),
        "days": len(series),
        "series": [
            {k: d[k] for k in ("day", "hard", "soft", "complaint", "delay", "sends")}
            for d in series
        ],
        "totals": totals,
        "campaigns": _ranked(campaigns, top),
        "domains": domains,
        "reasons": _ranked(_reason_rows(_fold(reasons, 0)), top),
        **waiting,
    }


# --- providers and sender health -----------------------------------------------------------
@functools.cache
def _providers() -> tuple[dict[str, str], tuple[tuple[str, str], ...]]:
    text = resources.files("bounceback.classify").joinpath("data/mailbox_providers.toml")
    data = tomllib.loads(text.read_text(encoding="utf-8"))
    exact: dict[str, str] = {}
    globs: list[tuple[str, str]] = []
    for entry in data.get("provider", []):
        for domain in entry.get("domains", []):
            exact[domain.lower()] = entry["name"]
        globs.extend((p.lower(), entry["name"]) for p in entry.get("patterns", []))
    return exact, tuple(globs)


def _country_suffix(rest: str) -> bool:
    """co.uk, com.au, fr: one or two short labels, as a provider's country domains have."""
    labels = rest.split(".")
    return 1 <= len(labels) <= 2 and all(0 < len(x) <= 3 for x in labels)


@functools.lru_cache(maxsize=65536)
def provider_of(domain: str) -> str:
    """The mailbox provider of a recipient domain, or "other"."""
    exact, globs = _providers()
    domain = domain.lower().rstrip(".")
    parts = domain.split(".")
    for i in range(len(parts) - 1):  # the domain, then each parent domain
        found = exact.get(".".join(parts[i:]))
        if found:
            return found
    for pattern, name in globs:
        head = pattern.split(".", 1)[0]
        if fnmatch.fnmatchcase(domain, pattern) and _country_suffix(domain[len(head) + 1 :]):
            return name
    return "other"


def _health_entry(entry: dict[str, Any], limits: HealthLimits) -> dict[str, Any]:
    warnings = []
    if entry["sends"] >= max(limits.min_volume, 1):
        rate, complaints = entry["bounce_rate"] or 0.0, entry["complaint_rate"] or 0.0
        if rate > limits.bounce_rate:
            warnings.append(f"bounce rate {rate:.2%} is above {limits.bounce_rate:.2%}")
        if complaints > limits.complaint_rate:
            warnings.append(f"complaint rate {complaints:.3%} is above {limits.complaint_rate:.3%}")
    entry["warnings"] = warnings
    return entry


def sender_health(
    ledger: Store, days: int = 30, limits: HealthLimits | None = None, top: int = 50
) -> dict[str, Any]:
    """Bounce and complaint rates per recipient domain, per provider and per day, checked
    against the limits (warnings need ``min_volume`` sends), plus the Sender-type bursts.
    ``top`` caps the domain lists (most bounces; flagged ones by sends)."""
    limits = limits or health_limits(ledger)
    w = window(days)
    domains = by_domain(ledger, w)
    providers: dict[str, dict[str, Any]] = {}
    for d in domains:
        p = providers.setdefault(d["provider"], {"provider": d["provider"], **_counts(), "n": 0})
        for c in CATEGORIES:
            p[c] += d[c]
        p["n"] += d["sends"]
        p["domains"] = p.get("domains", 0) + 1
    provider_rows = [
        _health_entry(_finish(p, p.pop("n")), limits)
        for p in sorted(providers.values(), key=lambda p: -(p["hard"] + p["soft"]))
    ]
    domain_rows = [_health_entry(d, limits) for d in domains]
    # The busiest flagged domains first: those move a provider's view of the sender.
    flagged = sorted((d for d in domain_rows if d["warnings"]), key=lambda d: -d["sends"])
    daily = [_health_entry(d, limits) for d in by_day(ledger, w)]
    return {
        "window": w.as_dict(),
        "limits": {
            "bounce_rate": limits.bounce_rate,
            "complaint_rate": limits.complaint_rate,
            "min_volume": limits.min_volume,
        },
        "providers": provider_rows,
        "domains": domain_rows[:top],
        "domain_warnings": flagged[:top],
        "domain_warning_count": len(flagged),
        "days": daily,
        "sender": bounces.health(ledger),
    }


# --- campaigns -------------------------------------------------------------------------
def campaign_list(
    ledger: Store, limit: int = 50, after: str | None = None, status: str | None = None
) -> tuple[list[dict[str, Any]], str | None]:
    """Campaigns by name (after ``after``): the campaign counters (closed ones stop
    counting), sends from the rollup, rate, status; and the name to continue after."""
    c, ss = t.campaigns.c, t.send_stats.c
    stmt = select(t.campaigns).order_by(c.name).limit(limit + 1)
    if after is not None:
        stmt = stmt.where(c.name > after)
    if status:
        stmt = stmt.where(func.lower(c.status) == status.lower())
    with ledger.engine.connect() as conn:
        rows = conn.execute(stmt).all()
        more = len(rows) > limit
        rows = rows[:limit]
        ids = [r.id for r in rows]
        sends: dict[int, int] = {}
        if ids:
            sends = {
                cid: int(n)
                for cid, n in conn.execute(
                    select(ss.campaign_id, func.sum(ss.count))
                    .where(ss.campaign_id.in_(ids))
                    .group_by(ss.campaign_id)
                )
            }
    closed = ledger.config.policy.closed_campaign_statuses
    items = [campaign_row(r, sends.get(r.id, 0), closed) for r in rows]
    return items, (rows[-1].name if more and rows else None)


def campaign_row(row: Any, sent: int, closed: frozenset[str]) -> dict[str, Any]:
    hard, soft = int(row.hard_bounces), int(row.soft_bounces)
    return {
        "id": row.id,
        "name": row.name,
        "status": row.status,
        "closed": row.status.lower() in closed,
        "hard_bounces": hard,
        "soft_bounces": soft,
        "sends": sent,
        "bounce_rate": _rate(hard + soft, sent),
        "created_at": row.created_at.isoformat() if row.created_at else None,
    }


def campaign_detail(ledger: Store, name: str, days: int = 90) -> dict[str, Any]:
    """One campaign: its counters, reasons and types, and its bounces per day."""
    stats = campaigns.campaign_stats(ledger, name)
    stats["daily"] = [
        {k: d[k] for k in ("day", "hard", "soft", "complaint", "sends")}
        for d in by_day(ledger, window(days), campaign=name)
    ]
    return stats


__all__ = [
    "StatsError",
    "Window",
    "by_campaign",
    "by_day",
    "by_domain",
    "by_reason",
    "campaign_detail",
    "campaign_list",
    "outcome_counts",
    "overview",
    "provider_of",
    "rebuild_stats",
    "sender_health",
    "window",
]
