"""When a report is about time: the queue gave up, or is still trying.

A final report sent because the retries ran out, or a delay notice, is ``expired``
when the reply it quotes only said "not now" (a refused or timed-out connection, a 421
at the greeting, greylisting, RFC 5321's stock 4XX texts, a bare code, or nothing):
that reply is the explanation, not the reason. A last reply with a reason of its own
(mailbox full, PTR missing, user unknown) keeps it (docs/classify.md, "Order of
evidence"). The wording lives in ``data/reasons/expired.toml`` (``[queue]``,
``[last_reply]``).
"""

from __future__ import annotations

from bounceback.classify import builtin
from bounceback.classify.decision import Decision
from bounceback.model import DeliveryRecord, Kind, Report

# Reasons that, decided by a code alone (no wording), say only that the remote host
# would not take the mail now.
_NOT_NOW_BY_CODE = frozenset(
    {
        "systemerror",
        "networkerror",
        "blocked",
        "securityerror",
        "syntaxerror",
        "onhold",
        "undefined",
    }
)


def _says_only_not_now(decision: Decision) -> bool:
    """The decision rests on a reply that only said "not now", or on nothing at all."""
    if decision.rule == "default":
        return True
    if decision.rule.startswith(("status:", "status-subject:", "reply:")):
        return decision.reason in _NOT_NOW_BY_CODE
    if decision.rule.startswith("phrase:"):
        return decision.evidence in builtin.queue_wording().not_now
    return False


def queue_gave_up(report: Report, record: DeliveryRecord) -> bool:
    """A delay notice, or a final report sent because the retries ran out.

    A failed record with a temporary status or reply (4.X.X, 4XX) was retried until
    the queue lifetime ended; otherwise the report has to say so (expired.toml ``[queue]``),
    in the diagnostic, the subject or its text.
    """
    if record.action == "delayed" or report.kind == Kind.DELAY:
        return True
    if record.action == "failed" and "4" in (record.status[:1], record.reply_code[:1]):
        return True
    said = builtin.queue_wording().said
    return any(
        said.search(builtin.squeezed(text))
        for text in (record.diagnostic, report.subject, report.body)
    )


def _busy_mailbox(record: DeliveryRecord, decision: Decision, status: str) -> bool:
    """RFC 5321's "mailbox unavailable" with a temporary code: busy, not missing."""
    temporary = status[:1] == "4" or record.reply_code[:1] == "4"
    return temporary and decision.reason == "userunknown" and decision.tier == "late"


def _failed_on_not_now(record: DeliveryRecord, decision: Decision, status: str) -> bool:
    """A failure whose only words are a "not now" (a refused or timed-out connection)
    and no permanent code: nothing permanent happened, so the retries ran out."""
    return (
        record.action == "failed"
        and decision.rule.startswith("phrase:")
        and status[:1] != "5"
        and record.reply_code[:1] != "5"
    )


def is_queue_expiry(
    report: Report, record: DeliveryRecord, decision: Decision, status: str
) -> bool:
    """The decision is only the last "not now" of a queue that gave up or is retrying.

    ``status`` is the code the remote server quoted (``engine.found_status``).
    """
    if decision.reason == "expired":
        return False
    if not (_says_only_not_now(decision) or _busy_mailbox(record, decision, status)):
        return False
    return queue_gave_up(report, record) or _failed_on_not_now(record, decision, status)
