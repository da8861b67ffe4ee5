"""Settings a person edits in the dashboard or over the API, kept in the ``settings`` table.

Each one is stored as JSON under ``web.<name>`` and applied over the config file's
value when the ledger opens and whenever it changes (in place, on the policy object
the processors share). Hold thresholds keep their own table (``bounce_types``,
``store_threshold``); they are shown and edited here too for one settings page.
Every change also bumps the live counter (``ledger.live``); a ledger checks it before
each batch of work (``refresh``), so another process sharing the database applies it too.
"""

from __future__ import annotations

import json
import threading
import weakref
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update

from bounceback.classify.reasons import BOUNCE_TYPES
from bounceback.ledger import live
from bounceback.ledger import tables as t
from bounceback.ledger.store import LedgerError, Store

PREFIX = "web."


class SettingsError(ValueError):
    """A value a setting does not take; the message says which and why."""


@dataclass(frozen=True, slots=True)
class HealthLimits:
    """When sender health warns: mailbox providers' published ceilings by default."""

    bounce_rate: float = 0.05
    complaint_rate: float = 0.001
    min_volume: int = 100  # sends to a domain in the window before a rate means anything


DEFAULT_LIMITS = HealthLimits()
# Settings on the policy object (PolicyConfig attribute names).
POLICY_KEYS = (
    "closed_campaign_statuses",
    "remove_address_on_hard_bounce",
    "disable_after",
    "sender_health_burst",
    "sender_health_window_hours",
)
LIMIT_KEYS = ("bounce_rate_limit", "complaint_rate_limit", "health_min_volume")
KEYS = POLICY_KEYS + LIMIT_KEYS


