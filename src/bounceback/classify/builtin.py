"""The built-in rule pack, loaded once from the TOML data beside this module.

``data/status.toml`` maps enhanced status codes (RFC 3463, IANA registry) and SMTP
reply codes to reasons, names the codes specific enough to decide alone, and holds
the refinements that the SMTP stage or status class make to a reason.
``data/reasons/<reason>.toml`` lists, per reason, the diagnostic phrases
(case-insensitive substrings, white space squeezed) and regular expressions that
are evidence for it, with the priority in which reasons are tried; an ``[early]``
table holds wording so specific that it is tried before any other reason's, a
``[late]`` table generic wording tried only after every reason's own, and an
``[address]`` table (tried just before the reason's ordinary phrases) wording that
names the recipient *address* as what is wrong ("no such recipient"), which the
context rules treat as a refusal of the address itself (``unless_tier``).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# Early phrases (unambiguous wording) are tried before every reason's ordinary
# phrases, late ones (generic wording) after them.
EARLY_OFFSET = -1000
LATE_OFFSET = 1000


@dataclass(frozen=True, slots=True)
class PhraseRule:
    """The evidence for one reason at one priority: its phrases and patterns as one regex."""

    reason: str
    priority: int
    regex: re.Pattern[str]
    phrases: tuple[str, ...]
    patterns: tuple[re.Pattern[str], ...]
    tier: str = ""  # "early", "address", "" (ordinary) or "late"

    def search(self, text: str) -> str:
        """The phrase or pattern that matched, or ''. ``text`` is lower case, squeezed."""
        if not self.regex.search(text):
            return ""
        # Only on a match: find which alternative it was, to name the evidence.
        for phrase in self.phrases:
            if phrase in text:
                return phrase
        for pattern in self.patterns:
            if pattern.search(text):
                return pattern.pattern
        return self.regex.pattern[:60]


@dataclass(frozen=True, slots=True)
class Refinement:
    """Turns a reason into another when the SMTP stage or the status code says so."""

    reasons: frozenset[str]
    to: str
    commands: frozenset[str] = frozenset()  # the SMTP command the failure followed
    statuses: tuple[str, ...] = ()  # status prefixes ("5.2.", "4."); "" is no status
    why: str = ""
    # Phrase tiers whose wording is evidence enough: the refinement leaves them alone.
    unless_tiers: frozenset[str] = frozenset()
    # When given, only a decision by wording of these tiers is refined.
    tiers: frozenset[str] = frozenset()

    def applies(self, reason: str, command: str, status: str, tier: str = "") -> bool:
        if reason not in self.reasons:
            return False
        if tier and tier in self.unless_tiers:
            return False
        if self.tiers and tier not in self.tiers:
            return False
        if self.commands and command not in self.commands:
            return False
        if not self.statuses:
            return True
        return any(status.startswith(p) if p else not status for p in self.statuses)


def _strings(value: Any) -> tuple[str, ...]:
    return (str(value),) if isinstance(value, str) else tuple(str(v) for v in value)


@dataclass(frozen=True, slots=True)
class StatusTable:
    codes: dict[str, str]  # "5.1.1" -> reason
    decisive: frozenset[str]  # codes that decide before the diagnostic text is read
    subjects: dict[str, str]  # "1" (X.1.X subject) -> fallback reason
    reply_codes: dict[str, str]
    refinements: tuple[Refinement, ...]


def _data(path: str) -> dict[str, Any]:
    ref = resources.files("bounceback.classify").joinpath("data").joinpath(path)
    return tomllib.loads(ref.read_text(encoding="utf-8"))


@cache
def status_table() -> StatusTable:
    data = _data("status.toml")
    return StatusTable(
        codes={str(k): str(v) for k, v in data.get("codes", {}).items()},
        decisive=frozenset(str(c) for c in data.get("decisive", {}).get("codes", [])),
        subjects={str(k): str(v) for k, v in data.get("subjects", {}).items()},
        reply_codes={str(k): str(v) for k, v in data.get("reply_codes", {}).items()},
        refinements=tuple(
            Refinement(
                reasons=frozenset(_strings(r["reason"])),
                to=str(r["to"]),
                commands=frozenset(c.upper() for c in _strings(r.get("command", ()))),
                statuses=_strings(r.get("status", ())),
                why=str(r.get("why", "")),
                unless_tiers=frozenset(_strings(r.get("unless_tier", ()))),
                tiers=frozenset(_strings(r.get("tier", ()))),
            )
            for r in data.get("refine", [])
        ),
    )


@dataclass(frozen=True, slots=True)
class ProviderRule:
    """A provider's own reply wording that means one reason at that provider only."""

    name: str
    domains: tuple[str, ...]  # the recipient's domain or the remote MTA, by suffix
    reason: str
    regex: re.Pattern[str]
    commands: frozenset[str] = frozenset()  # the SMTP stage it applies at; empty: any

    def serves(self, command: str) -> bool:
        return not self.commands or command in self.commands


