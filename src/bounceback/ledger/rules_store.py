"""User rules kept in the database (``user_rules``): edit, order, import, export, try.

The rules in force are the database's enabled rules, in their order, then the
config file's (``rules_file``); evaluation stays hard first, then soft, then both
(first match wins), so among rules of one type the database's are tried first.

Every change bumps a counter in the ``settings`` table in the same transaction; a
ledger (this process's or another's: serve's pollers, the CLI) compares it once per
batch and re-reads the rules only when it moved.
"""

from __future__ import annotations

import json
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, insert, select, update
from sqlalchemy.exc import DBAPIError

from bounceback.classify import RuleSet, classify_each
from bounceback.classify.rules import Rule, RuleError, combine, loads, make_rule, parse_pattern
from bounceback.ledger import live
from bounceback.ledger import tables as t
from bounceback.ledger.db import unavailable
from bounceback.ledger.models import iso, utcnow
from bounceback.ledger.store import Store
from bounceback.model import Bounce, Report
from bounceback.parse import parse
from bounceback.rule_ref import STORED_PREFIX, RuleRef

LAST_ID_KEY = "rules.last_id"
ID_PREFIX = STORED_PREFIX  # a database rule's id in Bounce.rule: user:db-<row id>
FORMS = ("section", "pattern")
SECTIONS = ("body", "subject", "from", "to", "rule")
MAX_PATTERN = 1000  # pattern lines have no 100-character limit; this only bounds abuse
_EDITABLE = ("form", "section", "text", "type", "bounce_type", "enabled", "note")
_BOOKKEEPING = frozenset({"id", "rule_id", "position", "created_at", "updated_at"})


class RuleNotFound(LookupError):
    """No stored rule has this id."""


# --- validation ---------------------------------------------------------------------
def validate(data: Mapping[str, Any]) -> dict[str, Any]:
    """The row values for a rule, checked by the engine's own rule builder.

    Accepts ``{"form": "section", "section", "text", "type", "bounce_type"}``,
    ``{"form": "pattern", "text", "type": "hard"|"soft"}`` or ``{"pattern":
    "text==>Hard"}``; raises RuleError with a message a person can act on.
    """
    unknown = set(data) - {*_EDITABLE, "pattern"}
    if unknown:
        raise RuleError(f"unknown fields: {', '.join(sorted(unknown))}")
    line = data.get("pattern")
    form = data.get("form") or ("pattern" if line else "section")
    if form not in FORMS:
        raise RuleError(f"form must be section or pattern, not {form!r}")
    bounce_type = data.get("bounce_type") or ""
    if form == "pattern":
        if line is not None:
            if not isinstance(line, str):
                raise RuleError("pattern must be a 'text==>Hard' or 'text==>Soft' string")
            rule = parse_pattern(line)
            rule = make_rule(
                text=rule.text,
                type=rule.type,
                section="diagnostic",
                bounce_type=bounce_type,
                where="pattern",
            )
        else:
            kind = data.get("type")
            if isinstance(kind, str) and kind.lower() in ("both", "ignore"):
                raise RuleError("pattern: type must be hard or soft")
            rule = make_rule(
                text=data.get("text"),
                type=kind,
                section="diagnostic",
                bounce_type=bounce_type,
                where="pattern",
            )
        if len(rule.text) > MAX_PATTERN:
            raise RuleError(
                f"pattern: text is {len(rule.text)} characters, the limit is {MAX_PATTERN}"
            )
    else:
        if line is not None:
            raise RuleError("pattern is only for form 'pattern'")
        section = data.get("section", "body")
        if section not in SECTIONS:
            raise RuleError(f"rule: section must be one of {', '.join(SECTIONS)}, not {section!r}")
        rule = make_rule(
            text=data.get("text"),
            type=data.get("type"),
            section=section,
            bounce_type=bounce_type,
        )
    enabled = data.get("enabled", True)
    if not isinstance(enabled, bool):
        raise RuleError("enabled must be true or false")
    note = data.get("note", "")
    if not isinstance(note, str):
        raise RuleError("note must be a string")
    return {
        "form": form,
        "section": rule.section,
        "text": rule.text,
        "type": rule.type,
        "bounce_type": rule.bounce_type,
        "enabled": enabled,
        "note": note,
    }


def as_rule(row: Mapping[str, Any], name: str = "") -> Rule:
    """The engine's Rule for a stored row (already validated when it was written)."""
    return Rule(
        id=name or f"{ID_PREFIX}{row['id']}",
        section=row["section"],
        text=row["text"],
        type=row["type"],
        bounce_type=row["bounce_type"],
    )


