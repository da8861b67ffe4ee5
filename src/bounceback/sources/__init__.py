"""sources: where bounces come in when they are not email: logs and ESP webhooks.

Every source turns what it receives into the pipeline's one record, a ``Report``,
wrapped in a ``SourceEvent`` that carries an idempotency key: the provider's own
event id, or for log files a hash of the file's identity, the line's offset and
the line. The ledger stores the key, so the same event seen twice (a webhook
replayed, a log re-read after a crash) changes nothing the second time.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bounceback.model import Report

__all__ = ["SourceError", "SourceEvent"]


@dataclass(slots=True)
class SourceEvent:
    """One Report as a source received it, with the key that makes it idempotent."""

    report: Report
    key: str
    source: str  # "webhook:ses", "pmta", "postfix-log", ...
    ref: str  # where it came from, for people: a file and offset, a provider id
    received_at: dt.datetime
    # Provider facts the Report has no field for (PowerMTA jobId and vmta, a
    # feedback-loop id, an ESP's message id), for matching and statistics.
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class SourceError:
    """A row or payload item that could not be read: reported, never fatal."""

    ref: str
    error: str
    text: str = ""
