"""A campaign's hard and soft bounce counts: bounced *addresses*, not bounce events.

An address counts once per campaign: hard if any of its counted bounces there was
hard, else soft. Eight soft bounces of one address are one soft-bounced address, so
a campaign's bounce rate never passes 100 % of its sends. Only events marked
``campaign_counted`` count: those that arrived while the campaign was open.

``process`` keeps the counters incrementally (:func:`Tally`); undo and replay, which
are rare, recount the campaigns they touched from the events (:func:`recount`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, and_, case, distinct, func, select, update

from bounceback.ledger import tables as t
from bounceback.ledger.lookup import chunks


class Tally:
    """Counter changes for one batch, given what each address already counted."""

    def __init__(self, conn: Connection, pairs: Iterable[tuple[int, int]]) -> None:
        # (campaign id, address id) -> "hard" | "soft": what the address counts as now.
        self.counted: dict[tuple[int, int], str] = {}
        self.changes: dict[int, list[int]] = {}
        wanted = sorted(set(pairs))
        e = t.events.c
        hard_flag = e.campaign_counted == "hard"
        for batch in chunks(wanted):
            campaigns = {c for c, _ in batch}
            addresses = {a for _, a in batch}
            rows = conn.execute(
                select(e.campaign_id, e.address_id, func.max(case((hard_flag, 1), else_=0)))
                .where(
                    e.address_id.in_(addresses),
                    e.campaign_id.in_(campaigns),
                    e.campaign_counted != "",
                    e.undone_at.is_(None),
                )
                .group_by(e.campaign_id, e.address_id)
            )
            for cid, aid, hard in rows:
                self.counted[(cid, aid)] = "hard" if hard else "soft"

    def add(self, campaign_id: int, address_id: int | None, verdict: str) -> None:
        """Count one bounce ("hard" or "soft") of an address in an open campaign."""
        pair = self.changes.setdefault(campaign_id, [0, 0])
        if address_id is None:  # nothing to tell two of them apart: each counts
            pair[0 if verdict == "hard" else 1] += 1
            return
        before = self.counted.get((campaign_id, address_id))
        if before is None:
            pair[0 if verdict == "hard" else 1] += 1
        elif before == "soft" and verdict == "hard":
            pair[0] += 1
            pair[1] -= 1
        else:
            return
        self.counted[(campaign_id, address_id)] = verdict

    def write(self, conn: Connection) -> None:
        c = t.campaigns.c
        for cid, (hard, soft) in sorted(self.changes.items()):
            if hard or soft:
                conn.execute(
                    update(t.campaigns)
                    .where(c.id == cid)
                    .values(hard_bounces=c.hard_bounces + hard, soft_bounces=c.soft_bounces + soft)
                )


def live_counts(conn: Connection, campaign_id: int) -> tuple[int, int]:
    """(hard, soft) bounced addresses of a campaign by its live counted events."""
    e = t.events.c
    counted = and_(e.campaign_id == campaign_id, e.campaign_counted != "", e.undone_at.is_(None))
    # An address is its id; an event with no address counts on its own (as Tally).
    who = func.coalesce(e.address_id, -e.id)
    bounced = conn.execute(select(func.count(distinct(who))).where(counted)).scalar_one()
    hard = conn.execute(
        select(func.count(distinct(who))).where(counted, e.campaign_counted == "hard")
    ).scalar_one()
    return int(hard), int(bounced) - int(hard)


def recount(conn: Connection, campaign_ids: Iterable[int]) -> None:
    """Set each campaign's counts from its live counted events, plus what its pruned
    events counted (retention keeps that part in ``pruned_campaigns``)."""
    c, p = t.campaigns.c, t.pruned_campaigns.c
    for cid in sorted(set(campaign_ids)):
        hard, soft = live_counts(conn, cid)
        pruned = conn.execute(select(p.hard, p.soft).where(p.campaign_id == cid)).first()
        if pruned is not None:
            hard, soft = hard + pruned.hard, soft + pruned.soft
        conn.execute(
            update(t.campaigns).where(c.id == cid).values(hard_bounces=hard, soft_bounces=soft)
        )