@cache
def provider_rules() -> tuple[ProviderRule, ...]:
    """``data/providers.toml``: wording whose meaning depends on who said it."""
    return tuple(
        ProviderRule(
            name=str(p["name"]),
            domains=tuple(d.lower() for d in _strings(p["domains"])),
            reason=str(p["reason"]),
            regex=re.compile("|".join(f"(?:{x})" for x in _strings(p["patterns"]))),
            commands=frozenset(c.upper() for c in _strings(p.get("command", ()))),
        )
        for p in _data("providers.toml").get("provider", [])
    )


@cache
def _provider_index() -> dict[str, tuple[ProviderRule, ...]]:
    index: dict[str, list[ProviderRule]] = {}
    for rule in provider_rules():
        for domain in rule.domains:
            index.setdefault(domain, []).append(rule)
    return {d: tuple(rules) for d, rules in index.items()}


def providers_of(*names: str) -> list[ProviderRule]:
    """The provider rules for these domains or hosts (each name or a parent domain).

    A dict lookup per label suffix, so records from other hosts cost almost nothing.
    """
    index = _provider_index()
    found: list[ProviderRule] = []
    for name in names:
        labels = name.split(".")
        for i in range(len(labels) - 1):
            for rule in index.get(".".join(labels[i:]), ()):
                if rule not in found:
                    found.append(rule)
    return found


def trie_regex(phrases: list[str] | tuple[str, ...]) -> str:
    """One regex for many literal phrases, shared prefixes factored out.

    Python's ``re`` tries the alternatives of ``a|b|c`` one by one at every
    position; a trie-shaped pattern tests each character once, which makes a
    long phrase list about twice as fast to search.
    """
    trie: dict[str, Any] = {}
    for phrase in phrases:
        node = trie
        for ch in phrase:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict[str, Any]) -> str:
        branches = [re.escape(ch) + build(node[ch]) for ch in sorted(node) if ch]
        if not branches:
            return ""
        body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{body})?" if "" in node else body

    return build(trie)


def _phrase_rule(
    reason: str, priority: int, table: dict[str, Any], tier: str = ""
) -> PhraseRule | None:
    phrases = [str(p) for p in table.get("phrases", [])]
    patterns = [str(p) for p in table.get("patterns", [])]
    if not phrases and not patterns:
        return None
    lowered = tuple(dict.fromkeys(" ".join(p.lower().split()) for p in phrases))
    alternatives = ([f"(?:{trie_regex(lowered)})"] if lowered else []) + [
        f"(?:{p})" for p in patterns
    ]
    return PhraseRule(
        reason=reason,
        priority=priority,
        regex=re.compile("|".join(alternatives)),
        phrases=lowered,
        patterns=tuple(re.compile(p) for p in patterns),
        tier=tier,
    )


@cache
def phrase_rules() -> tuple[PhraseRule, ...]:
    """Every reason's phrase rules, in the order they are tried."""
    folder = resources.files("bounceback.classify").joinpath("data").joinpath("reasons")
    rules: list[tuple[int, str, int, PhraseRule]] = []
    for entry in folder.iterdir():
        if not entry.name.endswith(".toml"):
            continue
        data = tomllib.loads(entry.read_text(encoding="utf-8"))
        reason = entry.name[: -len(".toml")]
        priority = int(data.get("priority", 100))
        # Within one priority, a reason's address wording is tried before its ordinary.
        for order, rule in enumerate(
            (
                _phrase_rule(reason, EARLY_OFFSET + priority, data.get("early", {}), "early"),
                _phrase_rule(reason, priority, data.get("address", {}), "address"),
                _phrase_rule(reason, priority, data),
                _phrase_rule(reason, LATE_OFFSET + priority, data.get("late", {}), "late"),
            )
        ):
            if rule is not None:
                rules.append((rule.priority, reason, order, rule))
    rules.sort(key=lambda r: r[:3])
    return tuple(r[3] for r in rules)