def _view(row: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "rule_id": f"{ID_PREFIX}{row['id']}",
        "position": row["position"],
        "form": row["form"],
        "section": row["section"],
        "text": row["text"],
        "type": row["type"],
        "bounce_type": row["bounce_type"],
        "enabled": row["enabled"],
        "note": row["note"],
        "created_at": iso(row["created_at"]),
        "updated_at": iso(row["updated_at"]),
    }


@contextmanager
def _changing(ledger: Store) -> Iterator[Connection]:
    """A transaction that changes the rules: the version moves with it, or neither does."""
    try:
        with ledger.engine.begin() as conn:
            live.bump(conn)  # first: it serialises the writers (see live.bump)
            yield conn
    except DBAPIError as exc:
        raise unavailable(exc) from exc


def _new_id(conn: Connection) -> int | None:
    """An id never used before. SQLite hands out max(id) + 1, so deleting the last rule
    would let the next take its id (and old bounces' ``user:db-N`` name a new rule): the
    highest id ever given is kept in settings. PostgreSQL's sequence never reuses one."""
    if conn.dialect.name == "postgresql":
        return None
    s = t.settings.c
    kept = conn.execute(select(s.value).where(s.key == LAST_ID_KEY)).scalar()
    top = conn.execute(select(func.max(t.user_rules.c.id))).scalar() or 0
    new = max(int(kept or 0), int(top)) + 1
    conn.execute(delete(t.settings).where(s.key == LAST_ID_KEY))
    conn.execute(insert(t.settings).values(key=LAST_ID_KEY, value=str(new)))
    return new


version = live.version  # moves with every edit of the rules (and of settings, thresholds)


# --- reading ------------------------------------------------------------------------
def current_version(ledger: Store) -> str:
    return live.current(ledger)


def _rows(conn: Connection, enabled_only: bool = False) -> list[dict[str, Any]]:
    r = t.user_rules.c
    stmt = select(t.user_rules).order_by(r.position, r.id)
    if enabled_only:
        stmt = stmt.where(r.enabled.is_(True))
    return [dict(row) for row in conn.execute(stmt).mappings()]


@contextmanager
def _reading(ledger: Store) -> Iterator[Connection]:
    try:
        with ledger.engine.connect() as conn:
            yield conn
    except DBAPIError as exc:
        raise unavailable(exc) from exc


def list_rules(ledger: Store) -> list[dict[str, Any]]:
    """Every stored rule, in order (disabled ones too)."""
    with _reading(ledger) as conn:
        return [_view(row) for row in _rows(conn)]


def get_rule(ledger: Store, rule_id: int) -> dict[str, Any]:
    with _reading(ledger) as conn:
        row = _row(conn, rule_id)
    return _view(row)


def _row(conn: Connection, rule_id: int) -> dict[str, Any]:
    found = conn.execute(select(t.user_rules).where(t.user_rules.c.id == rule_id)).mappings()
    row = found.first()
    if row is None:
        raise RuleNotFound(f"no rule with id {rule_id}")
    return dict(row)


def database_rules(conn: Connection) -> RuleSet:
    return RuleSet(tuple(as_rule(row) for row in _rows(conn, enabled_only=True)))


def ruleset(ledger: Store) -> RuleSet | None:
    """The rules in force: the database's enabled rules, then the config file's."""
    with _reading(ledger) as conn:
        stored = database_rules(conn)
    return _combined(stored, ledger.rules)


def _combined(stored: RuleSet, base: RuleSet | None) -> RuleSet | None:
    if not stored:
        return base
    return combine([stored, base]) if base else stored


# --- writing ------------------------------------------------------------------------
def create(ledger: Store, data: Mapping[str, Any], position: int | None = None) -> dict[str, Any]:
    """Store a new rule, last unless ``position`` (0-based) says where."""
    values = validate(data)
    with _changing(ledger) as conn:
        rule_id = _insert(conn, values, position)
        return _view(_row(conn, rule_id))


def _insert(conn: Connection, values: dict[str, Any], position: int | None) -> int:
    r = t.user_rules.c
    last = conn.execute(select(func.max(r.position))).scalar()
    end = 0 if last is None else int(last) + 1
    if position is None or position >= end:
        position = end
    else:
        position = max(position, 0)
        conn.execute(
            update(t.user_rules).where(r.position >= position).values(position=r.position + 1)
        )
    now = utcnow()
    row = {**values, "position": position, "created_at": now, "updated_at": now}
    new_id = _new_id(conn)
    if new_id is not None:
        row["id"] = new_id
    return int(conn.execute(insert(t.user_rules).values(row).returning(r.id)).scalar_one())


