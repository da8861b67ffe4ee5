"""A built-in decision: which reason applies, which rule said so, and on what evidence."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Decision:
    """Which reason applies and which rule said so."""

    reason: str
    rule: str
    evidence: str = ""
    tier: str = ""  # the phrase tier that matched, when the wording decided
