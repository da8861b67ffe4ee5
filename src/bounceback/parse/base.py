"""What every detector shares: the report builder and the finishing pass."""

from __future__ import annotations

from collections.abc import Iterable
from email.message import Message

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.parse.mail import Mail, decode_header_value
from bounceback.parse.text import (
    find_address,
    find_reply_code,
    find_smtp_command,
    find_status,
    squeeze,
)

_FAILED = frozenset({"failed", "failure", "fail", "bounced", "bounce", "error", "rejected"})
_DELAYED = frozenset({"delayed", "deferred", "delay", "transient"})
_DELIVERED = frozenset({"delivered", "relayed", "expanded", "deliverable"})


def original_of(mail: Mail) -> OriginalMessage:
    """The returned message's identity, from the attached copy when there is one."""
    msg: Message | None = mail.original
    if msg is None:
        return OriginalMessage()

    def get(name: str) -> str:
        return decode_header_value(msg.get(name))

    return OriginalMessage(
        message_id=get("Message-ID").strip(),
        subject=get("Subject"),
        from_=get("From"),
        to=get("To"),
        return_path=find_address(get("Return-Path")),
        bounceback_id=get("X-Bounceback-ID").strip(),
    )


def normalise_action(action: str) -> str:
    a = action.strip().lower().split()[0] if action.strip() else ""
    if a in _FAILED:
        return "failed"
    if a in _DELAYED:
        return "delayed"
    if a in _DELIVERED:
        return a if a in ("delivered", "relayed", "expanded") else "delivered"
    return a


def finish_record(rec: DeliveryRecord) -> DeliveryRecord:
    """Fill what can be derived: clean address, codes from the diagnostic text."""
    rec.recipient = find_address(rec.recipient) or rec.recipient.strip()
    rec.original_recipient = find_address(rec.original_recipient)
    rec.diagnostic = squeeze(rec.diagnostic)
    rec.action = normalise_action(rec.action)
    diag = rec.diagnostic
    if diag:
        found = find_status(diag)
        if found and (not rec.status or (rec.status.endswith(".0.0") and found[0] == rec.status[0])):
            rec.status = found
        if not rec.reply_code:
            rec.reply_code = find_reply_code(diag)
        if not rec.smtp_command:
            rec.smtp_command = find_smtp_command(diag)
    if rec.status:
        found = find_status(rec.status)
        rec.status = found
    if not rec.action and rec.status[:1] == "5" or not rec.action and rec.reply_code[:1] == "5":
        rec.action = "failed"
    elif not rec.action and (rec.status[:1] == "4" or rec.reply_code[:1] == "4"):
        rec.action = "delayed"
    rec.remote_mta = _host_of(rec.remote_mta)
    rec.reporting_mta = _host_of(rec.reporting_mta)
    return rec


def _host_of(value: str) -> str:
    if ";" in value:
        value = value.split(";", 1)[1]
    return value.strip().strip("[]<>").strip()


def kind_of(records: Iterable[DeliveryRecord]) -> Kind:
    actions = {r.action for r in records}
    if not actions:
        return Kind.BOUNCE
    if "failed" in actions:
        return Kind.BOUNCE
    if actions <= {"delayed"}:
        return Kind.DELAY
    if actions <= {"delivered", "relayed", "expanded"}:
        return Kind.DELIVERED
    if "delayed" in actions:
        return Kind.DELAY
    return Kind.BOUNCE


def make_report(
    mail: Mail,
    detector: str,
    records: list[DeliveryRecord],
    kind: Kind | None = None,
) -> Report:
    """A finished Report: records cleaned and de-duplicated, the original filled."""
    seen: dict[str, DeliveryRecord] = {}
    out: list[DeliveryRecord] = []
    for rec in records:
        finish_record(rec)
        key = rec.recipient.lower()
        if key and key in seen:
            prev = seen[key]
            # Keep one record per recipient, the one with more evidence.
            if len(rec.diagnostic) > len(prev.diagnostic) and not prev.status:
                out[out.index(prev)] = rec
                seen[key] = rec
            continue
        seen[key] = rec
        out.append(rec)
    return Report(
        kind=kind or kind_of(out),
        detector=detector,
        records=out,
        original=original_of(mail),
        subject=mail.subject,
        from_=mail.from_,
        to=mail.to,
        delivered_to=delivered_to(mail),
        body=mail.text,
    )


def delivered_to(mail: Mail) -> list[str]:
    """The addresses the bounce was delivered to, most specific first."""
    out: list[str] = []
    for name in ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"):
        for value in mail.headers(name):
            addr = find_address(value)
            if addr and addr.lower() not in (a.lower() for a in out):
                out.append(addr)
    return out
