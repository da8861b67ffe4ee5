"""The ``bounceback serve`` tables of the config file, as the sources' own dataclasses.

``config.load`` keeps these tables raw; this module checks them (``ConfigError``
naming the key, like the rest of the config) and builds each source's config
dataclass (``sources.registry``: one per ``[[sources.<kind>]]``), SmtpdConfig and
the webhook settings. The keys and their checks come from the dataclasses' fields
(``sources.options``). Relative paths are taken from the config file's folder.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bounceback.config import Config, ConfigError, as_int, as_str, as_table
from bounceback.model import Purpose
from bounceback.sources.logs import LogConfig
from bounceback.sources.options import Check, Option, options, required
from bounceback.sources.registry import SOURCES, Log, Mailbox, lookup

if TYPE_CHECKING:
    from bounceback.sources.smtpd import SmtpdConfig
    from bounceback.sources.webhooks.settings import WebhookSettings

# The checks of each key come from the config dataclasses (sources.options); these
# tables have no dataclass of their own.
_HTTP: dict[str, Option] = {
    "listen": Check.TEXT,
    "trusted_proxies": Check.TEXTS,
    "secure_cookies": Check.BOOL,
}


@dataclass(slots=True)
class MailboxSpec:
    """One mailbox source: its kind, a name for logs/metrics, its config, its purpose."""

    kind: str  # a key of sources.registry.SOURCES
    name: str
    config: Any  # the kind's config dataclass: ImapConfig, MaildirConfig, ...
    purpose: Purpose = "bounces"


@dataclass(slots=True)
class LogSpec:
    """One log tailed incrementally: its kind, a name for logs/metrics, its config."""

    kind: str  # a key of sources.registry.SOURCES
    name: str
    config: LogConfig  # or a subclass: serve tails ``config.reader()``


@dataclass(slots=True)
class ServeConfig:
    poll_interval: float = 60.0
    http_listen: tuple[str, int] | None = None
    # Addresses (or networks) of the proxies whose X-Forwarded-For/-Proto are believed;
    # none by default: the client is whoever connected.
    http_trusted_proxies: tuple[str, ...] = ()
    http_secure_cookies: bool = False  # the session cookie only over https
    smtpd: SmtpdConfig | None = None
    mailboxes: list[MailboxSpec] = field(default_factory=list)
    logs: list[LogSpec] = field(default_factory=list)
    webhooks: WebhookSettings | None = None


def serve_config(config: Config) -> ServeConfig:
    """The serve settings of ``config``; raises ConfigError naming the bad key."""
    raw, base = config.serve, config.base
    out = ServeConfig()
    if "poll_interval" in raw:
        out.poll_interval = _float(raw["poll_interval"], "poll_interval")
        if out.poll_interval <= 0:
            raise ConfigError("poll_interval: expected a number of seconds > 0")
    http = _values(as_table(raw, "http"), _HTTP, "http", None)
    if "listen" in http:
        out.http_listen = listen(http["listen"], "http.listen")
    out.http_trusted_proxies = tuple(
        proxy(p, "http.trusted_proxies") for p in http.get("trusted_proxies", ())
    )
    out.http_secure_cookies = bool(http.get("secure_cookies", False))
    sources = as_table(raw, "sources")
    for kind in sources:
        lookup(kind)  # an unknown kind is an error, not some other kind
    for kind, source in SOURCES.items():  # in the registry's order, whatever the file's
        for i, entry in enumerate(_list(sources, kind)):
            where = f"sources.{kind}[{i}]"
            if isinstance(source, Mailbox):
                out.mailboxes.append(_mailbox(kind, source, entry, where, base))
            else:
                out.logs.append(_log(kind, source, entry, where, base))
    if "smtpd" in raw:
        out.smtpd = _smtpd(as_table(raw, "smtpd"), base)
    if "webhooks" in raw:
        out.webhooks = _webhooks(as_table(raw, "webhooks"))
    return out


def proxy(value: str, where: str) -> str:
    """An IP address or network (CIDR); "*" would trust anyone and is refused."""
    try:
        ipaddress.ip_network(value.strip(), strict=False)
    except ValueError as exc:
        raise ConfigError(f"{where}: {value!r} is not an IP address or network") from exc
    return value.strip()


def listen(value: str, where: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{where}: expected HOST:PORT")
    return host.strip("[]"), int(port)


def _mailbox(
    kind: str, source: Mailbox[Any], raw: dict[str, Any], where: str, base: Path | None
) -> MailboxSpec:
    name = as_str(raw.get("name", ""), f"{where}.name")
    config: Any = _config(source.config, {k: v for k, v in raw.items() if k != "name"}, where, base)
    # A file's path, else the account (a mailbox config has one or the other).
    label = getattr(config, "path", None) or f"{config.user}@{config.host}"
    return MailboxSpec(kind, name or f"{kind}:{label}", config, config.purpose)


def _log(
    kind: str, source: Log[Any], raw: dict[str, Any], where: str, base: Path | None
) -> LogSpec:
    name = as_str(raw.get("name", ""), f"{where}.name")
    config: LogConfig = _config(
        source.config, {k: v for k, v in raw.items() if k != "name"}, where, base
    )
    return LogSpec(kind=kind, name=name or f"{kind}:{config.path}", config=config)


def _config(cls: type[Any], raw: dict[str, Any], where: str, base: Path | None) -> Any:
    """``cls`` (a config dataclass) from a table, each key checked as its field's type says."""
    values = _values(raw, options(cls), where, base)
    for key in required(cls):
        if key not in values:
            raise ConfigError(f"{where}.{key}: required")
    return cls(**values)


