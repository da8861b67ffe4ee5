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
            if _starts_record(current, name):
                current = DeliveryRecord(reporting_mta=per_message.get("reporting-mta", ""))
                records.append(current)
            _set_recipient(current, name, value)
        elif current is None:
            per_message[name] = value
        else:
            _set_field(current, name, value)
    for rec in records:
        if not rec.recipient or "@" not in rec.recipient:
            rec.recipient = rec.original_recipient or rec.recipient
        _misplaced_fields(rec, per_message)
    return records


def _starts_record(current: DeliveryRecord | None, name: str) -> bool:
    """Whether a recipient field opens a new record rather than completing this one:
    a second Final-Recipient, or an Original-Recipient after the record's own."""
    if current is None:
        return True
    if name == "final-recipient":
        return bool(current.recipient or not current.original_recipient)
    return bool(current.original_recipient or current.action)


def _set_recipient(rec: DeliveryRecord | None, name: str, value: str) -> None:
    assert rec is not None  # _starts_record opened one when there was none
    if name == "final-recipient":
        rec.recipient = address_field(value)
    else:
        rec.original_recipient = address_field(value)


def _set_field(rec: DeliveryRecord, name: str, value: str) -> None:
    """One per-recipient field (RFC 3464 section 2.3) into the record."""
    if name == "action":
        rec.action = value
    elif name == "status":
        rec.status = value
    elif name == "diagnostic-code":
        set_diagnostic_code(rec, value)
    elif name == "remote-mta":
        rec.remote_mta = value
    elif name == "last-attempt-date":
        rec.last_attempt = value
    elif name == "x-actual-recipient":
        actual = address_field(value)
        if actual and "@" in actual and "@" not in rec.recipient:
            rec.recipient = actual
    elif name == "reporting-mta" and not rec.reporting_mta:
        rec.reporting_mta = value


def set_diagnostic_code(rec: DeliveryRecord, value: str) -> None:
    """A Diagnostic-Code value ("smtp; 550 5.1.1 ...") into type and text; a value
    whose part before the first ";" is not one word has no type: all of it is text."""
    kind, sep, text = value.partition(";")
    if sep and " " not in kind.strip():
        rec.diagnostic_type = kind.strip().lower()
        rec.diagnostic = text.strip()
    else:
        rec.diagnostic = value


def _misplaced_fields(rec: DeliveryRecord, per_message: dict[str, str]) -> None:
    """Per-recipient fields some MTAs (Facebook's) print before Final-Recipient."""
    if not rec.action and "action" in per_message:
        rec.action = per_message["action"]
    if not rec.status and "status" in per_message:
        rec.status = per_message["status"]
    if not rec.remote_mta and "remote-mta" in per_message:
        rec.remote_mta = per_message["remote-mta"]
    if not rec.diagnostic and "diagnostic-code" in per_message:
        set_diagnostic_code(rec, per_message["diagnostic-code"])


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
