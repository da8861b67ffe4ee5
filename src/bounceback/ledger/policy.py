"""The policy (DESIGN.md, "Policy"): what one bounce does to an address and its contact.

Pure functions over small state objects, no database: the service loads the state,
calls :func:`apply` for each bounce in order and writes the state back; replay and
undo rebuild an address by applying its remaining history to a clean state.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from bounceback.config import PolicyConfig


class BulkMail(StrEnum):
    """A contact's bulk-mail flag, as stored (``contacts.bulk_mail``)."""

    ALLOWED = "allowed"
    DO_NOT_ALLOW = "do_not_allow"


class SuppressionSource(StrEnum):
    """Who put an address on the suppression list (``suppressions.source``)."""

    MANUAL = "manual"
    BOUNCE = "bounce"
    COMPLAINT = "complaint"


# The bounce type that says the fault is ours (blocked, rate limited, bad reputation):
# shown in sender health, never counted against an address. Bounce types are
# user-configurable (the bounce_types table), so this names one rather than closing a set.
SENDER = "Sender"

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
    bulk_mail: str = BulkMail.ALLOWED
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


# Kinds that say nothing against the address.
_NEVER_COUNT = frozenset({*ENGAGEMENT, "delay", "not_bounce", "unparseable"})
# What one counted bounce of a kind may do beyond its type's hold threshold: an
# auto-reply proves the mailbox exists, so it holds only at Away's own threshold.
_PROVES_MAILBOX = frozenset({"autoreply"})


UNVERIFIED = (
    "unverified — it proves no send of ours (no signed return path, no id or"
    " Message-ID of ours), so anyone could have forged it; kept as evidence only"
)


def never_counts(kind: str, bounce_type: str, verified: bool = True) -> str:
    """Why a bounce of this kind and type never counts against an address ("" if it does).

    The one place that decides it, in the words every page and command shows.
    """
    if kind in _NEVER_COUNT:
        return f"a {kind.replace('_', ' ')} never counts"
    if bounce_type == SENDER:
        return "a sender-side failure does not count against the address"
    if not bounce_type:
        return "no bounce type"
    if not verified:
        return UNVERIFIED
    return ""


def counts_toward_hold(facts: Facts) -> bool:
    """Sender-fault bounces, delays, engagement and unverified mail never count."""
    return not never_counts(facts.kind, facts.bounce_type, facts.verified)


def hold_after(kind: str, bounce_type: str, policy: PolicyConfig) -> int | None:
    """How many bounces of this type put an address on hold (None: this one never does)."""
    if never_counts(kind, bounce_type):
        return None
    return policy.thresholds.get(bounce_type) or None


def counts_consecutive(kind: str) -> bool:
    """Whether a counted bounce of this kind adds to the consecutive count (disable_after)."""
    return kind not in _PROVES_MAILBOX


# What each effect means, in the words the pages and commands show.
_STEPS = (
    ("reset", "a delivery or engagement reset the consecutive count"),
    ("counted", "counted toward a hold"),
    ("held", "put on hold"),
    ("suppressed", "suppressed"),
    ("removed", "address removed (moved to the bounced address)"),
    ("bulk_off", "bulk mail turned off"),
    ("disabled", "contact disabled"),
)


def policy_steps(kind: str, bounce_type: str, effects: dict[str, Any]) -> list[str]:
    """What the policy did with one event, in words, including why it did nothing."""
    steps = []
    for name, words in _STEPS:
        value = effects.get(name)
        if value:
            steps.append(f"{words} ({value})" if isinstance(value, str) else words)
    if not steps:
        why = never_counts(kind, bounce_type, not effects.get("unverified"))
        steps.append(f"no effect: {why or 'already counted today or already held'}")
    return steps


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
        effects.unverified = not facts.verified
        return effects

    _decay(facts, address, policy)
    today = facts.at.date()
    once_a_day = policy.decay.enabled and address.last_counted_on == today
    address.last_bounce_at = facts.at
    if not once_a_day:
        address.counts[facts.bounce_type] = address.counts.get(facts.bounce_type, 0) + 1
        if counts_consecutive(facts.kind):
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
        effects.suppressed = SuppressionSource.COMPLAINT
    elif facts.hardbounce and facts.kind == "bounce":
        effects.suppressed = SuppressionSource.BOUNCE
        address.bounced = True
        if policy.remove_address_on_hard_bounce and address.email:
            address.bounced_address = address.email
            address.email = None
            effects.removed = True
    if effects.suppressed and contact.bulk_mail != BulkMail.DO_NOT_ALLOW:
        contact.bulk_mail = BulkMail.DO_NOT_ALLOW
        effects.bulk_off = True

    if (
        policy.disable_after
        and counts_consecutive(facts.kind)
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
