"""The policy itself, without a database: one bounce at a time on a small state."""

from __future__ import annotations

import datetime as dt

from bounceback.config import PolicyConfig
from bounceback.ledger.policy import AddressState, ContactState, Facts, apply, rebuild

AT = dt.datetime(2026, 3, 1, 12)


def facts(kind: str = "bounce", hard: bool = False, type_: str = "Quota", days: int = 0) -> Facts:
    return Facts(kind, hard, type_, "x", AT + dt.timedelta(days=days))


def test_hard_bounce_suppresses_and_moves_the_address() -> None:
    address, contact = AddressState(email="a@example.org"), ContactState()
    effects = apply(facts(hard=True, type_="Invalid"), address, contact, PolicyConfig())
    assert effects.suppressed == "bounce" and effects.removed and effects.held
    assert (address.email, address.bounced_address) == (None, "a@example.org")
    assert contact.bulk_mail == "do_not_allow"


def test_a_hard_delay_is_not_a_hard_bounce() -> None:
    address, contact = AddressState(email="a@example.org"), ContactState()
    effects = apply(facts(kind="delay", hard=True), address, contact, PolicyConfig())
    assert effects.as_dict() == {} and address.email == "a@example.org"


def test_sender_fault_and_zero_threshold_never_hold() -> None:
    policy = PolicyConfig()
    policy.thresholds["Quota"] = None
    address, contact = AddressState(email="a@example.org"), ContactState()
    for n in range(5):
        apply(facts(type_="Sender", days=n), address, contact, policy)
        apply(facts(type_="Quota", days=n), address, contact, policy)
    assert address.counts == {"Quota": 5} and not address.on_hold


def test_rebuild_is_the_same_as_applying_live() -> None:
    history = [facts(days=0), facts(days=1), facts(kind="delivered", days=2), facts(days=3)]
    live, contact = AddressState(email="a@example.org"), ContactState()
    for item in history:
        apply(item, live, contact, PolicyConfig())
    rebuilt, effects = rebuild("a@example.org", history, ContactState(), PolicyConfig())
    assert rebuilt == live
    assert rebuilt.consecutive == 1 and effects[2].reset
