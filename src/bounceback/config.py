"""The configuration: one TOML file (``bounceback.toml``) plus environment variables.

Where it is read from: ``--config``/``BOUNCEBACK_CONFIG``, else ``./bounceback.toml``
when it exists, else the defaults. ``BOUNCEBACK_DATABASE_URL`` overrides the
database URL of the file, so the same file serves every environment.

```toml
[database]
url = "sqlite:///bounceback.db"        # or postgresql+psycopg://user@host/db
lock_timeout_ms = 15000                # wait this long for a locked database, then fail

[policy]
remove_address_on_hard_bounce = true
disable_after = 5                      # consecutive bounces; 0 = never disable
closed_campaign_statuses = ["closed", "completed", "cancelled"]
max_message_bytes = 10_000_000         # larger messages are quarantined
parse_deadline_seconds = 5             # slower to parse: quarantined as "too slow"; 0 = no limit
sender_health_burst = 10               # Sender-type bounces from one domain ...
sender_health_window_hours = 24        # ... within this window raise a warning

[policy.thresholds]                    # hold after N bounces of a type (0 = never)
Quota = 5

[policy.decay]                         # Mailman style
enabled = false
stale_after_days = 7

[verp]
domain = "bounces.example.org"
prefix = "bounce"
separator = "+"
active_key = "2026a"
max_age_days = 60
accept_unsigned = false                # true: also CiviCRM's unsigned id.<n>@domain (forgeable)

[verp.keys]
2026a = "a long random secret"

[rules]
rules_file = "rules.toml"

[retention]                            # 0 = keep forever (docs/ledger.md "Retention")
raw_message_days = 90                  # then the raw bytes go; the parsed records stay
bounce_event_months = 24               # whole months of events and messages
quarantined_unmatched_days = 90        # quarantined and unmatched messages
daily_at = "03:30"                     # serve prunes once a day at this local time
partitions_ahead = 3                   # PostgreSQL: monthly partitions created ahead
batch_size = 5000                      # rows per transaction when deleting rows
```
"""

from __future__ import annotations

import datetime as dt
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bounceback.classify.reasons import BOUNCE_TYPES

DEFAULT_URL = "sqlite:///bounceback.db"
DEFAULT_FILE = "bounceback.toml"
SERVE_KEYS = ("sources", "smtpd", "webhooks", "http", "poll_interval")
# Every key the file may hold, per table ("" = the top level); anything else is an error
# naming it, so a typo is never silently ignored. The serve tables are checked, key by
# key, by bounceback.serve_config.
_SECTIONS = (
    "database", "policy", "verp", "rules", "retention", "sources", "smtpd", "webhooks", "http",
)  # fmt: skip
_KEYS: dict[str, tuple[str, ...]] = {
    "": ("poll_interval",),
    "database": ("url", "lock_timeout_ms"),
    "policy": (
        "remove_address_on_hard_bounce",
        "disable_after",
        "closed_campaign_statuses",
        "max_message_bytes",
        "sender_health_burst",
        "sender_health_window_hours",
        "parse_deadline_seconds",
        "thresholds",
        "decay",
    ),
    "policy.decay": ("enabled", "stale_after_days"),
    "verp": (
        "domain",
        "prefix",
        "separator",
        "active_key",
        "max_age_days",
        "accept_unsigned",
        "keys",
    ),
    "rules": ("rules_file",),
    "retention": (
        "enabled",
        "raw_message_days",
        "bounce_event_months",
        "quarantined_unmatched_days",
        "daily_at",
        "partitions_ahead",
        "batch_size",
    ),
}


class ConfigError(ValueError):
    """The config file cannot be used; the text says where and why."""


@dataclass(slots=True)
class Decay:
    enabled: bool = False
    stale_after_days: int = 0  # 0: counts never go stale


@dataclass(slots=True)
class PolicyConfig:
    remove_address_on_hard_bounce: bool = True
    disable_after: int = 5
    closed_campaign_statuses: frozenset[str] = frozenset({"closed", "completed", "cancelled"})
    thresholds: dict[str, int | None] = field(default_factory=lambda: dict(BOUNCE_TYPES))
    # The thresholds the file set; they win over the bounce_types table.
    threshold_overrides: dict[str, int | None] = field(default_factory=dict)
    decay: Decay = field(default_factory=Decay)
    max_message_bytes: int = 10_000_000
    # parse + classify of one message; BOUNCEBACK_PARSE_DEADLINE overrides (ledger.deadline)
    parse_deadline_seconds: float = 5.0
    sender_health_burst: int = 10
    sender_health_window_hours: int = 24


