"""The records that flow through the pipeline: RawMessage → Report → Bounce."""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal

# What a mailbox's messages are for: bounces applied, human replies filed as
# activities on contacts, or both.
Purpose = Literal["bounces", "activities", "both"]
PURPOSES: tuple[Purpose, ...] = ("bounces", "activities", "both")


class Kind(StrEnum):
    """What a message is, before anything is judged."""

    BOUNCE = "bounce"
    DELAY = "delay"
    COMPLAINT = "complaint"
    AUTOREPLY = "autoreply"
    DELIVERED = "delivered"
    NOT_BOUNCE = "not_bounce"
    UNPARSEABLE = "unparseable"


@dataclass(slots=True)
class RawMessage:
    """Bytes (or a structured event) as a source received them."""

    data: bytes
    source: str = ""
    ref: str = ""
    received_at: dt.datetime | None = None
    event: dict[str, Any] | None = None
    # The SMTP RCPT addresses when it came in by SMTP: the matcher trusts them first.
    envelope_to: list[str] = field(default_factory=list)


@dataclass(slots=True)
class OriginalMessage:
    """What the bounce tells about the message that was sent."""

    message_id: str = ""
    subject: str = ""
    from_: str = ""
    to: str = ""
    return_path: str = ""
    bounceback_id: str = ""
    envelope_id: str = ""

    def flat(self) -> dict[str, str]:
        """The fields under the keys the CLI and API print them with."""
        return {
            "original_message_id": self.message_id,
            "original_subject": self.subject,
            "original_from": self.from_,
            "original_to": self.to,
            "bounceback_id": self.bounceback_id,
            "envelope_id": self.envelope_id,
        }


@dataclass(slots=True)
class DeliveryRecord:
    """One recipient's fate as the message states it, nothing judged yet."""

    recipient: str = ""
    action: str = ""
    status: str = ""
    reply_code: str = ""
    diagnostic: str = ""
    diagnostic_type: str = ""
    remote_mta: str = ""
    reporting_mta: str = ""
    smtp_command: str = ""
    original_recipient: str = ""
    last_attempt: str = ""
    feedback_type: str = ""
    # A reason the format itself states (e.g. a vendor's own error class); the
    # classifier weighs it but rules may override it.
    reason_hint: str = ""


@dataclass(slots=True)
class Report:
    """Everything parse() found in one message."""

    kind: Kind
    detector: str
    records: list[DeliveryRecord] = field(default_factory=list)
    original: OriginalMessage = field(default_factory=OriginalMessage)
    subject: str = ""
    from_: str = ""
    to: str = ""
    # Cc and Bcc of the message itself: user rules' "to" section reads them too.
    cc: str = ""
    # Where the bounce itself was delivered (Delivered-To, X-Original-To, To):
    # the return path, which may carry a VERP token.
    delivered_to: list[str] = field(default_factory=list)
    # The bounce's own human-readable text, for user rules on the body section.
    body: str = ""
    error: str = ""


@dataclass(slots=True)
class Bounce:
    """A classified delivery record: the unit the ledger acts on."""

    record: DeliveryRecord
    kind: Kind
    detector: str
    reason: str
    hardbounce: bool
    permanent: bool
    bounce_type: str
    rule: str
    # The enhanced status code: the one the message gave, or one derived from the
    # reason when the message gave none (record.status keeps what was found).
    status: str = ""
    original: OriginalMessage = field(default_factory=OriginalMessage)

    @property
    def recipient(self) -> str:
        return self.record.recipient

    def to_dict(self) -> dict[str, Any]:
        """A flat JSON-ready view, the keys the CLI and API print."""
        out: dict[str, Any] = asdict(self.record)
        out["status_found"] = self.record.status
        out.update(
            status=self.status,
            kind=str(self.kind),
            detector=self.detector,
            reason=self.reason,
            hardbounce=self.hardbounce,
            permanent=self.permanent,
            bounce_type=self.bounce_type,
            rule=self.rule,
        )
        out.update(self.original.flat())
        return out


@dataclass(slots=True)
class SourceEvent:
    """One Report as a source (a log, a webhook) received it, with the key that makes
    it idempotent: the ledger stores the key, so an event seen twice changes nothing."""

    report: Report
    key: str
    source: str  # "webhook:ses", "pmta", "postfix-log", ...
    ref: str  # where it came from, for people: a file and offset, a provider id
    received_at: dt.datetime
    # Provider facts the Report has no field for (PowerMTA jobId and vmta, a
    # feedback-loop id, an ESP's message id), for matching and statistics.
    meta: dict[str, str] = field(default_factory=dict)