def _int(name: str, value: Any, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise SettingsError(f"{name}: expected a whole number, got {value!r}")
    if not low <= value <= high:
        raise SettingsError(f"{name}: must be between {low} and {high}, got {value}")
    return value


def _rate(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise SettingsError(f"{name}: expected a fraction such as 0.05, got {value!r}")
    if not 0 < value <= 1:
        raise SettingsError(f"{name}: must be above 0 and at most 1 (0.05 = 5%), got {value}")
    return float(value)


def validate(name: str, value: Any) -> Any:
    """The value in its stored form, or SettingsError."""
    if name == "closed_campaign_statuses":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise SettingsError(f"{name}: expected a list of status names")
        statuses = sorted({v.strip().lower() for v in value if v.strip()})
        if any(len(s) > 32 for s in statuses):
            raise SettingsError(f"{name}: a status is at most 32 characters")
        return statuses
    if name == "remove_address_on_hard_bounce":
        if not isinstance(value, bool):
            raise SettingsError(f"{name}: expected true or false, got {value!r}")
        return value
    if name == "disable_after":
        return _int(name, value, 0, 10_000)
    if name == "sender_health_burst":
        return _int(name, value, 1, 1_000_000)
    if name == "sender_health_window_hours":
        return _int(name, value, 1, 24 * 90)
    if name in ("bounce_rate_limit", "complaint_rate_limit"):
        return _rate(name, value)
    if name == "health_min_volume":
        return _int(name, value, 0, 1_000_000_000)
    raise SettingsError(f"unknown setting {name!r} (known: {', '.join(KEYS)})")


def load_thresholds(store: Store) -> None:
    """The bounce_types table's thresholds, with the config file's on top."""
    with store.read() as conn:
        table = {r.name: r.threshold for r in conn.execute(select(t.bounce_types))}
    policy = store.config.policy
    policy.thresholds = {**policy.thresholds, **table, **policy.threshold_overrides}


def thresholds(store: Store) -> dict[str, int | None]:
    """The hold thresholds in force: the bounce_types table, the config file on top."""
    load_thresholds(store)
    return dict(store.config.policy.thresholds)


def store_threshold(store: Store, bounce_type: str, threshold: int | None) -> None:
    """One type's threshold in the bounce_types table (unvalidated: see ``set_threshold``)."""
    with store.write() as conn:
        done = conn.execute(
            update(t.bounce_types)
            .where(t.bounce_types.c.name == bounce_type)
            .values(threshold=threshold)
        )
        if not done.rowcount:
            raise LedgerError(f"no bounce type named {bounce_type!r}")
        live.bump(conn)
    store.config.policy.thresholds[bounce_type] = threshold


def setting(store: Store, key: str) -> str | None:
    """A raw value of the settings table."""
    with store.read() as conn:
        found = conn.execute(select(t.settings.c.value).where(t.settings.c.key == key)).scalar()
        return None if found is None else str(found)


def _stored(store: Store) -> dict[str, Any]:
    s = t.settings.c
    with store.read() as conn:
        rows = conn.execute(select(s.key, s.value).where(s.key.startswith(PREFIX))).all()
    out: dict[str, Any] = {}
    for key, value in rows:
        name = key[len(PREFIX) :]
        try:
            out[name] = validate(name, json.loads(value))
        except (ValueError, SettingsError):
            continue  # a value written by hand that no longer fits: the config's stands
    return out


def _apply_policy(store: Store, values: dict[str, Any]) -> None:
    policy = store.config.policy
    for name in POLICY_KEYS:
        if name not in values:
            continue
        value = values[name]
        if name == "closed_campaign_statuses":
            value = frozenset(value)
        setattr(policy, name, value)


_seen: weakref.WeakKeyDictionary[Store, str] = weakref.WeakKeyDictionary()
_seen_lock = threading.Lock()


def apply_settings(store: Store) -> None:
    """Stored settings over the config's (``Ledger.open`` calls this)."""
    now = live.current(store)  # first: a change landing in between is applied next time
    _apply_policy(store, _stored(store))
    with _seen_lock:
        _seen[store] = now


def refresh(store: Store, now: str) -> None:
    """Apply settings and thresholds changed (maybe by another process) since this
    ledger last looked; ``now`` is the live counter as just read."""
    with _seen_lock:
        if _seen.get(store) == now:
            return
    _apply_policy(store, _stored(store))
    load_thresholds(store)
    with _seen_lock:
        _seen[store] = now


def health_limits(store: Store) -> HealthLimits:
    stored = _stored(store)
    return HealthLimits(
        bounce_rate=stored.get("bounce_rate_limit", DEFAULT_LIMITS.bounce_rate),
        complaint_rate=stored.get("complaint_rate_limit", DEFAULT_LIMITS.complaint_rate),
        min_volume=stored.get("health_min_volume", DEFAULT_LIMITS.min_volume),
    )


def get_settings(store: Store) -> dict[str, Any]:
    """Every editable setting in force, with the hold thresholds."""
    policy = store.config.policy
    limits = health_limits(store)
    return {
        "closed_campaign_statuses": sorted(policy.closed_campaign_statuses),
        "remove_address_on_hard_bounce": policy.remove_address_on_hard_bounce,
        "disable_after": policy.disable_after,
        "sender_health_burst": policy.sender_health_burst,
        "sender_health_window_hours": policy.sender_health_window_hours,
        "bounce_rate_limit": limits.bounce_rate,
        "complaint_rate_limit": limits.complaint_rate,
        "health_min_volume": limits.min_volume,
        "thresholds": thresholds(store),
    }


def validate_threshold(
    bounce_type: str, value: Any, overrides: dict[str, int | None] | None = None
) -> int | None:
    if bounce_type not in BOUNCE_TYPES:
        raise SettingsError(
            f"no bounce type named {bounce_type!r} (known: {', '.join(BOUNCE_TYPES)})"
        )
    if overrides and bounce_type in overrides:
        # The file's value wins over the table's: a change here would not take.
        raise SettingsError(
            f"thresholds.{bounce_type}: set in the config file ([policy.thresholds]); "
            "change it there"
        )
    if value is None:
        return None
    number = _int(f"thresholds.{bounce_type}", value, 0, 10_000)
    return number or None  # 0, like the config file: never held


def update_settings(store: Store, changes: dict[str, Any]) -> dict[str, Any]:
    """Validate every change first (all or nothing), store, apply; the settings after."""
    if not isinstance(changes, dict) or not changes:
        raise SettingsError("nothing to change: send an object of settings")
    values: dict[str, Any] = {}
    thresholds: dict[str, int | None] = {}
    for name, value in changes.items():
        if name == "thresholds":
            if not isinstance(value, dict):
                raise SettingsError("thresholds: expected an object of bounce type: number")
            for bounce_type, number in value.items():
                thresholds[bounce_type] = validate_threshold(
                    bounce_type, number, store.config.policy.threshold_overrides
                )
        else:
            values[name] = validate(name, value)
    with store.write() as conn:
        s = t.settings.c
        for name, value in values.items():
            conn.execute(delete(t.settings).where(s.key == PREFIX + name))
            conn.execute(insert(t.settings).values(key=PREFIX + name, value=json.dumps(value)))
        live.bump(conn)
    for bounce_type, number in thresholds.items():
        store_threshold(store, bounce_type, number)
    _apply_policy(store, values)
    return get_settings(store)


def set_threshold(store: Store, bounce_type: str, value: Any) -> dict[str, Any]:
    """One type's hold threshold (None or 0: never held)."""
    overrides = store.config.policy.threshold_overrides
    store_threshold(store, bounce_type, validate_threshold(bounce_type, value, overrides))
    return {"bounce_type": bounce_type, "threshold": thresholds(store).get(bounce_type)}
