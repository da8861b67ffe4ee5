"""The bounce ledger: contacts, sends, campaigns, suppression, holds — in SQLite or PostgreSQL.

``Ledger.open()`` connects with the config (migrating on first use);
``ledger.process(...)`` applies the engine's bounces under the policy.
"""

from bounceback.ledger.db import LedgerUnavailable
from bounceback.ledger.process import Outcome, Summary
from bounceback.ledger.service import ImportResult, Ledger, LedgerError
from bounceback.ledger.stamping import Send, stamp

__all__ = [
    "ImportResult",
    "Ledger",
    "LedgerError",
    "LedgerUnavailable",
    "Outcome",
    "Send",
    "Summary",
    "stamp",
]
