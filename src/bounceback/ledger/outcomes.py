"""What became of one inbound message (``messages.outcome``, ``Outcome.outcome``)."""

from __future__ import annotations

from enum import StrEnum


class MessageOutcome(StrEnum):
    MATCHED = "matched"  # a bounce applied to a known address
    UNMATCHED = "unmatched"  # a bounce kept, no address of ours found
    IGNORED = "ignored"  # not a bounce (or released from the quarantine)
    QUARANTINED = "quarantined"  # could not be read: bytes kept for a retry
    DUPLICATE = "duplicate"  # seen before (same idempotency key): nothing done
    ERROR = "error"  # nothing written: not acked, it comes again
    FILED = "filed"  # a human reply filed on its contact

    @property
    def applies_bounces(self) -> bool:
        """Its bounces go through the policy (matched or not)."""
        return self in (MessageOutcome.MATCHED, MessageOutcome.UNMATCHED)

    @property
    def summary_field(self) -> str:
        """Its counter's name in a run's summary (plural where the word needs it)."""
        return _PLURAL.get(self, self.value)


_PLURAL = {MessageOutcome.DUPLICATE: "duplicates", MessageOutcome.ERROR: "errors"}
