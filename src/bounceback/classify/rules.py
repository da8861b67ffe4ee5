"""User rules: the two forms people already keep, loaded from a TOML file.

- section rules: a case-sensitive phrase (≤ 100 characters) looked for in the
  bounce's body, subject, from or to (To, Cc, Bcc and the envelope recipient), with a
  type hard, soft or both. All hard
  rules are tried first, then soft, then both; the first match wins, and a
  ``both`` match is soft.
- pattern lines ``<text>==>Hard`` or ``==>Soft``, matched against the diagnostic.
- built-in overrides: section ``rule`` with the text a built-in rule's id
  (``bounceback rules list --builtin``); it matches when that rule decided the record.

A rule of type ``ignore`` says "not a bounce": the record it matches yields no
Bounce. Ignore rules are tried before all others (the user's word that there is
nothing to count outranks any verdict).

Text is compared with runs of white space squeezed to one space, so a phrase
still matches where the bounce wrapped it over two lines.

The file (``bounceback parse --rules FILE``)::

    patterns = ["550 5.7.1 Unfortunately, messages from==>Hard"]

    [[rules]]
    id = "quota-text"        # optional; rule-N (its position) when missing
    section = "body"         # body | subject | from | to
    text = "Mailbox has exceeded the limit"
    type = "soft"            # hard | soft | both | ignore
    bounce_type = "Quota"    # optional

    [[rules]]
    section = "rule"         # override a built-in rule by its id
    text = "status:5.7.1"
    type = "soft"
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.model import DeliveryRecord, Report

Section = Literal["body", "subject", "from", "to", "rule", "diagnostic"]
RuleType = Literal["hard", "soft", "both", "ignore"]

MAX_TEXT = 100
_SECTIONS = ("body", "subject", "from", "to", "rule")
_TYPES = ("hard", "soft", "both", "ignore")
_ORDER = {"ignore": -1, "hard": 0, "soft": 1, "both": 2}
_PATTERN_RE = re.compile(r"^(?P<text>(?:\s*+\S)+?)\s*==>\s*(?P<type>hard|soft)\s*$", re.I | re.S)
_TOP_KEYS = frozenset({"patterns", "rules"})
_RULE_KEYS = frozenset({"id", "section", "text", "type", "bounce_type"})


class RuleError(ValueError):
    """A rule or rules file that cannot be used; the text says where and why."""


def _squeeze(text: str) -> str:
    return " ".join(text.split())


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    section: Section
    text: str  # white space squeezed
    type: RuleType
    bounce_type: str = ""

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        # Pickled to the parse children (ledger/deadline.py); the compiled build's
        # default unpickling assigns fields, which a frozen class refuses.
        return (Rule, (self.id, self.section, self.text, self.type, self.bounce_type))

    def matches(self, report: Report, record: DeliveryRecord, decided: str = "") -> bool:
        """``decided``: the id of the built-in rule that decided the record."""
        if self.section == "rule":
            return self.text == decided
        return self.text in _section_text(self.section, report, record)

    @property
    def hard(self) -> bool:
        return self.type == "hard"

    @property
    def ignores(self) -> bool:
        """The rule says the record is not a bounce."""
        return self.type == "ignore"


def _section_text(section: Section, report: Report, record: DeliveryRecord) -> str:
    if section == "diagnostic":
        return _squeeze(record.diagnostic)
    if section == "subject":
        return _squeeze(report.subject)
    if section == "from":
        return _squeeze(report.from_)
    if section == "to":
        # To, Cc and Bcc, and for a bounce where it was delivered (the envelope
        # recipient: Delivered-To, X-Original-To), as OpenCRM's "to" reads them.
        return _squeeze(" ".join([report.to, report.cc, *report.delivered_to]))
    # The body: the bounce's own text, and the record's diagnostic (which some
    # formats carry only in a machine-readable part).
    return _squeeze(report.body + " " + record.diagnostic)


@dataclass(frozen=True, slots=True)
class RuleSet:
    """User rules in evaluation order: hard, then soft, then both (stable within each)."""

    rules: tuple[Rule, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        ordered = tuple(sorted(self.rules, key=lambda r: _ORDER[r.type]))
        object.__setattr__(self, "rules", ordered)

    def __reduce__(self) -> tuple[Any, tuple[Any, ...]]:
        return (RuleSet, (self.rules,))  # see Rule.__reduce__

    def __bool__(self) -> bool:
        return bool(self.rules)

    def __len__(self) -> int:
        return len(self.rules)

    def first_match(self, report: Report, record: DeliveryRecord, decided: str = "") -> Rule | None:
        """The first rule that matches; ``decided`` is the built-in rule id that decided
        the record (what ``section = "rule"`` overrides compare with)."""
        texts: dict[Section, str] = {}  # each section squeezed once per record
        for rule in self.rules:
            if rule.section == "rule":
                if rule.text == decided:
                    return rule
                continue
            text = texts.get(rule.section)
            if text is None:
                text = texts[rule.section] = _section_text(rule.section, report, record)
            if rule.text in text:
                return rule
        return None


def make_rule(
    *,
    text: Any,
    type: Any,
    section: Any = "body",
    id: str = "",
    bounce_type: Any = "",
    where: str = "rule",
) -> Rule:
    """A validated rule; raises RuleError naming the offending rule."""
    if not isinstance(text, str) or not text.strip():
        raise RuleError(f"{where}: text is missing or empty")
    squeezed = _squeeze(text)
    if len(squeezed) > MAX_TEXT and section != "diagnostic":
        raise RuleError(f"{where}: text is {len(squeezed)} characters, the limit is {MAX_TEXT}")
    kind = type.lower() if isinstance(type, str) else ""
    if kind not in _TYPES:
        raise RuleError(
            f"{where}: type must be hard, soft or both (or ignore: not a bounce), not {type!r}"
        )
    if section not in _SECTIONS and section != "diagnostic":
        raise RuleError(f"{where}: section must be one of {', '.join(_SECTIONS)}, not {section!r}")
    if section == "rule":
        from bounceback.classify.pack import check_id  # the pack loads the data: only now

        try:
            check_id(squeezed)
        except ValueError as exc:
            raise RuleError(f"{where}: {exc}") from exc
    if not isinstance(bounce_type, str) or (bounce_type and bounce_type not in BOUNCE_TYPES):
        raise RuleError(
            f"{where}: bounce_type {bounce_type!r} is not one of {', '.join(BOUNCE_TYPES)}"
        )
    return Rule(
        id=id or where,
        section=section,
        text=squeezed,
        type=kind,  # type: ignore[arg-type]
        bounce_type=bounce_type,
    )


def parse_pattern(line: str, index: int = 1) -> Rule:
    """A ``text==>Hard|Soft`` line, matched against the diagnostic."""
    m = _PATTERN_RE.match(line.strip())
    if not m:
        raise RuleError(f"pattern {index}: expected 'text==>Hard' or 'text==>Soft', got {line!r}")
    return make_rule(
        text=m.group("text"),
        type=m.group("type").lower(),
        section="diagnostic",
        id=f"pattern-{index}",
        where=f"pattern {index}",
    )


def from_data(data: dict[str, Any]) -> RuleSet:
    """Rules from a parsed TOML document (top-level ``patterns``, ``[[rules]]``)."""
    unknown = set(data) - _TOP_KEYS
    if unknown:
        raise RuleError(
            f"unknown top-level keys {', '.join(sorted(unknown))} (expected patterns, [[rules]])"
        )
    rules: list[Rule] = []
    patterns = data.get("patterns", [])
    if not isinstance(patterns, list):
        raise RuleError("patterns must be a list of 'text==>Hard|Soft' strings")
    for i, line in enumerate(patterns, 1):
        if not isinstance(line, str):
            raise RuleError(f"pattern {i}: must be a string")
        rules.append(parse_pattern(line, i))
    tables = data.get("rules", [])
    if not isinstance(tables, list):
        raise RuleError("rules must be an array of tables ([[rules]])")
    for i, table in enumerate(tables, 1):
        if not isinstance(table, dict):
            raise RuleError(f"rule {i}: must be a table")
        unknown = set(table) - _RULE_KEYS
        if unknown:
            raise RuleError(f"rule {i}: unknown keys {', '.join(sorted(unknown))}")
        rule_id = table.get("id", "")
        if not isinstance(rule_id, str):
            raise RuleError(f"rule {i}: id must be a string")
        rules.append(
            make_rule(
                text=table.get("text", ""),
                type=table.get("type", ""),
                section=table.get("section", "body"),
                id=rule_id or f"rule-{i}",
                bounce_type=table.get("bounce_type", ""),
                where=f"rule {i}",
            )
        )
    ids = [r.id for r in rules]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    if duplicates:
        raise RuleError(f"duplicate rule ids: {', '.join(duplicates)}")
    return RuleSet(tuple(rules))


def loads(text: str) -> RuleSet:
    """Rules from the text of a TOML rules file."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise RuleError(f"not valid TOML: {exc}") from exc
    return from_data(data)


def load(path: str | Path) -> RuleSet:
    """Read a rules file; RuleError says what is wrong with it."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as unreadable:
        reason = (
            unreadable.strerror
            if isinstance(unreadable, OSError) and unreadable.strerror
            else str(unreadable)
        )
        raise RuleError(f"{p}: cannot read the rules file: {reason}") from unreadable
    try:
        return loads(text)
    except RuleError as exc:
        raise RuleError(f"{p}: {exc}") from exc


def from_patterns(lines: Iterable[str]) -> RuleSet:
    """Rules from bare pattern lines (blank lines skipped)."""
    return RuleSet(tuple(parse_pattern(line, i) for i, line in enumerate(lines, 1) if line.strip()))


def combine(sets: Sequence[RuleSet]) -> RuleSet:
    return RuleSet(tuple(rule for s in sets for rule in s.rules))