@dataclass(slots=True)
class VerpConfig:
    domain: str = ""
    prefix: str = "bounce"
    separator: str = "+"
    active_key: str = ""
    keys: dict[str, bytes] = field(default_factory=dict)
    max_age_days: int = 60
    # CiviCRM's unsigned ``id.<n>@domain``: anyone who guesses n can forge it, so it is
    # off unless a site opts in (to switch without re-stamping its mail), and then only
    # on ``domain``.
    accept_unsigned: bool = False

    @property
    def enabled(self) -> bool:
        return bool(self.domain and self.active_key and self.keys)

    @property
    def unsigned_domain(self) -> str:
        """The one domain unsigned ``id.<n>`` return paths are trusted on ("" = none)."""
        return self.domain.lower().strip(".") if self.accept_unsigned else ""


@dataclass(slots=True)
class RetentionConfig:
    """How long the ledger keeps what (0 = forever); bounceback.ledger.retention."""

    enabled: bool = True  # serve runs the prune daily
    raw_message_days: int = 90
    bounce_event_months: int = 24
    quarantined_unmatched_days: int = 90
    daily_at: dt.time = dt.time(3, 30)  # local time
    partitions_ahead: int = 3
    batch_size: int = 5000


@dataclass(slots=True)
class Config:
    database_url: str = DEFAULT_URL
    lock_timeout_ms: int = 15000
    policy: PolicyConfig = field(default_factory=PolicyConfig)
    verp: VerpConfig = field(default_factory=VerpConfig)
    retention: RetentionConfig = field(default_factory=RetentionConfig)
    rules_file: Path | None = None
    path: Path | None = None
    # The tables `bounceback serve` reads ([sources.*], [smtpd], [webhooks.*], [http],
    # poll_interval), kept raw: bounceback.serve_config turns them into the sources'
    # own dataclasses, so commands that never serve never import the source modules.
    serve: dict[str, Any] = field(default_factory=dict)
    base: Path | None = None


def load(path: str | Path | None = None, env: dict[str, str] | None = None) -> Config:
    """The config from ``path`` (or the usual places) with the environment applied."""
    environ = os.environ if env is None else env
    chosen = Path(path) if path else None
    if chosen is None and environ.get("BOUNCEBACK_CONFIG"):
        chosen = Path(environ["BOUNCEBACK_CONFIG"])
    if chosen is None and Path(DEFAULT_FILE).is_file():
        chosen = Path(DEFAULT_FILE)
    data: dict[str, Any] = {}
    if chosen is not None:
        try:
            data = tomllib.loads(chosen.read_text(encoding="utf-8"))
        except OSError as exc:
            raise ConfigError(f"{chosen}: {exc.strerror or exc}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{chosen}: {exc}") from exc
    config = from_dict(data, base=chosen.parent if chosen else None)
    config.path = chosen
    config.base = chosen.parent if chosen else None
    if environ.get("BOUNCEBACK_DATABASE_URL"):
        config.database_url = environ["BOUNCEBACK_DATABASE_URL"]
    return config


def from_dict(data: dict[str, Any], base: Path | None = None) -> Config:
    _check_top_level(data)
    config = Config()
    database = as_table(data, "database")
    if "url" in database:
        config.database_url = as_str(database["url"], "database.url")
    if "lock_timeout_ms" in database:
        config.lock_timeout_ms = as_int(database["lock_timeout_ms"], "database.lock_timeout_ms")
    config.policy = _policy(as_table(data, "policy"))
    config.verp = _verp(as_table(data, "verp"))
    config.retention = _retention(as_table(data, "retention"))
    config.serve = {k: data[k] for k in SERVE_KEYS if k in data}
    rules = as_table(data, "rules")
    if rules.get("rules_file"):
        rules_path = Path(as_str(rules["rules_file"], "rules.rules_file"))
        config.rules_file = (
            rules_path if rules_path.is_absolute() or base is None else base / rules_path
        )
    return config


