"""Core ``Table`` handles for the hot paths, plus clipping values to column lengths."""

from __future__ import annotations

from typing import Any

from sqlalchemy import String, Table

from bounceback.ledger.models import Base

contacts: Table = Base.metadata.tables["contacts"]
addresses: Table = Base.metadata.tables["email_addresses"]
campaigns: Table = Base.metadata.tables["campaigns"]
sends: Table = Base.metadata.tables["sends"]
messages: Table = Base.metadata.tables["messages"]
events: Table = Base.metadata.tables["bounce_events"]
suppressions: Table = Base.metadata.tables["suppressions"]
bounce_types: Table = Base.metadata.tables["bounce_types"]
settings: Table = Base.metadata.tables["settings"]
undo_runs: Table = Base.metadata.tables["undo_runs"]
activities: Table = Base.metadata.tables["activities"]
api_keys: Table = Base.metadata.tables["api_keys"]
users: Table = Base.metadata.tables["users"]
revoked_sessions: Table = Base.metadata.tables["revoked_sessions"]
webhook_tokens: Table = Base.metadata.tables["webhook_tokens"]
user_rules: Table = Base.metadata.tables["user_rules"]
daily_stats: Table = Base.metadata.tables["daily_stats"]
send_stats: Table = Base.metadata.tables["send_stats"]
pruned_addresses: Table = Base.metadata.tables["pruned_addresses"]
pruned_campaigns: Table = Base.metadata.tables["pruned_campaigns"]


def _limits(table: Table) -> dict[str, int]:
    return {
        c.name: c.type.length
        for c in table.columns
        if isinstance(c.type, String) and c.type.length is not None
    }


_LIMITS = {t.name: _limits(t) for t in Base.metadata.tables.values()}


def clip(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """Strings the column takes: cut to its length, NULs dropped (PostgreSQL refuses both)."""
    limits = _LIMITS[table.name]
    for name, value in row.items():
        if not isinstance(value, str):
            continue
        if "\x00" in value:  # PostgreSQL text cannot hold NUL
            value = row[name] = value.replace("\x00", "")
        if name in limits and len(value) > limits[name]:
            row[name] = value[: limits[name]]
    return row
