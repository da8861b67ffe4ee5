"""What the API and dashboard handlers share: the ledger and serve's live source state."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bounceback.ledger.service import Ledger


def _no_sources() -> dict[str, Any]:
    return {"ok": True, "sources": {}}


@dataclass
class WebContext:
    ledger: Ledger
    # serve's Metrics.health_json: each source's last poll and last error.
    source_state: Callable[[], dict[str, Any]] = field(default=_no_sources)
    # Signs session cookies and CSRF tokens; None: taken from (or stored in) the
    # settings table, so every process sharing one database agrees.
    secret_key: str | None = None
    # Mark the session cookie Secure: browsers send it over https only (set it when
    # a TLS proxy is in front; over plain http no login would stick).
    secure_cookies: bool = False