def update_rule(
    ledger: Store, rule_id: int, data: Mapping[str, Any], partial: bool = False
) -> dict[str, Any]:
    """Replace a rule's fields (``partial``: only those given, the rest kept)."""
    with _changing(ledger) as conn:
        current = _row(conn, rule_id)
        if partial:
            merged = {k: current[k] for k in _EDITABLE}
            if "pattern" in data:  # a new line: it brings its own text and type
                merged.pop("text")
                merged.pop("type")
                merged["form"] = "pattern"
            elif data.get("form") == "section" and current["form"] == "pattern":
                merged["section"] = "body"
            merged.update(data)
        else:
            merged = dict(data)
        values = validate(merged)
        values["updated_at"] = utcnow()
        conn.execute(update(t.user_rules).where(t.user_rules.c.id == rule_id).values(values))
        return _view(_row(conn, rule_id))


def delete_rule(ledger: Store, rule_id: int) -> None:
    with _changing(ledger) as conn:
        done = conn.execute(delete(t.user_rules).where(t.user_rules.c.id == rule_id))
        if not done.rowcount:
            raise RuleNotFound(f"no rule with id {rule_id}")


def reorder(ledger: Store, ids: Sequence[int]) -> list[dict[str, Any]]:
    """Give the rules the order of ``ids``, which must name every stored rule once."""
    with _changing(ledger) as conn:
        _reorder(conn, ids)
        return [_view(row) for row in _rows(conn)]


def _reorder(conn: Connection, ids: Sequence[int]) -> None:
    stored = set(conn.execute(select(t.user_rules.c.id)).scalars())
    wanted = list(ids)
    if len(set(wanted)) != len(wanted):
        raise RuleError("ids: each rule may appear only once")
    if set(wanted) != stored:
        missing = sorted(stored - set(wanted))
        unknown = sorted(set(wanted) - stored)
        parts = []
        if missing:
            parts.append(f"missing {', '.join(map(str, missing))}")
        if unknown:
            parts.append(f"unknown {', '.join(map(str, unknown))}")
        raise RuleError(f"ids must list every rule exactly once ({'; '.join(parts)})")
    r = t.user_rules.c
    for position, rule_id in enumerate(wanted):
        conn.execute(update(t.user_rules).where(r.id == rule_id).values(position=position))


def move(ledger: Store, rule_id: int, position: int) -> list[dict[str, Any]]:
    """Move one rule to ``position`` (0-based; past the end: last)."""
    with _changing(ledger) as conn:
        order = [row["id"] for row in _rows(conn)]
        if rule_id not in order:
            raise RuleNotFound(f"no rule with id {rule_id}")
        order.remove(rule_id)
        order.insert(max(0, min(position, len(order))), rule_id)
        _reorder(conn, order)
        return [_view(row) for row in _rows(conn)]


# --- TOML, the --rules file's format -------------------------------------------------
def import_toml(ledger: Store, text: str, replace: bool = False) -> list[dict[str, Any]]:
    """Add the rules of a ``--rules`` file (after the stored ones; ``replace``: instead).

    The whole file is checked first: a bad rule stores nothing.
    """
    rules = loads(text)
    with _changing(ledger) as conn:
        if replace:
            conn.execute(delete(t.user_rules))
        added = [_insert(conn, _values_of(rule), None) for rule in rules.rules]
        return [_view(_row(conn, rule_id)) for rule_id in added]


def _values_of(rule: Rule) -> dict[str, Any]:
    pattern = rule.section == "diagnostic"
    return {
        "form": "pattern" if pattern else "section",
        "section": rule.section,
        "text": rule.text,
        "type": rule.type,
        "bounce_type": rule.bounce_type,
        "enabled": True,
        "note": rule.id,  # the id it had in the file
    }


def export_toml(ledger: Store) -> str:
    """The enabled rules as a ``--rules`` file (disabled ones as comments)."""
    return to_toml(list_rules(ledger))


def to_toml(rules: Sequence[Mapping[str, Any]]) -> str:
    patterns = [r for r in rules if r["form"] == "pattern"]
    sections = [r for r in rules if r["form"] != "pattern"]
    lines = ["# bounceback user rules (bounceback rules export)"]
    plain = [r for r in patterns if not r["bounce_type"]]
    if plain:
        lines.append("patterns = [")
        for r in plain:
            prefix = "" if r["enabled"] else "# (disabled) "
            lines.append(f"  {prefix}{_quote(_line(r))},")
        lines.append("]")
    # A pattern with a bounce type has no line form: it becomes a diagnostic-section table.
    for r in [*sections, *(p for p in patterns if p["bounce_type"])]:
        prefix = "" if r["enabled"] else "# (disabled) "
        lines.append("")
        lines.append(f"{prefix}[[rules]]")
        lines.append(f"{prefix}id = {_quote(r['rule_id'])}")
        lines.append(f"{prefix}section = {_quote(r['section'])}")
        lines.append(f"{prefix}text = {_quote(r['text'])}")
        lines.append(f"{prefix}type = {_quote(r['type'])}")
        if r["bounce_type"]:
            lines.append(f"{prefix}bounce_type = {_quote(r['bounce_type'])}")
    return "\n".join(lines) + "\n"


