"""A readable account of one message: what was found where, and why it was judged so."""

from __future__ import annotations

from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from bounceback.classify import RuleSet, decide_reason
from bounceback.classify.engine import RULE_DETECTOR
from bounceback.classify.reasons import reason
from bounceback.config import PolicyConfig
from bounceback.ledger.policy import hold_after, never_counts
from bounceback.model import Bounce, Kind, Report
from bounceback.parse.mail import Mail
from bounceback.rule_ref import RuleRef

_STANDARD_DETECTORS = {
    "rfc3464": "a standard delivery status notification (RFC 3464)",
    "arf": "a feedback report (RFC 5965, ARF)",
    "rfc3834": "an auto-reply (RFC 3834 headers or wording)",
    "fallback": "no known format: the text was searched for addresses and SMTP replies",
    RULE_DETECTOR: "no detector knew it: your rule recognised it as a bounce",
}


def detector_words(detector: str) -> str:
    if not detector:
        return "no detector recognised it"
    return _STANDARD_DETECTORS.get(detector, f"the {detector} format")


def structure(data: bytes) -> list[tuple[str, str]]:
    """Where things are in the message: its MIME parts and the parts detectors read."""
    try:
        mail = Mail.from_bytes(data)
    except Exception:  # explain is for people: a message that cannot be walked says so above
        return []
    rows = [("MIME parts", ", ".join(mail.content_types))]
    if mail.status_groups:
        rows.append(("delivery-status", f"{len(mail.status_groups)} blocks of DSN fields"))
    if mail.feedback_fields:
        rows.append(("feedback report", f"{len(mail.feedback_fields)} fields"))
    if mail.original is not None:
        rows.append(("returned message", f"{len(mail.original)} header fields"))
    return rows


def rule_words(rule: str) -> str:
    ref = RuleRef.parse(rule)
    kind, detail = ref.kind, ref.detail
    return {
        "kind": f"the message is a {detail}",
        "action": f"the DSN's Action field says {detail}",
        "format": f"the {detail} format states the reason itself",
        "status": f"the enhanced status code {detail} means it",
        "status-subject": f"the status code's subject class {detail}",
        "phrase": f"the diagnostic contains a built-in {detail} phrase",
        "reply": f"the SMTP reply code {detail}",
        "provider": f"{detail}'s own reply wording means it (data/providers.toml)",
        "context": f"the SMTP stage or status code turned {detail.replace('>', ' into ')}",
        "queue": "the queue gave up or is still trying; the last reply only said 'not now'",
        "user": f"your rule {detail!r} matched",
        "default": "no evidence: nothing matched",
    }.get(kind, rule)


def render(
    label: str,
    report: Report,
    bounces: list[Bounce],
    rules: RuleSet | None,
    data: bytes = b"",
) -> Group:
    head = Table.grid(padding=(0, 2))
    head.add_row("message", label)
    # A message only a user rule recognised: its bounces say what it became.
    kind, detector = (
        (bounces[0].kind, bounces[0].detector) if bounces else (report.kind, report.detector)
    )
    head.add_row("kind", f"{kind} (detector: {detector or 'none'})")
    head.add_row("read as", detector_words(detector))
    if report.error:
        head.add_row("error", Text(report.error, style="red"))
    if report.subject:
        head.add_row("subject", report.subject)
    if report.from_:
        head.add_row("from", report.from_)
    if data and report.kind != Kind.UNPARSEABLE:
        for name, value in structure(data):
            head.add_row(name, value)
    o = report.original
    if o.message_id or o.subject:
        head.add_row("original", f"{o.message_id}  {o.subject}")
    if o.bounceback_id:
        head.add_row("X-Bounceback-ID", o.bounceback_id)
    panels: list[Panel | Table] = [head]
    if not bounces and report.kind in (Kind.NOT_BOUNCE, Kind.UNPARSEABLE):
        panels.append(Panel("No failed recipients: nothing to act on.", title="verdict"))
    for b in bounces:
        r = b.record
        grid = Table.grid(padding=(0, 2))
        for name, value in (
            ("recipient", r.recipient),
            ("original recipient", r.original_recipient),
            ("action", r.action),
            ("status", f"{b.status}" + ("" if r.status == b.status else " (derived from reason)")),
            ("reply code", r.reply_code),
            ("smtp command", r.smtp_command),
            ("remote MTA", r.remote_mta),
            ("reporting MTA", r.reporting_mta),
            ("diagnostic", r.diagnostic),
        ):
            if value:
                grid.add_row(name, value)
        decision = decide_reason(report, r)
        threshold = hold_after(str(b.kind), b.bounce_type, PolicyConfig())
        why = [
            f"reason [bold]{b.reason}[/bold]: {reason(b.reason).meaning}",
            f"decided by rule [bold]{b.rule}[/bold]: {rule_words(b.rule)}",
        ]
        if decision.evidence:
            why.append(f"evidence: {decision.evidence!r}")
        if RuleRef.parse(b.rule).is_user:
            why.append(f"built-in verdict before your rule: {decision.reason} ({decision.rule})")
        why.append(
            f"{'HARD' if b.hardbounce else 'soft'} bounce, "
            f"{'permanent' if b.permanent else 'temporary'} failure"
        )
        never = never_counts(str(b.kind), b.bounce_type)
        why.append(
            f"bounce type {b.bounce_type or '-'}: "
            + (
                f"hold after {threshold} (by default)"
                if threshold
                else "never held" + (f": {never}" if never else "")
            )
        )
        grid.add_row("why", "\n".join(why))
        panels.append(Panel(grid, title=r.recipient or "(no recipient)"))
    return Group(*panels)