def _smtpd(raw: dict[str, Any], base: Path | None) -> SmtpdConfig:
    from bounceback.sources.smtpd import SmtpdConfig

    values = _values(raw, {**options(SmtpdConfig), "listen": Check.TEXT}, "smtpd", base)
    if "listen" in values:
        values["host"], values["port"] = listen(values.pop("listen"), "smtpd.listen")
    return SmtpdConfig(**values)


def _webhooks(raw: dict[str, Any]) -> WebhookSettings:
    from bounceback.sources.webhooks.routes import PROVIDERS
    from bounceback.sources.webhooks.settings import WebhookSettings

    kinds = {kind.name: kind for kind in PROVIDERS}
    settings = WebhookSettings()
    for provider in raw:
        kind = kinds.get(provider)
        if kind is None:
            raise ConfigError(f"webhooks.{provider}: unknown provider ({', '.join(kinds)})")
        where = f"webhooks.{provider}"
        table = as_table(raw, provider, "webhooks.")
        settings.providers[provider] = kind.configure(_config(kind.options, table, where, None))
    return settings


def _values(
    raw: dict[str, Any], spec: dict[str, Option], where: str, base: Path | None
) -> dict[str, Any]:
    _known(raw, spec, where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        check, at = spec[key], f"{where}.{key}"
        if isinstance(check, tuple):
            if value not in check:
                raise ConfigError(f"{at}: expected one of {', '.join(check)}")
            out[key] = value
        elif check is Check.TEXT:
            out[key] = as_str(value, at)
        elif check is Check.INT:
            out[key] = as_int(value, at)
        elif check is Check.FLOAT:
            out[key] = _float(value, at)
        elif check is Check.BOOL:
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: expected true or false")
            out[key] = value
        elif check is Check.PATH:
            path = Path(as_str(value, at)).expanduser()
            out[key] = path if path.is_absolute() or base is None else base / path
        elif check is Check.TEXT_OR_TEXTS and isinstance(value, str):
            out[key] = value
        else:
            out[key] = _strs(value, at)
    return out


def _known(raw: dict[str, Any], spec: dict[str, Option], where: str) -> None:
    for key in raw:
        if key not in spec:
            raise ConfigError(f"{where}.{key}: unknown key")


def _list(data: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    value = data.get(kind, [])
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise ConfigError(f"sources.{kind}: expected [[sources.{kind}]] tables")
    return value


def _float(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise ConfigError(f"{where}: expected a number ≥ 0")
    return float(value)


def _strs(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of strings")
    return list(value)
