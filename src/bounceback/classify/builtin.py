"""The built-in rule pack, loaded from the TOML data beside this module.

``data/status.toml`` maps enhanced status codes (RFC 3463, IANA registry) and SMTP
reply codes to reasons; ``data/reasons/<reason>.toml`` lists, per reason, the
diagnostic phrases (case-insensitive substrings) and regular expressions that
are evidence for it, and the priority in which reasons are tried.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """The evidence for one reason: its phrases and patterns, compiled as one."""

    reason: str
    priority: int
    regex: re.Pattern[str]
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]

    def search(self, text: str) -> str:
        """The phrase or pattern that matched, or ''. ``text`` is lower case."""
        if not self.regex.search(text):
            return ""
        # Only on a match: find which alternative it was, to name the rule.
        for phrase in self.phrases:
            if phrase in text:
                return phrase
        for pattern in self.patterns:
            if pattern.search(text):
                return pattern.pattern
        return self.regex.pattern[:60]


@dataclass(frozen=True, slots=True)
class StatusTable:
    codes: dict[str, str]  # "5.1.1" -> reason
    ambiguous: frozenset[str]  # codes whose reason the text decides first
    subjects: dict[str, str]  # "X.1" subject class -> fallback reason
    reply_codes: dict[str, str]


def _read(path: str) -> dict[str, Any]:
    ref = resources.files("bounceback.classify").joinpath("data").joinpath(path)
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@cache
def status_table() -> StatusTable:
    data = _read("status.toml")
    return StatusTable(
        codes=dict(data.get("codes", {})),
        ambiguous=frozenset(data.get("ambiguous", {}).get("codes", [])),
        subjects=dict(data.get("subjects", {})),
        reply_codes=dict(data.get("reply_codes", {})),
    )


@cache
def phrase_rules() -> tuple[PhraseRule, ...]:
    folder = resources.files("bounceback.classify").joinpath("data").joinpath("reasons")
    rules = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        reason = entry.name[: -len(".toml")]
        phrases = [str(p) for p in data.get("phrases", [])]
        patterns = [str(p) for p in data.get("patterns", [])]
        if not phrases and not patterns:
            continue
        lowered = tuple(" ".join(p.lower().split()) for p in phrases)
        alternatives = [re.escape(p) for p in lowered] + [f"(?:{p})" for p in patterns]
        rules.append(
            PhraseRule(
                reason=reason,
                priority=int(data.get("priority", 100)),
                regex=re.compile("|".join(alternatives), re.I),
                phrases=lowered,
                patterns=tuple(re.compile(p, re.I) for p in patterns),
            )
        )
    rules.sort(key=lambda r: (r.priority, r.reason))
    return tuple(rules)
