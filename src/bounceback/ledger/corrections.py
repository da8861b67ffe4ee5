""" "Correct a bounce from its page": a person says a stored bounce is hard, soft or not a
bounce; this drafts the user rule that says so from the bounce's own evidence, shows
which stored bounces the rule would change (a replay dry run), and on confirmation saves
the rule and replays for real (the run is kept in ``undo_runs``, the rule's note says
which bounce and who).

"Not a bounce" is drafted as a rule of type ``ignore``: the records it matches yield no
bounce, and the replay undoes the stored events it now drops (kept, marked with the run).
"""

from __future__ import annotations

import enum
import re
import zlib
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from bounceback.classify.rules import MAX_TEXT, combine
from bounceback.ledger import rules_store
from bounceback.ledger import tables as t
from bounceback.ledger.policy import SENDER
from bounceback.ledger.replay import RunReport, replay
from bounceback.ledger.store import Store
from bounceback.parse import parse

DRAFT_RULE = "user:draft-1"  # the draft's id in a dry run (rules_from_json names it so)


class Verdict(enum.StrEnum):
    HARD = "hard"
    SOFT = "soft"
    NOT_A_BOUNCE = "not_bounce"

    @property
    def words(self) -> str:
        return {"hard": "a hard bounce", "soft": "a soft bounce", "not_bounce": "not a bounce"}[
            self.value
        ]


# What differs from one bounce of a kind to the next: addresses, bracketed ids, host
# names, numbers with dots (IPs, status codes), long tokens with digits (queue ids).
_VARIABLE = re.compile(
    r"<[^>]*>"
    r"|\S+@\S+"
    r"|\[[^\]]*\]"
    r"|\([^)]*\d[^)]*\)"
    r"|\b\d+(?:\.\d+)+\b"
    r"|\b(?=[\w.-]*\d)[\w.-]{6,}\b"
    r"|\b[a-z0-9-]+(?:\.[a-z0-9-]+){2,}\b",
    re.I,
)
_LEADING_CODE = re.compile(r"^\s*(?:[a-z]+;\s*)?(?:\d{3}[\s-]+)?(?:\d\.\d{1,3}\.\d{1,3}\s*)?", re.I)
_EDGE = " \t:;,.-#'\"()"


def distinctive_phrase(text: str, limit: int = MAX_TEXT) -> str:
    """The first run of the text that names the failure rather than this one message:
    the reply code, the addresses, hosts and ids taken out; at least three words if the
    text has such a run, else its longest; its first sentence when that has three
    words; at most ``limit`` characters, cut at a word.
    Case is kept (rules compare case-sensitively)."""
    squeezed = " ".join(text.split())
    body = _LEADING_CODE.sub("", squeezed, count=1)
    runs = [r.strip(_EDGE) for r in _VARIABLE.split(body)]
    runs = [r for r in runs if r]
    if not runs:
        return ""
    wordy = [r for r in runs if len(r.split()) >= 3]
    best = wordy[0] if wordy else max(runs, key=len)
    sentence = best.split(". ", 1)[0]
    if len(sentence.split()) >= 3:  # the first sentence says it; the rest is advice
        best = sentence.rstrip(_EDGE)
    if len(best) > limit:
        cut = best[: limit + 1].rsplit(" ", 1)[0] if " " in best[:limit] else best[:limit]
        best = cut[:limit].rstrip(_EDGE)
    return best


@dataclass(slots=True)
class Draft:
    """A rule as the rules store takes it, and what it was drawn from."""

    values: dict[str, Any]
    evidence: str  # where the text was found, in words
    problems: list[str] = field(default_factory=list)


def _event(ledger: Store, event_id: int) -> dict[str, Any] | None:
    e, m = t.events.c, t.messages.c
    with ledger.read() as conn:
        row = (
            conn.execute(
                select(e.id, e.diagnostic, e.bounce_type, e.kind, e.email, m.raw)
                .select_from(t.events.outerjoin(t.messages, m.id == e.message_id))
                .where(e.id == event_id)
            )
            .mappings()
            .first()
        )
    return dict(row) if row is not None else None


