"""The per-reason refinement index finds what a walk over the whole table finds."""

from __future__ import annotations

import itertools

from bounceback.classify import builtin, engine
from bounceback.classify.reasons import REASONS


def _first_in_table(reason: str, command: str, status: str, tier: str) -> object:
    for refinement in builtin.status_table().refinements:
        if refinement.applies(reason, command, status, tier):
            return refinement
    return None


def _first_indexed(reason: str, command: str, status: str, tier: str) -> object:
    for refinement in engine._refinements_of(reason):
        if refinement.applies(reason, command, status, tier):
            return refinement
    return None


def test_index_keeps_the_tables_order_and_choice() -> None:
    table = builtin.status_table().refinements
    commands = {"", "RCPT", "DATA", "MAIL", "CONNECT", "EHLO"}
    statuses = {"", "5.1.1", "4.4.7", "5.7.1", "5.0.0", "4.0.0", "5.2.2"}
    tiers = {""}
    for refinement in table:
        commands |= refinement.commands
        statuses |= {p + "1" if p.endswith(".") else p for p in refinement.statuses}
        tiers |= refinement.unless_tiers | refinement.tiers
    reasons = set(REASONS) | {r for refinement in table for r in refinement.reasons}
    refined = 0
    for reason, command, status, tier in itertools.product(reasons, commands, statuses, tiers):
        found = _first_indexed(reason, command, status, tier)
        assert found is _first_in_table(reason, command, status, tier)
        refined += found is not None
    assert refined > 0  # the table does refine some of them
    for reason, chosen in engine._refinements_by_reason().items():
        assert list(chosen) == [r for r in table if reason in r.reasons]
