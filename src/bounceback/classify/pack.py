"""The built-in pack as a list people can read: one entry per rule id ``Bounce.rule`` names.

Read-only: the entries are derived from the tables ``builtin`` loads (status codes,
providers, phrases, refinements) and the fixed steps of ``engine.decide_reason``
(the message kind, the record's action, a reason the format states, the defaults).
A user rule overrides one by its id (``section = "rule"``, docs/classify.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any

from bounceback.classify import builtin
from bounceback.classify.reasons import is_hard

EXAMPLES = 5  # how many phrases, patterns or codes an entry shows
READ_ONLY_NOTE = (
    "READ-ONLY: the pack is part of bounceback; an export is never read back. "
    'Override a rule with a user rule: section = "rule", text = "<id>", type = ...'
)

# The steps of engine._primary whose rules are not in a table: (id, reason, what).
_FIXED: tuple[tuple[str, str, str, str], ...] = (
    ("kind:complaint", "kind", "feedback", "a feedback report (ARF): the recipient complained"),
    ("kind:autoreply", "kind", "vacation", "an auto-reply (RFC 3834): the recipient is away"),
    ("kind:delivered", "kind", "delivered", "a delivery notice"),
    ("action:delivered", "action", "delivered", "a record whose Action is delivered"),
    ("action:relayed", "action", "delivered", "a record whose Action is relayed"),
    ("action:expanded", "action", "delivered", "a record whose Action is expanded"),
)
_LATE_FIXED: tuple[tuple[str, str, str, str], ...] = (
    (
        "queue:expired",
        "queue",
        "expired",
        "a delay notice, or a final report after retries ran out, whose last reply only"
        " said 'not now' (classify/expiry.py)",
    ),
    (
        "action:delayed",
        "action",
        "expired",
        "a delay notice with nothing else to go on (no wording, or only an X.0 code)",
    ),
    (
        "default",
        "default",
        "",
        "nothing decided: onhold when a failure was reported, else undefined",
    ),
)


@dataclass(frozen=True, slots=True)
class PackRule:
    """One built-in rule: the id a bounce names, what it looks at, what it decides."""

    id: str
    stage: str  # kind, action, format, status, provider, phrase, status-subject, reply, ...
    reason: str  # "" when the rule gives more than one (format:, default)
    hard: str  # "hard", "soft" or "depends" (on the status, or the reason stated)
    matches: str  # what it looks at, in words
    count: int = 0  # how many phrases, patterns, codes or conditions
    examples: tuple[str, ...] = ()  # the first few of them

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "stage": self.stage,
            "reason": self.reason,
            "hard": self.hard,
            "matches": self.matches,
            "count": self.count,
            "examples": list(self.examples),
        }


def _hardness(name: str, *statuses: str) -> str:
    found = {is_hard(name, s) for s in statuses or ("",)}
    if len(found) > 1:
        return "depends"
    return "hard" if found.pop() else "soft"


def _fixed(entries: tuple[tuple[str, str, str, str], ...]) -> list[PackRule]:
    out = []
    for rule_id, stage, name, what in entries:
        hard = _hardness(name) if name else "depends"
        out.append(PackRule(rule_id, stage, name, hard, what))
    return out


def _formats() -> list[PackRule]:
    from bounceback.parse.registry import detectors

    names = sorted({d.NAME for d in detectors()})
    return [
        PackRule(
            f"format:{name}",
            "format",
            "",
            "depends",
            f"the reason the {name} format states itself (a vendor's own error class)",
        )
        for name in names
    ]


def _statuses() -> list[PackRule]:
    table = builtin.status_table()
    out = []
    for code, name in table.codes.items():
        decisive = code in table.decisive
        what = (
            f"status {code}, decisive: before any wording"
            if decisive
            else f"status {code}, when no provider's or phrase's wording decided"
        )
        out.append(
            PackRule(f"status:{code}", "status", name, _hardness(name, code), what, 1, (code,))
        )
    return out


def _providers() -> list[PackRule]:
    out: dict[str, PackRule] = {}
    patterns: dict[str, tuple[str, ...]] = {}
    for table in builtin._data("providers.toml").get("provider", []):
        found = table.get("patterns", ())
        listed = (found,) if isinstance(found, str) else tuple(str(x) for x in found)
        patterns[str(table["name"])] = patterns.get(str(table["name"]), ()) + listed
    for p in builtin.provider_rules():
        stage = f" after {', '.join(sorted(p.commands))}" if p.commands else ""
        what = f"{p.name}'s own wording, for {', '.join(p.domains[:EXAMPLES])}{stage}"
        examples = patterns.get(p.name, ())
        rule = PackRule(
            f"provider:{p.name}",
            "provider",
            p.reason,
            _hardness(p.reason),
            what,
            len(examples),
            examples[:EXAMPLES],
        )
        # Two tables of one provider give one id: the first decides which is shown.
        out.setdefault(rule.id, rule)
    return list(out.values())


def _phrases() -> list[PackRule]:
    grouped: dict[str, list[builtin.PhraseRule]] = {}
    for rule in builtin.phrase_rules():
        grouped.setdefault(rule.reason, []).append(rule)
    out = []
    for name, rules in grouped.items():
        items = [p for r in rules for p in r.phrases] + [
            x.pattern for r in rules for x in r.patterns
        ]
        tiers = ", ".join(r.tier or "ordinary" for r in rules)
        what = f"the diagnostic's wording ({tiers}): case-blind phrases and patterns"
        out.append(
            PackRule(
                f"phrase:{name}",
                "phrase",
                name,
                _hardness(name),
                what,
                len(items),
                tuple(items[:EXAMPLES]),
            )
        )
    return out


def _subjects() -> list[PackRule]:
    table = builtin.status_table()
    return [
        PackRule(
            f"status-subject:{klass}.{subject}",
            "status-subject",
            name,
            _hardness(name, f"{klass}.{subject}.0"),
            f"any other status {klass}.{subject}.X (its subject class)",
        )
        for klass in ("4", "5")
        for subject, name in table.subjects.items()
    ]


def _replies() -> list[PackRule]:
    return [
        PackRule(
            f"reply:{code}",
            "reply",
            name,
            _hardness(name, code[:1]),
            f"SMTP reply {code} when no specific status code was given",
            1,
            (code,),
        )
        for code, name in builtin.status_table().reply_codes.items()
    ]


def _contexts() -> list[PackRule]:
    found: dict[str, PackRule] = {}
    for refinement in builtin.status_table().refinements:
        conditions = []
        if refinement.commands:
            conditions.append(f"after {'/'.join(sorted(refinement.commands))}")
        if refinement.statuses:
            shown = (s or "no status" for s in refinement.statuses)
            conditions.append(f"status {'/'.join(shown)}")
        if refinement.why:
            conditions.append(refinement.why)
        for name in sorted(refinement.reasons):
            rule_id = f"context:{name}>{refinement.to}"
            earlier = found.get(rule_id)
            examples = (earlier.examples if earlier else ()) + ("; ".join(conditions),)
            found[rule_id] = PackRule(
                rule_id,
                "context",
                refinement.to,
                _hardness(refinement.to),
                f"{name} turned into {refinement.to} by the SMTP stage or the status",
                len(examples),
                examples[:EXAMPLES],
            )
    return list(found.values())


@cache
def pack() -> tuple[PackRule, ...]:
    """Every built-in rule, in the order ``decide_reason`` consults them."""
    return tuple(
        [
            *_fixed(_FIXED),
            *_formats(),
            *_statuses(),
            *_providers(),
            *_phrases(),
            *_subjects(),
            *_replies(),
            *_fixed(_LATE_FIXED),
            *_contexts(),
        ]
    )


@cache
def ids() -> frozenset[str]:
    return frozenset(rule.id for rule in pack())


def find(rule_id: str) -> PackRule | None:
    for rule in pack():
        if rule.id == rule_id:
            return rule
    return None


def check_id(rule_id: str) -> str:
    """``rule_id`` when the pack has it; else ValueError naming the nearest ids."""
    if rule_id in ids():
        return rule_id
    stage = rule_id.split(":", 1)[0]
    near = sorted(i for i in ids() if i.split(":", 1)[0] == stage)[:5]
    hint = f" (e.g. {', '.join(near)})" if near else " (see 'bounceback rules list --builtin')"
    raise ValueError(f"{rule_id!r} is not a built-in rule id{hint}")


def as_json() -> list[dict[str, Any]]:
    return [rule.as_dict() for rule in pack()]


def to_toml() -> str:
    """The pack as TOML, for reading: it is not a rules file and is never loaded."""
    lines = [
        "# bounceback built-in rules (bounceback rules export --builtin)",
        f"# {READ_ONLY_NOTE}",
        "read_only = true",
    ]
    for rule in pack():
        lines += ["", "[[builtin]]"]
        for key, value in rule.as_dict().items():
            lines.append(f"{key} = {_toml_value(value)}")
    return "\n".join(lines) + "\n"


def _toml_value(value: Any) -> str:
    import json

    # A JSON string, number or list of strings is valid TOML as it stands.
    return json.dumps(value, ensure_ascii=False)
