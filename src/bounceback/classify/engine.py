"""classify: Report → Bounces. User rules first, then the built-in pack.

Which evidence wins, for the built-in pack (``decide_reason``):

1. what the message is (complaint, auto-reply, delivery) and a reason the format
   itself states (a vendor's own error class);
2. a status code specific enough to decide alone (``decisive`` in status.toml:
   5.1.8 sender rejected, 5.7.26 DMARC, 5.3.4 too big, ...);
3. a provider's own wording, for its own domains or hosts (providers.toml);
4. the diagnostic's wording, reason by reason in priority order: servers reuse
   generic codes (5.7.1, 5.1.1, 5.0.0) for everything, their text says more. Words
   that the recipient does not exist decide ``userunknown`` whatever the stage or
   code; a filter's, policy's or blocklist's words are tried before them;
5. the status code, then its subject class (X.1.X addressing, X.2.X mailbox, ...);
6. the SMTP reply code, when no specific status code was given;
7. a delayed DSN with nothing else to go on: ``expired``.

A report sent because the queue gave up (or a delay notice) whose last reply only
said "not now" is ``expired``: that reply is the explanation, not the reason. The
reason is then refined by its context (``refine`` in status.toml): before any
recipient was named (CONNECT, MAIL FROM) an "unknown" is the host or the sender, and
an unknown host with a temporary code is a DNS failure (docs/classify.md, "Order of
evidence").

Every decision names the rule that made it (``Bounce.rule``), so that
``bounceback explain`` and the dashboard can say why.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

from bounceback.classify import builtin
from bounceback.classify.decision import Decision
from bounceback.classify.expiry import is_queue_expiry
from bounceback.classify.reasons import is_hard, reason
from bounceback.classify.rules import Rule, RuleSet
from bounceback.model import Bounce, DeliveryRecord, Kind, Report
from bounceback.parse.text import STATUS_RE, find_address

_KIND_REASONS = {
    Kind.COMPLAINT: "feedback",
    Kind.AUTOREPLY: "vacation",
    Kind.DELIVERED: "delivered",
}
# Rules whose reason is the message's own statement: context does not change it.
_STATED = ("kind:", "action:", "format:")


def _primary(report: Report, record: DeliveryRecord) -> Decision:
    if report.kind in _KIND_REASONS:
        return Decision(_KIND_REASONS[report.kind], f"kind:{report.kind}")
    if record.action in ("delivered", "relayed", "expanded"):
        return Decision("delivered", f"action:{record.action}")
    if record.reason_hint:
        return Decision(record.reason_hint, f"format:{report.detector}")

    table = builtin.status_table()
    status = record.status
    if status in table.decisive and (coded := table.codes.get(status, "")):
        return Decision(coded, f"status:{status}", status)

    text = builtin.squeezed(record.diagnostic)
    if text and (said := _provider_says(record, text)):
        return said
    # Only the rules whose key words occur are searched (builtin.PhraseIndex).
    if text and (matched := builtin.phrase_index().first(text)):
        phrase_rule, found = matched
        return Decision(phrase_rule.reason, f"phrase:{phrase_rule.reason}", found, phrase_rule.tier)

    delayed = record.action == "delayed" or report.kind == Kind.DELAY
    if delayed and not text and status.endswith(".0"):
        # A delay notice whose only code is an "other or undefined" one: still queued.
        return Decision("expired", "action:delayed", status)
    if status and (coded := table.codes.get(status, "")):
        return Decision(coded, f"status:{status}", status)
    generic = not status or status.endswith(".0.0")
    if not generic and (fallback := table.subjects.get(status.split(".")[1], "")):
        return Decision(fallback, f"status-subject:{status[:3]}", status)
    if generic and record.reply_code and (by_reply := table.reply_codes.get(record.reply_code)):
        return Decision(by_reply, f"reply:{record.reply_code}", record.reply_code)
    if delayed:
        return Decision("expired", "action:delayed")
    if status or text:
        # A failure was reported but nothing says why.
        return Decision("onhold", "default")
    return Decision("undefined", "default")


def _provider_says(record: DeliveryRecord, text: str) -> Decision | None:
    """A provider's own wording, when the recipient's domain or the remote MTA is theirs."""
    domain = record.recipient.rpartition("@")[2].lower()
    host = record.remote_mta.lower()
    command = record.smtp_command.upper()
    for provider in builtin.providers_of(domain, host):
        if provider.serves(command) and (found := provider.regex.search(text)):
            # Provider wording is as specific as an address phrase: context leaves it.
            return Decision(provider.reason, f"provider:{provider.name}", found.group(0), "address")
    return None


@cache
def _refinements_by_reason() -> dict[str, tuple[builtin.Refinement, ...]]:
    """The refinements that can apply to each reason, in the table's order."""
    found: dict[str, list[builtin.Refinement]] = {}
    for refinement in builtin.status_table().refinements:
        for name in refinement.reasons:
            found.setdefault(name, []).append(refinement)
    return {name: tuple(found[name]) for name in found}