def _policy(raw: dict[str, Any]) -> PolicyConfig:
    policy = PolicyConfig()
    if "remove_address_on_hard_bounce" in raw:
        policy.remove_address_on_hard_bounce = bool(raw["remove_address_on_hard_bounce"])
    for name in ("disable_after", "max_message_bytes", "sender_health_burst"):
        if name in raw:
            setattr(policy, name, as_int(raw[name], f"policy.{name}"))
    if "parse_deadline_seconds" in raw:
        value = raw["parse_deadline_seconds"]
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ConfigError("policy.parse_deadline_seconds: expected a number of seconds >= 0")
        policy.parse_deadline_seconds = float(value)
    if "sender_health_window_hours" in raw:
        policy.sender_health_window_hours = as_int(
            raw["sender_health_window_hours"], "policy.sender_health_window_hours"
        )
    if "closed_campaign_statuses" in raw:
        statuses = raw["closed_campaign_statuses"]
        if not isinstance(statuses, list):
            raise ConfigError("policy.closed_campaign_statuses: expected a list of strings")
        policy.closed_campaign_statuses = frozenset(str(s).lower() for s in statuses)
    for type_name, value in as_table(raw, "thresholds", "policy.").items():
        if type_name not in BOUNCE_TYPES:
            known = ", ".join(BOUNCE_TYPES)
            raise ConfigError(f"policy.thresholds.{type_name}: unknown bounce type ({known})")
        number = as_int(value, f"policy.thresholds.{type_name}")
        policy.thresholds[type_name] = number or None
        policy.threshold_overrides[type_name] = number or None
    decay = as_table(raw, "decay", "policy.")
    policy.decay = Decay(
        enabled=bool(decay.get("enabled", False)),
        stale_after_days=as_int(decay.get("stale_after_days", 0), "policy.decay.stale_after_days"),
    )
    return policy


def _retention(raw: dict[str, Any]) -> RetentionConfig:
    retention = RetentionConfig()
    if "enabled" in raw:
        if not isinstance(raw["enabled"], bool):
            raise ConfigError("retention.enabled: expected true or false")
        retention.enabled = raw["enabled"]
    for name in (
        "raw_message_days",
        "bounce_event_months",
        "quarantined_unmatched_days",
        "partitions_ahead",
        "batch_size",
    ):
        if name in raw:
            value = as_int(raw[name], f"retention.{name}")
            if name == "batch_size" and value < 1:
                raise ConfigError("retention.batch_size: expected a whole number ≥ 1")
            setattr(retention, name, value)
    if "daily_at" in raw:
        value = raw["daily_at"]
        if isinstance(value, dt.time):  # TOML's own local time: daily_at = 03:30:00
            retention.daily_at = value
        else:
            try:
                retention.daily_at = dt.time.fromisoformat(as_str(value, "retention.daily_at"))
            except ValueError as exc:
                raise ConfigError('retention.daily_at: expected a time such as "03:30"') from exc
    return retention


def _verp(raw: dict[str, Any]) -> VerpConfig:
    verp = VerpConfig()
    for name in ("domain", "prefix", "separator", "active_key"):
        if name in raw:
            setattr(verp, name, as_str(raw[name], f"verp.{name}"))
    if "max_age_days" in raw:
        verp.max_age_days = as_int(raw["max_age_days"], "verp.max_age_days")
    if "accept_unsigned" in raw:
        if not isinstance(raw["accept_unsigned"], bool):
            raise ConfigError("verp.accept_unsigned: expected true or false")
        verp.accept_unsigned = raw["accept_unsigned"]
        if verp.accept_unsigned and not verp.domain:
            raise ConfigError(
                "verp.accept_unsigned: needs verp.domain (unsigned ids are trusted there only)"
            )
    verp.keys = {
        str(k): as_str(v, f"verp.keys.{k}").encode()
        for k, v in as_table(raw, "keys", "verp.").items()
    }
    if verp.active_key and verp.keys and verp.active_key not in verp.keys:
        raise ConfigError(f"verp.active_key: {verp.active_key!r} is not in [verp.keys]")
    return verp


def _check_top_level(data: dict[str, Any]) -> None:
    for key, value in data.items():
        if key in _SECTIONS or key in _KEYS[""]:
            continue
        sections = ", ".join(f"[{name}]" for name in _SECTIONS)
        what = "section" if isinstance(value, dict | list) else "key"
        raise ConfigError(f"{key}: unknown {what} (known: poll_interval, {sections})")
    for section in ("database", "policy", "verp", "rules", "retention"):
        _known_keys(as_table(data, section), section)
    _known_keys(as_table(as_table(data, "policy"), "decay", "policy."), "policy.decay")


def _known_keys(table: dict[str, Any], where: str) -> None:
    for key in table:
        if key not in _KEYS[where]:
            raise ConfigError(f"{where}.{key}: unknown key (known: {', '.join(_KEYS[where])})")


def as_table(data: dict[str, Any], name: str, prefix: str = "") -> dict[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        hint = ""
        if f"{prefix}{name}" == "rules":
            hint = ": classification rules go in their own file, named by [rules] rules_file"
        raise ConfigError(f"[{prefix}{name}]: expected a table of key = value lines{hint}")
    return value


def as_str(value: Any, where: str) -> str:
    if not isinstance(value, str):
        raise ConfigError(f"{where}: expected a string")
    return value


def as_int(value: Any, where: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ConfigError(f"{where}: expected a whole number ≥ 0")
    return value
