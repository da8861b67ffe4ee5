"""sources: where bounces come in when they are not email: logs and ESP webhooks.

Every source turns what it receives into the pipeline's one record, a ``Report``,
wrapped in a ``SourceEvent`` that carries an idempotency key: the provider's own
event id, or for log files a hash of the file's identity, the line's offset and
the line. The ledger stores the key, so the same event seen twice (a webhook
replayed, a log re-read after a crash) changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass

# The event record lives with the other records (the ledger stores it); named here too.
from bounceback.model import SourceEvent

__all__ = ["SourceError", "SourceEvent"]


@dataclass(frozen=True, slots=True)
class SourceError:
    """A row or payload item that could not be read: reported, never fatal."""

    ref: str
    error: str
    text: str = ""
