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
names the recipient *address* as what is wrong ("no such recipient"). A refinement
can be limited to, or spare, decisions by some tiers (``tier``, ``unless_tier``).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

# The phrases are looked for in this much of a diagnostic: the reason is stated
# at its start, and a pathological one must not cost seconds.
MAX_TEXT = 4000


def squeezed(text: str) -> str:
    """Lower case, white space squeezed, cut short: the form phrases are matched in."""
    return " ".join(text[: MAX_TEXT * 2].lower().split())[:MAX_TEXT]


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
class QueueWording:
    """What says a report is about time: the queue gave up, or is still trying."""

    said: re.Pattern[str]  # the statement, in a diagnostic, subject or report text
    not_now: frozenset[str]  # last-reply phrases that only say "not now"


@cache
def queue_wording() -> QueueWording:
    """``[queue]`` and ``[last_reply]`` of ``data/reasons/expired.toml``."""
    folder = resources.files("bounceback.classify").joinpath("data").joinpath("reasons")
    data = tomllib.loads(folder.joinpath("expired.toml").read_text(encoding="utf-8"))
    said = tuple(dict.fromkeys(" ".join(str(p).lower().split()) for p in data["queue"]["phrases"]))
    not_now = (" ".join(str(p).lower().split()) for p in data["last_reply"]["phrases"])
    return QueueWording(re.compile(trie_regex(said)), frozenset(not_now))


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


@cache
def _deepest_provider_domain() -> int:
    """The most labels any provider domain has."""
    return max((domain.count(".") + 1 for domain in _provider_index()), default=1)


def providers_of(*names: str) -> list[ProviderRule]:
    """The provider rules for these domains or hosts (each name or a parent domain).

    A dict lookup per label suffix, so records from other hosts cost almost nothing.
    """
    index = _provider_index()
    deepest = _deepest_provider_domain()
    found: list[ProviderRule] = []
    for name in names:
        labels = name.split(".")
        # Only the suffixes as long as a listed domain: a host of 50,000 labels
        # would otherwise join 50,000 suffixes of it (quadratic).
        for i in range(max(0, len(labels) - deepest), len(labels) - 1):
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


# A phrase's key is a word: a run of these characters. A word of a phrase can only
# occur inside one word of the text, which is what lets the index work word by word.
_WORD_RE = re.compile(r"[a-z0-9]+")


def _key_of(literal: str) -> str:
    """A substring of ``literal``: its longest word (likely the rarest), else all of it."""
    longest = max(_WORD_RE.findall(literal), key=len, default="")
    return longest if len(longest) >= 3 else literal


_QUANTIFIERS = "?*{"  # what makes the character before it optional
_SPECIAL = "\\()[]|.^$+?*{}"
_LONG_ESCAPES = "xuUN0123456789"
_REPEAT_RE = re.compile(r"\{\d*(?:,\d*)?\}")


def _pattern_literal(pattern: re.Pattern[str]) -> str:
    """The longest literal run every match of a pattern contains, or '' when none is sure.

    Conservative: only plain characters outside any group, class or escape count, a
    character a quantifier makes optional does not, and a top-level alternative or a
    case-blind pattern gives none.
    """
    source = pattern.pattern
    if pattern.flags & (re.IGNORECASE | re.VERBOSE):
        return ""
    runs: list[str] = []
    run, depth, i = "", 0, 0
    while i < len(source):
        ch = source[i]
        nxt = source[i + 1] if i + 1 < len(source) else ""
        if ch not in _SPECIAL and depth == 0:
            if nxt and nxt in _QUANTIFIERS:
                runs.append(run)
                run = ""
            else:
                run += ch
            i += 1
            continue
        runs.append(run)
        run = ""
        if ch == "\\":
            if nxt in _LONG_ESCAPES:
                return ""  # \x41, \N{...}, \1: more than one character follows
            i += 2
            continue
        if ch == "[":  # skip the class: an escaped "]", or one first in it, is a member
            i += 3 if source.startswith("[^]", i) else 2 if nxt == "]" else 1
            while i < len(source) and source[i] != "]":
                i += 2 if source[i] == "\\" else 1
            i += 1
            continue
        if ch == "{":  # a repeat count; a "{" that is text is not worth reading
            count = _REPEAT_RE.match(source, i)
            if count is None:
                return ""
            i = count.end()
            continue
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == "|" and depth == 0:
            return ""
        i += 1
    runs.append(run)
    best = max(runs, key=len)
    return best if len(best) >= 3 else ""