def _refinements_of(reason: str) -> tuple[builtin.Refinement, ...]:
    # Only these can apply (Refinement.applies first tests the reason): the
    # first that applies is the one the whole table's order would find.
    return _refinements_by_reason().get(reason, ())


def decide_reason(report: Report, record: DeliveryRecord, found: str | None = None) -> Decision:
    """The reason the evidence supports, with the built-in rule that found it.

    ``found`` is the record's status as ``found_status`` reads it (computed when not
    given): the refinements look at the code the remote server quoted.
    """
    decision = _primary(report, record)
    if decision.rule.startswith(_STATED):
        return decision
    status = found_status(record) if found is None else found
    if is_queue_expiry(report, record, decision, status):
        # The queue gave up (or is still trying): the last "not now" is the explanation.
        return Decision("expired", "queue:expired", decision.evidence or decision.reason)
    command = record.smtp_command.upper()
    for refinement in _refinements_of(decision.reason):
        if refinement.applies(decision.reason, command, status, decision.tier):
            to = _status_reason(status) if refinement.to == "status-code" else refinement.to
            if not to:
                continue
            return Decision(
                to,
                f"context:{decision.reason}>{to}",
                f"{decision.evidence} ({refinement.why})" if refinement.why else decision.evidence,
            )
    return decision


def _status_reason(status: str) -> str:
    """The reason a status code stands for: its own entry, else its subject's."""
    table = builtin.status_table()
    if coded := table.codes.get(status, ""):
        return coded
    parts = status.split(".")
    return table.subjects.get(parts[1], "") if len(parts) == 3 else ""


def found_status(record: DeliveryRecord) -> str:
    """The enhanced status code the message gives for a record ('' when none).

    The remote server's own code, quoted in the diagnostic, beats the summary the
    reporting MTA put in the Status field (Sendmail says 4.4.7 for any expired
    queue entry, some gateways 5.1.1 for everything); when a reply quotes another,
    the innermost (last) is the original. A generic X.0.0, or a code of the other
    class (temporary vs permanent), in the text never replaces the Status field's code.
    """
    found = record.status
    quoted = STATUS_RE.findall(record.diagnostic)  # (class, subject, detail) each
    if quoted:
        klass, subject, detail = quoted[-1]
        last = f"{int(klass)}.{int(subject)}.{int(detail)}"
        if not found or (not last.endswith(".0.0") and last[0] == found[0]):
            found = last
    return found


def status_of(
    decided: str, record: DeliveryRecord, permanent: bool, found: str | None = None
) -> str:
    """The status to report: the one found, else the one the reason stands for."""
    if found is None:
        found = found_status(record)
    if found:
        return found
    derived = reason(decided).status
    if not derived:
        return ""
    return ("5" if permanent else "4") + derived[1:]


def _is_permanent(record: DeliveryRecord, report: Report, status: str) -> bool:
    """Final (5xx, or failed with no code) rather than temporary (4xx, delayed)."""
    if record.action == "delayed" or status[:1] in ("4", "2"):
        return False
    if status[:1] == "5" or record.reply_code[:1] == "5":
        return True
    if record.reply_code[:1] == "4":
        return False
    return record.action == "failed" and report.kind == Kind.BOUNCE


