"""A contact's flags follow its addresses: bulk mail off while one is bounced or
suppressed, disabled after too many consecutive bounces. The one place this rule lives
for the manual changes (unhold, unsuppress, a new address); ``process`` and ``replay``
reach the same flags through the policy (:mod:`bounceback.ledger.policy`)."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, select, update

from bounceback.config import PolicyConfig
from bounceback.ledger import tables as t
from bounceback.ledger.models import utcnow
from bounceback.ledger.policy import BulkMail


def sync_contacts(conn: Connection, contact_ids: Sequence[int], policy: PolicyConfig) -> None:
    """Each contact's flags from its addresses, in a few statements: bulk mail off while
    any current address is suppressed (a dead address kept as history may stay
    suppressed) or any address bounced; disabled while an address has ``disable_after``
    consecutive bounces."""
    contact_ids = sorted(set(contact_ids))
    if not contact_ids:
        return
    a, s = t.addresses.c, t.suppressions.c
    rows = conn.execute(
        select(a.contact_id, a.email, a.bounced, a.consecutive_bounces).where(
            a.contact_id.in_(contact_ids)
        )
    ).all()
    emails = sorted({r.email for r in rows if r.email})
    suppressed = set(conn.execute(select(s.email).where(s.email.in_(emails))).scalars())
    bad: dict[int, bool] = dict.fromkeys(contact_ids, False)
    disabled: dict[int, bool] = dict.fromkeys(contact_ids, False)
    for r in rows:
        if r.bounced or (r.email and r.email in suppressed):
            bad[r.contact_id] = True
        if policy.disable_after and r.consecutive_bounces >= policy.disable_after:
            disabled[r.contact_id] = True
    now = utcnow()
    conn.execute(
        update(t.contacts)
        .where(t.contacts.c.id == bindparam("cid"))
        .values(
            bulk_mail=bindparam("v_bulk"),
            disabled=bindparam("v_disabled"),
            disabled_at=bindparam("v_at"),
        ),
        [
            {
                "cid": cid,
                "v_bulk": BulkMail.DO_NOT_ALLOW if bad[cid] else BulkMail.ALLOWED,
                "v_disabled": disabled[cid],
                "v_at": now if disabled[cid] else None,
            }
            for cid in contact_ids
        ],
    )