@dataclass(frozen=True, slots=True)
class PhraseItem:
    rule: PhraseRule
    phrase: str  # a literal phrase, or
    pattern: re.Pattern[str] | None  # a pattern,
    literal: str = ""  # with a literal run every match of it contains ('' when unsure)


class PhraseIndex:
    """Finds the first phrase rule a text matches without searching every rule.

    Every phrase and pattern (an item) has a key, a substring of it (``_key_of``).
    Items are numbered in the order ``PhraseRule.search`` would try them: rule by
    rule in priority order, each rule's phrases and then its patterns. A text can
    only contain an item whose key it contains; the keys are found word by word
    (a word-key lies inside one word of the text; what each distinct word holds is
    remembered), the few other keys by substring tests. The candidate items are
    then tried in their order and the first that matches decides: the same rule
    and the same evidence as trying every rule in turn.
    """

    _MAX_WORDS = 20_000  # remembered words (a few MB at most); emptied when full

    def __init__(self, rules: tuple[PhraseRule, ...]) -> None:
        items: list[PhraseItem] = []
        word_keys: dict[str, int] = {}  # word key -> bit mask of its items
        other_keys: dict[str, int] = {}
        always = 0
        for rule in rules:
            literals = [(p, None, p) for p in rule.phrases] + [
                ("", p, _pattern_literal(p)) for p in rule.patterns
            ]
            for phrase, pattern, literal in literals:
                bit = 1 << len(items)
                items.append(PhraseItem(rule, phrase, pattern, "" if pattern is None else literal))
                key = _key_of(literal) if literal else ""
                if not key:
                    always |= bit
                elif _WORD_RE.fullmatch(key):
                    word_keys[key] = word_keys.get(key, 0) | bit
                else:
                    other_keys[key] = other_keys.get(key, 0) | bit
        # A key found brings every key inside it: "blacklisted" holds "listed".
        self._key_masks = {
            key: _or_all(mask for other, mask in word_keys.items() if other in key)
            for key in word_keys
        }
        # At each position of a word, the longest key starting there (a trie: the
        # text picks one path, the greedy optional tails take the longest).
        self._keys_re = re.compile(f"(?=({trie_regex(sorted(word_keys))}))")
        self._other = tuple(other_keys.items())
        self._always = always
        self._items = tuple(items)
        self._words: dict[str, int] = {}

    def _word_mask(self, word: str) -> int:
        masks = self._key_masks
        return _or_all(masks[key] for key in self._keys_re.findall(word))

    def first(self, text: str) -> tuple[PhraseRule, str] | None:
        """The first rule (in order) whose wording ``text`` contains, with the evidence."""
        words = self._words
        if len(words) > self._MAX_WORDS:
            words.clear()
        mask = self._always
        for word in set(_WORD_RE.findall(text)):
            found = words.get(word)
            if found is None:
                found = words[word] = self._word_mask(word)
            mask |= found
        for key, key_mask in self._other:
            if key in text:
                mask |= key_mask
        items = self._items
        # The candidates' bits, lowest first, as text: a substring search finds each
        # next one (picking bits off a thousand-bit int allocates at every step).
        bits = bin(mask)[:1:-1]
        at = bits.find("1")
        while at >= 0:
            item = items[at]
            at = bits.find("1", at + 1)
            if item.pattern is None:
                if item.phrase in text:
                    return item.rule, item.phrase
            # A pattern's key word is often common ("user"); its whole literal run
            # ("unknown_user") rarely is, and a substring test is far cheaper than a
            # search that starts with a look-behind (tried at every position).
            elif (not item.literal or item.literal in text) and item.pattern.search(text):
                return item.rule, item.pattern.pattern
        return None


@cache
def phrase_index() -> PhraseIndex:
    return PhraseIndex(phrase_rules())


def _or_all(masks: Iterable[int]) -> int:
    total = 0
    for mask in masks:
        total |= mask
    return total