_LOOP_RE = re.compile(
    r"mail(?:ing)? loop|routing loop|loops? back to myself|loop detected|too many hops|"
    r"hop count exceeded|forwarded more than the maximum",
    re.I,
)

# Feedback reports that are not a recipient's complaint: a DMARC/SPF failure report
# (RFC 6591) is about the sender's authentication, and "not-spam" takes a complaint
# back. Neither may count against, or suppress, the recipient.
_FEEDBACK_TYPES = {"auth-failure": "Sender", "not-spam": ""}


# The detector a bounce recognised only by a user rule reports.
RULE_DETECTOR = "user-rule"

# Types under which the policy never acts on an address (reasons.BOUNCE_TYPES).
_CANNOT_HOLD = frozenset({"", "Sender"})


def classify_record(report: Report, record: DeliveryRecord, rules: RuleSet | None) -> Bounce | None:
    """The record's Bounce; None when a user rule of type ``ignore`` says it is none."""
    found = found_status(record)
    decision = decide_reason(report, record, found)
    permanent = _is_permanent(record, report, found)
    status = status_of(decision.reason, record, permanent, found)
    if report.kind in (Kind.AUTOREPLY, Kind.COMPLAINT):
        status = record.status
    hard = is_hard(decision.reason, status)
    bounce_type = reason(decision.reason).bounce_type
    if bounce_type in ("Host", "Relay") and _LOOP_RE.search(record.diagnostic):
        # Sisimai's vocabulary has no loop reason; the hold category does.
        bounce_type = "Loop"
    rule_id = decision.rule
    # A user rule: by the message's text, or (section "rule") by the deciding rule's id.
    matched: Rule | None = rules.first_match(report, record, decision.rule) if rules else None
    if matched is not None and matched.ignores:
        return None
    if matched is not None:
        # The user's word on hard or soft; the reason stays what the evidence says.
        hard = permanent = matched.hard
        if matched.bounce_type:
            bounce_type = matched.bounce_type
        elif hard and bounce_type in _CANNOT_HOLD:
            # "Hard" is the user's decision that the address is dead: it must act as
            # every hard bounce does, not stay a type the policy never counts.
            bounce_type = "Invalid"
        rule_id = f"user:{matched.id}"
    if report.kind in (Kind.AUTOREPLY, Kind.DELIVERED):
        hard = permanent = False
    elif report.kind == Kind.COMPLAINT and matched is None:
        hard = False
        bounce_type = _FEEDBACK_TYPES.get(record.feedback_type, bounce_type)
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
    """One Bounce per record of the report; none for unparseable or non-bounces, nor
    for a record an ignore rule matched."""
    return [b for b in classify_each(report, rules) if b is not None]


def classify_each(report: Report, rules: RuleSet | None = None) -> list[Bounce | None]:
    """``classify``, one entry per record in order: None where an ignore rule matched."""
    if report.kind == Kind.NOT_BOUNCE and rules:
        return list(_recognised_by_rule(report, rules))
    if report.kind in (Kind.UNPARSEABLE, Kind.NOT_BOUNCE):
        return []
    return [classify_record(report, record, rules) for record in report.records]


def _recognised_by_rule(report: Report, rules: RuleSet) -> list[Bounce]:
    """A message no detector knew is a bounce when a user rule says so (OpenCRM's rules).

    The recipient is the returned message's To; failing that the bounce is left to be
    matched by where it was delivered (a VERP return path names the send).
    """
    record = DeliveryRecord(recipient=find_address(report.original.to), action="failed")
    matched = rules.first_match(report, record)
    if matched is None or matched.ignores:
        return []
    record.diagnostic = matched.text  # the evidence, for the reason and for people
    as_bounce = replace(report, kind=Kind.BOUNCE, detector=RULE_DETECTOR, records=[record])
    found = classify_record(as_bounce, record, rules)
    return [found] if found is not None else []