def suggested_bounce_type(verdict: Verdict, stored: str) -> str:
    """The hold category the rule sets ("" keeps what the evidence says)."""
    if verdict is Verdict.NOT_A_BOUNCE:
        return ""  # an ignore rule drops the record: no category applies
    if verdict is Verdict.HARD and stored in ("", SENDER):
        return "Invalid"  # a hard verdict that never counted would change nothing
    return ""


_RULE_TYPES = {Verdict.HARD: "hard", Verdict.SOFT: "soft", Verdict.NOT_A_BOUNCE: "ignore"}


def draft(ledger: Store, event_id: int, verdict: Verdict, user: str) -> Draft | None:
    """The rule that makes this bounce ``verdict``, from its diagnostic (section body,
    which holds the diagnostic), else its subject, else its From; None: no such event."""
    event = _event(ledger, event_id)
    if event is None:
        return None
    report = parse(zlib.decompress(event["raw"])) if event["raw"] is not None else None
    section, text, evidence = "body", distinctive_phrase(event["diagnostic"] or ""), "diagnostic"
    if not text and report is not None:
        section, text, evidence = "subject", distinctive_phrase(report.subject), "subject"
        if not text:
            section, text, evidence = "from", distinctive_phrase(report.from_), "from"
    values: dict[str, Any] = {
        "form": "section",
        "section": section,
        "text": text,
        "type": _RULE_TYPES[verdict],
        "bounce_type": suggested_bounce_type(verdict, event["bounce_type"]),
        "enabled": True,
        "note": f"correction of bounce {event_id}: {verdict.words} (marked by {user})",
    }
    found = Draft(values, evidence)
    if not text:
        found.problems.append("The bounce has no diagnostic, subject or From text to draw on.")
    return found


@dataclass(slots=True)
class Preview:
    # The draft decides this very bounce (else it corrects nothing); None: its message is
    # not kept (an event from a log or webhook), so no one can tell.
    matches_this: bool | None
    by_rule: list[dict[str, Any]]  # stored bounces the draft changes
    others: int  # changed by today's other rules anyway (a replay applies them too)
    report: RunReport


def preview(ledger: Store, event_id: int, values: dict[str, Any]) -> Preview:
    """A replay dry run with the draft before today's rules. Raises RuleError for a bad
    draft (the store's own check)."""
    draft_rules = rules_store.rules_from_json([{k: v for k, v in values.items()}])
    saved = rules_store.current_rules(ledger)
    rules = combine([draft_rules, saved]) if saved else draft_rules
    report = replay(ledger, rules, dry_run=True)
    by_rule = [c for c in report.changes if c["rule"] == DRAFT_RULE]
    matches: bool | None = any(c["event"] == event_id for c in by_rule)
    if not matches:
        matches = _decides(ledger, event_id, rules)
    return Preview(matches, by_rule, len(report.changes) - len(by_rule), report)


def _decides(ledger: Store, event_id: int, rules: Any) -> bool | None:
    """Whether the draft matches this bounce's message (when it changes nothing stored:
    the bounce already had that verdict); None when the message is not kept."""
    event = _event(ledger, event_id)
    if event is None or event["raw"] is None:
        return None
    tried = rules_store.try_message(zlib.decompress(event["raw"]), rules)
    return any(r["rule"] == DRAFT_RULE for r in tried["recipients"])


def apply(ledger: Store, values: dict[str, Any]) -> tuple[dict[str, Any], RunReport]:
    """Save the rule (first: a correction is the user's latest word), then replay the
    stored bounces for real under the rules in force."""
    saved = rules_store.create(ledger, values, position=0)
    report = replay(ledger, rules_store.current_rules(ledger), dry_run=False)
    return saved, report
