"""A stored bounce's source: the kept raw message, and why it was judged so (as data).

``explanation`` is ``bounceback explain`` for the API and the dashboard: it reads
the message the event came from again, says what was found where and which rule
decided, and compares the verdict stored then with the one the rules give now.
"""

from __future__ import annotations

import zlib
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import DBAPIError

from bounceback.classify import RuleSet, classify_each, decide_reason
from bounceback.classify.reasons import reason
from bounceback.config import PolicyConfig
from bounceback.explain import detector_words, rule_words, structure
from bounceback.ledger import tables as t
from bounceback.ledger.db import unavailable
from bounceback.ledger.models import iso
from bounceback.ledger.policy import hold_after, never_counts
from bounceback.ledger.rules_store import verdict
from bounceback.ledger.store import Store
from bounceback.model import Bounce, Kind, Report
from bounceback.parse import parse
from bounceback.rule_ref import RuleRef


class EventNotFound(LookupError):
    """No bounce event has this id."""


def _event(ledger: Store, event_id: int) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The event row and its message row (None when the event has no message)."""
    e, m = t.events, t.messages
    try:
        with ledger.engine.connect() as conn:
            event = conn.execute(select(e).where(e.c.id == event_id)).mappings().first()
            message = None
            if event is not None and event["message_id"] is not None:
                found = conn.execute(select(m).where(m.c.id == event["message_id"]))
                message = found.mappings().first()
    except DBAPIError as exc:
        raise unavailable(exc) from exc
    if event is None:
        raise EventNotFound(f"no bounce with id {event_id}")
    return dict(event), None if message is None else dict(message)


def raw_message(ledger: Store, event_id: int) -> bytes | None:
    """The message bytes the event came from; None when none were kept (logs, webhooks)."""
    _, message = _event(ledger, event_id)
    if message is None or message["raw"] is None:
        return None
    return zlib.decompress(message["raw"])


def explanation(ledger: Store, event_id: int, rules: RuleSet | None) -> dict[str, Any]:
    """What was found where, which rule decided and why; ``rules``: the rules in force now."""
    event, message = _event(ledger, event_id)
    stored = {
        "reason": event["reason"],
        "hardbounce": event["hardbounce"],
        "permanent": event["permanent"],
        "bounce_type": event["bounce_type"],
        "rule": event["rule"],
    }
    out: dict[str, Any] = {
        "id": event["id"],
        "email": event["email"],
        "occurred_at": iso(event["occurred_at"]),
        "source": event["source"],
        "stored": {
            **stored,
            "rule_words": rule_words(event["rule"]),
            "reason_meaning": reason(event["reason"]).meaning,
            "status": event["status"],
            "effects": event["effects"] or {},
            "undone": event["undone_at"] is not None,
        },
        "message": None,
        "report": None,
        "recipients": [],
        "changed_since": None,
    }
    if message is None:
        return out
    out["message"] = {
        "id": message["id"],
        "ref": message["ref"],
        "source": message["source"],
        "received_at": iso(message["received_at"]),
        "size": message["size"],
        "raw_kept": message["raw"] is not None,
    }
    if message["raw"] is None:
        return out
    data = zlib.decompress(message["raw"])
    report = parse(data)
    each = classify_each(report, rules)  # by record: the event's position is its record's
    o = report.original
    out["report"] = {
        "kind": str(report.kind),
        "detector": report.detector,
        "read_as": detector_words(report.detector),
        "error": report.error,
        "subject": report.subject,
        "from": report.from_,
        "structure": (
            []
            if report.kind == Kind.UNPARSEABLE
            else [{"part": name, "found": value} for name, value in structure(data)]
        ),
        "original": {
            "message_id": o.message_id,
            "subject": o.subject,
            "from": o.from_,
            "to": o.to,
            "bounceback_id": o.bounceback_id,
        },
    }
    policy = ledger.config.policy
    out["recipients"] = [
        _recipient(report, b, n == event["position"], policy)
        for n, b in enumerate(each)
        if b is not None  # an ignore rule: not a bounce now
    ]
    if event["position"] < len(each):
        now = each[event["position"]]
        out["changed_since"] = now is None or verdict(now) != stored
    return out


def _recipient(
    report: Report, bounce: Bounce, this_event: bool, policy: PolicyConfig
) -> dict[str, Any]:
    r = bounce.record
    decision = decide_reason(report, r)
    threshold = hold_after(str(bounce.kind), bounce.bounce_type, policy)
    found = {
        "recipient": r.recipient,
        "original_recipient": r.original_recipient,
        "action": r.action,
        "status": bounce.status,
        "status_derived": r.status != bounce.status,
        "reply_code": r.reply_code,
        "smtp_command": r.smtp_command,
        "remote_mta": r.remote_mta,
        "reporting_mta": r.reporting_mta,
        "diagnostic": r.diagnostic,
    }
    return {
        "this_event": this_event,
        "found": found,
        **verdict(bounce),
        "reason_meaning": reason(bounce.reason).meaning,
        "rule_words": rule_words(bounce.rule),
        "evidence": decision.evidence,
        # A user rule decided: what the built-in rules alone said.
        "builtin": (
            {"reason": decision.reason, "rule": decision.rule}
            if RuleRef.parse(bounce.rule).is_user
            else None
        ),
        # Bounces of this type that put the address on hold (None: this one never does).
        "hold_after": threshold,
        "counts_toward_hold": threshold is not None,
        "never_counts": never_counts(str(bounce.kind), bounce.bounce_type),
    }
