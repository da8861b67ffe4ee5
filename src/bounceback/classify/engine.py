"""classify: Report → Bounces. User rules first, then the built-in pack.

Every decision names the rule that made it (``Bounce.rule``), so that
``bounceback explain`` and the dashboard can say why.
"""

from __future__ import annotations

from dataclasses import dataclass

from bounceback.classify import builtin
from bounceback.classify.reasons import is_hard, reason
from bounceback.classify.rules import Rule, RuleSet
from bounceback.model import Bounce, DeliveryRecord, Kind, Report

_KIND_REASONS = {
    Kind.COMPLAINT: "feedback",
    Kind.AUTOREPLY: "vacation",
    Kind.DELIVERED: "delivered",
}


@dataclass(frozen=True, slots=True)
class Decision:
    """Which reason applies and which rule said so."""

    reason: str
    rule: str
    evidence: str = ""


def decide_reason(report: Report, record: DeliveryRecord) -> Decision:
    """The reason the evidence supports, with the built-in rule that found it."""
    if report.kind in _KIND_REASONS:
        return Decision(_KIND_REASONS[report.kind], f"kind:{report.kind}")
    if record.action in ("delivered", "relayed", "expanded"):
        return Decision("delivered", f"action:{record.action}")
    if record.reason_hint:
        return Decision(record.reason_hint, f"format:{report.detector}")

    table = builtin.status_table()
    status = record.status
    coded = table.codes.get(status, "") if status else ""
    if coded and status not in table.ambiguous:
        return Decision(coded, f"status:{status}", status)

    text = " ".join(record.diagnostic.lower().split())
    if text:
        for phrase_rule in builtin.phrase_rules():
            found = phrase_rule.search(text)
            if found:
                return Decision(phrase_rule.reason, f"phrase:{phrase_rule.reason}", found)

    if coded:
        return Decision(coded, f"status:{status}", status)
    if status and status[2:3] and (fallback := table.subjects.get(status.split(".")[1], "")):
        return Decision(fallback, f"status-subject:{status[:3]}", status)
    if record.reply_code and (by_reply := table.reply_codes.get(record.reply_code, "")):
        return Decision(by_reply, f"reply:{record.reply_code}", record.reply_code)
    if record.action == "delayed" or report.kind == Kind.DELAY:
        return Decision("expired", "action:delayed")
    return Decision("undefined", "default")


def _status_for(decided: str, record: DeliveryRecord, permanent: bool) -> str:
    """The status found, or the one the reason stands for when none (or X.0.0) was."""
    if record.status and not record.status.endswith(".0.0"):
        return record.status
    derived = reason(decided).status
    if not derived:
        return record.status
    klass = record.status[:1] or ("5" if permanent else "4")
    return klass + derived[1:]


def _is_permanent(record: DeliveryRecord, report: Report) -> bool:
    if record.status[:1] in ("4", "2"):
        return False
    if record.status[:1] == "5" or record.reply_code[:1] == "5":
        return True
    if record.reply_code[:1] == "4":
        return False
    return record.action == "failed" and report.kind == Kind.BOUNCE


def classify_record(report: Report, record: DeliveryRecord, rules: RuleSet | None) -> Bounce:
    decision = decide_reason(report, record)
    meaning = reason(decision.reason)
    permanent = _is_permanent(record, report)
    hard = permanent and is_hard(decision.reason, record.status)
    if decision.reason == "userunknown" or decision.reason in ("hostunknown", "hasmoved"):
        hard = is_hard(decision.reason, record.status)
    bounce_type = meaning.bounce_type
    rule_id = decision.rule
    matched: Rule | None = rules.first_match(report, record) if rules else None
    if matched is not None:
        hard = matched.hard
        permanent = matched.hard or (permanent and matched.type != "soft")
        if matched.hard:
            permanent = True
        if matched.bounce_type:
            bounce_type = matched.bounce_type
        rule_id = f"user:{matched.id}"
    if report.kind in (Kind.AUTOREPLY, Kind.COMPLAINT, Kind.DELIVERED):
        hard = False
        permanent = False if report.kind != Kind.COMPLAINT else permanent
    status = _status_for(decision.reason, record, permanent)
    if report.kind in (Kind.AUTOREPLY, Kind.COMPLAINT):
        status = record.status
    return Bounce(
        record=record,
        kind=report.kind,
        detector=report.detector,
        reason=decision.reason,
        hardbounce=hard,
        permanent=permanent,
        bounce_type=bounce_type,
        rule=rule_id,
        status=status,
        original=report.original,
    )


def classify(report: Report, rules: RuleSet | None = None) -> list[Bounce]:
    """One Bounce per record of the report; none for unparseable or non-bounces."""
    if report.kind in (Kind.UNPARSEABLE, Kind.NOT_BOUNCE):
        return []
    return [classify_record(report, record, rules) for record in report.records]


def explain(report: Report, record: DeliveryRecord, rules: RuleSet | None = None) -> Decision:
    """The built-in decision for one record, for people: reason, rule, evidence."""
    return decide_reason(report, record)
