"""The policy (DESIGN.md, "Policy"): what one bounce does to an address and its contact.

Pure functions over small state objects, no database: the service loads the state,
calls :func:`apply` for each bounce in order and writes the state back; replay and
undo rebuild an address by applying its remaining history to a clean state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from bounceback.config import PolicyConfig

# Kinds that tell the address works: they reset the consecutive count.
ENGAGEMENT = frozenset({"delivered", "open", "click"})


@dataclass(slots=True)
class Facts:
    """What the policy needs to know about one classified record."""

    kind: str
    hardbounce: bool
    bounce_type: str
    reason: str
    at: dt.datetime
    # False: nothing in the bounce proves a send of ours (signed VERP configured, no
    # valid token or id of ours): anyone could have forged it, so it never acts.
    verified: bool = True


@dataclass(slots=True)
class AddressState:
    email: str | None
    bounced_address: str | None = None
    bounced: bool = False
    on_hold: bool = False
    hold_since: dt.datetime | None = None
    hold_type: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    consecutive: int = 0
    last_bounce_at: dt.datetime | None = None
    last_counted_on: dt.date | None = None


@dataclass(slots=True)
class ContactState:
    bulk_mail: str = "allowed"
    disabled: bool = False


@dataclass(slots=True)
class Effects:
    """What one bounce changed; stored with the event so undo can explain itself."""

    counted: bool = False
    held: bool = False
    suppressed: str = ""  # the suppression source: bounce | complaint
    removed: bool = False
    bulk_off: bool = False
    disabled: bool = False
    reset: bool = False
    unverified: bool = False  # kept as evidence only: it proved no send

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k in self.__slots__ if (v := getattr(self, k))}


def counts_toward_hold(facts: Facts) -> bool:
    """Sender-fault bounces, delays and engagement never count against an address."""
    if facts.kind in ENGAGEMENT or facts.kind in ("delay", "not_bounce", "unparseable"):
        return False
    return bool(facts.bounce_type) and facts.bounce_type != "Sender"


def apply(
    facts: Facts, address: AddressState, contact: ContactState, policy: PolicyConfig
) -> Effects:
    """Change ``address`` and ``contact`` for one bounce; say what changed."""
    effects = Effects()
    if facts.kind in ENGAGEMENT:
        if address.consecutive:
            address.consecutive = 0
            effects.reset = True
        return effects
    if not counts_toward_hold(facts):
        return effects
    if not facts.verified:
        effects.unverified = True
        return effects

    _decay(facts, address, policy)
    today = facts.at.date()
    once_a_day = policy.decay.enabled and address.last_counted_on == today
    address.last_bounce_at = facts.at
    if not once_a_day:
        address.counts[facts.bounce_type] = address.counts.get(facts.bounce_type, 0) + 1
        address.consecutive += 1
        address.last_counted_on = today
        effects.counted = True

    threshold = policy.thresholds.get(facts.bounce_type)
    if threshold and address.counts.get(facts.bounce_type, 0) >= threshold and not address.on_hold:
        address.on_hold = True
        address.hold_since = facts.at
        address.hold_type = facts.bounce_type
        effects.held = True

    if facts.kind == "complaint":
        effects.suppressed = "complaint"
    elif facts.hardbounce and facts.kind == "bounce":
        effects.suppressed = "bounce"
        address.bounced = True
        if policy.remove_address_on_hard_bounce and address.email:
            address.bounced_address = address.email
            address.email = None
            effects.removed = True
    if effects.suppressed and contact.bulk_mail != "do_not_allow":
        contact.bulk_mail = "do_not_allow"
        effects.bulk_off = True

    if (
        policy.disable_after
        and address.consecutive >= policy.disable_after
        and not contact.disabled
    ):
        contact.disabled = True
        effects.disabled = True
    return effects


def _decay(facts: Facts, address: AddressState, policy: PolicyConfig) -> None:
    """Mailman-style: counts go stale after N days without a bounce."""
    stale = policy.decay.stale_after_days
    if not (policy.decay.enabled and stale and address.last_bounce_at):
        return
    if facts.at - address.last_bounce_at >= dt.timedelta(days=stale):
        address.counts = {}
        address.consecutive = 0


def rebuild(
    email: str | None, history: list[Facts], contact: ContactState, policy: PolicyConfig
) -> tuple[AddressState, list[Effects]]:
    """The state an address would have after ``history`` alone, from clean."""
    address = AddressState(email=email)
    effects = [apply(facts, address, contact, policy) for facts in history]
    return address, effects