def _line(rule: Mapping[str, Any]) -> str:
    return f"{rule['text']}==>{rule['type'].capitalize()}"


def _quote(text: str) -> str:
    # A JSON string is a valid TOML basic string (same escapes, \\uXXXX for controls).
    return json.dumps(text, ensure_ascii=False)


def rules_from_json(items: Any) -> RuleSet:
    """An unsaved rule set sent to /rules/test: a list of rule objects, or TOML text."""
    if isinstance(items, str):
        return loads(items)
    if not isinstance(items, list):
        raise RuleError("rules must be a list of rules or the text of a rules file")
    rules = []
    for n, item in enumerate(items, 1):
        if not isinstance(item, dict):
            raise RuleError(f"rule {n}: must be an object")
        # A rule as GET /rules shows it may be sent back edited: its bookkeeping is ignored.
        fields = {k: v for k, v in item.items() if k not in _BOOKKEEPING}
        try:
            values = validate(fields)
        except RuleError as exc:
            raise RuleError(f"rule {n}: {exc}") from exc
        if values["enabled"]:
            name = item.get("rule_id") or f"draft-{n}"
            rules.append(as_rule({**values, "id": ""}, str(name)))
    return RuleSet(tuple(rules))


# --- the ledger's live view -----------------------------------------------------------
@dataclass(slots=True)
class _Cached:
    version: str
    base: RuleSet | None
    rules: RuleSet | None


_cache: weakref.WeakKeyDictionary[Store, _Cached] = weakref.WeakKeyDictionary()
_lock = threading.Lock()


def current_rules(ledger: Store, now: str | None = None) -> RuleSet | None:
    """The rules in force, re-read only when the live counter moved. ``now``: the
    counter as the caller just read it (read here when not given)."""
    if now is None:
        now = live.current(ledger)  # first: a change landing in between is read next time
    with _lock:
        cached = _cache.get(ledger)
    if cached is not None and cached.version == now and cached.base is ledger.rules:
        return cached.rules
    with _reading(ledger) as conn:
        rules = _combined(database_rules(conn), ledger.rules)
    with _lock:
        _cache[ledger] = _Cached(now, ledger.rules, rules)
    return rules


# --- "test on a message" --------------------------------------------------------------
def try_message(data: bytes, rules: RuleSet | None) -> dict[str, Any]:
    """What ``rules`` would decide for each recipient of a message, beside the built-in
    verdict (no rules): whether a user rule matched and whether it changed anything."""
    report = parse(data)
    decided = classify_each(report, rules)
    builtin = classify_each(report, None)
    if len(builtin) != len(decided):  # a message only a user rule made a bounce
        builtin = [None] * len(decided)
    recipients = []
    for bounce, plain in zip(decided, builtin, strict=True):
        if bounce is None:  # an ignore rule matched: not a bounce
            if plain is not None:
                recipients.append(_ignored(report, plain, rules))
            continue
        matched = RuleRef.parse(bounce.rule).user_rule
        recipients.append(
            {
                **verdict(bounce),
                "recipient": bounce.recipient,
                "status": bounce.status,
                "diagnostic": bounce.record.diagnostic,
                "user_rule": matched,
                "ignored": False,
                "changed": plain is None or _outcome(bounce) != _outcome(plain),
                "builtin": verdict(plain if plain is not None else bounce),
            }
        )
    return {
        "kind": str(report.kind),
        "detector": report.detector,
        "subject": report.subject,
        "error": report.error,
        "recipients": recipients,
    }


def _ignored(report: Report, plain: Bounce, rules: RuleSet | None) -> dict[str, Any]:
    """A recipient an ignore rule dropped: no verdict, the rule that said so."""
    found = rules.first_match(report, plain.record, plain.rule) if rules else None
    name = found.id if found is not None else ""
    return {
        "reason": "",
        "hardbounce": False,
        "permanent": False,
        "bounce_type": "",
        "rule": str(RuleRef.user(name)),
        "ignored": True,
        "recipient": plain.recipient,
        "status": plain.status,
        "diagnostic": plain.record.diagnostic,
        "user_rule": name,
        "changed": True,
        "builtin": verdict(plain),
    }


def _outcome(bounce: Bounce) -> tuple[bool, str]:
    """What the policy acts on (hard or soft, the hold category); a rule that only
    agrees with the built-in verdict changed nothing."""
    return (bounce.hardbounce, bounce.bounce_type)


def verdict(bounce: Bounce) -> dict[str, Any]:
    """What was decided for a bounce (also the explanation's "now" and "at the time")."""
    return {
        "reason": bounce.reason,
        "hardbounce": bounce.hardbounce,
        "permanent": bounce.permanent,
        "bounce_type": bounce.bounce_type,
        "rule": bounce.rule,
    }
