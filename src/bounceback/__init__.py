"""bounceback: read, classify and act on email bounces.

The public API is two pure functions::

    report = bounceback.parse(data)          # bytes -> Report
    bounces = bounceback.classify(report)    # Report -> list[Bounce]
"""

import sys

from bounceback.classify import RuleSet, classify
from bounceback.model import Bounce, DeliveryRecord, Kind, OriginalMessage, RawMessage, Report
from bounceback.parse import parse

__all__ = [
    "Bounce",
    "DeliveryRecord",
    "Kind",
    "OriginalMessage",
    "RawMessage",
    "Report",
    "RuleSet",
    "classify",
    "is_compiled",
    "parse",
]
__version__ = "0.1.0"


def is_compiled() -> bool:
    """Whether parse and classify run as C extensions (mypyc; a regular install, see
    setup.py) rather than as Python source (an editable install)."""
    path = getattr(sys.modules["bounceback.parse.mail"], "__file__", None) or ""
    return path.endswith((".so", ".pyd"))


def __getattr__(name: str) -> object:
    # bounceback.stamp lives with the ledger; imported on first use so that
    # parse/classify users never load SQLAlchemy.
    if name == "stamp":
        from bounceback.ledger.stamping import stamp

        return stamp
    raise AttributeError(f"module 'bounceback' has no attribute {name!r}")
