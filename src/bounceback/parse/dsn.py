"""RFC 3464 delivery status notifications: the machine-readable fields."""

from __future__ import annotations

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import diagnostic_from_text, make_report
from bounceback.parse.mail import Fields, Mail
from bounceback.parse.text import address_field

NAME = "rfc3464"

_RECIPIENT_STARTS = frozenset({"final-recipient", "original-recipient"})


def records_from_fields(
    fields: Fields, defaults: dict[str, str] | None = None
) -> list[DeliveryRecord]:
    """Per-recipient records from a flat run of DSN fields.

    Real DSNs often miss the blank line between the per-message and the
    per-recipient blocks, or between recipients, so a new record starts at each
    recipient field rather than at each block.
    """
    per_message = dict(defaults or {})
    records: list[DeliveryRecord] = []
    current: DeliveryRecord | None = None
    for raw_name, value in fields:
        name = raw_name.lower()
        if name in _RECIPIENT_STARTS:
            starts_new = (
                current is None
                or (
                    name == "final-recipient"
                    and (current.recipient or not current.original_recipient)
                )
                or (name == "original-recipient" and (current.original_recipient or current.action))
            )
            if starts_new:
                current = DeliveryRecord(
                    reporting_mta=per_message.get("reporting-mta", ""),
                )
                records.append(current)
            assert current is not None
            if name == "final-recipient":
                current.recipient = address_field(value)
            else:
                current.original_recipient = address_field(value)
            continue
        if current is None:
            per_message[name] = value
            continue
        if name == "action":
            current.action = value
        elif name == "status":
            current.status = value
        elif name == "diagnostic-code":
            kind, sep, text = value.partition(";")
            if sep and " " not in kind.strip():
                current.diagnostic_type = kind.strip().lower()
                current.diagnostic = text.strip()
            else:
                current.diagnostic = value
        elif name == "remote-mta":
            current.remote_mta = value
        elif name == "last-attempt-date":
            current.last_attempt = value
        elif name == "x-actual-recipient":
            actual = address_field(value)
            if actual and "@" in actual and "@" not in current.recipient:
                current.recipient = actual
        elif name == "reporting-mta" and not current.reporting_mta:
            current.reporting_mta = value
    for rec in records:
        if not rec.recipient or "@" not in rec.recipient:
            rec.recipient = rec.original_recipient or rec.recipient
        _misplaced_fields(rec, per_message)
    return records


def _misplaced_fields(rec: DeliveryRecord, per_message: dict[str, str]) -> None:
    """Per-recipient fields some MTAs (Facebook's) print before Final-Recipient."""
    if not rec.action and "action" in per_message:
        rec.action = per_message["action"]
    if not rec.status and "status" in per_message:
        rec.status = per_message["status"]
    if not rec.remote_mta and "remote-mta" in per_message:
        rec.remote_mta = per_message["remote-mta"]
    if not rec.diagnostic and "diagnostic-code" in per_message:
        kind, sep, text = per_message["diagnostic-code"].partition(";")
        if sep and " " not in kind.strip():
            rec.diagnostic_type = kind.strip().lower()
            rec.diagnostic = text.strip()
        else:
            rec.diagnostic = per_message["diagnostic-code"]


def records(mail: Mail) -> list[DeliveryRecord]:
    """The DSN records of a message with a delivery-status part, else []."""
    if not mail.status_groups:
        return []
    flat = [f for group in mail.status_groups for f in group]
    return records_from_fields(flat)


def envelope_id(mail: Mail) -> str:
    for group in mail.status_groups:
        for name, value in group:
            if name.lower() == "original-envelope-id":
                return value.strip()
    return ""


def detect(mail: Mail) -> Report | None:
    recs = [r for r in records(mail) if r.recipient]
    if not recs:
        return None
    for rec in recs:
        if not rec.diagnostic:
            # Some MTAs state the reason only in the human-readable part.
            rec.diagnostic = diagnostic_from_text(mail.report_text, rec.recipient)
    report = make_report(mail, NAME, recs)
    report.original.envelope_id = envelope_id(mail)
    return report
