"""The ``bounceback serve`` tables of the config file, as the sources' own dataclasses.

``config.load`` keeps these tables raw; this module checks them (``ConfigError``
naming the key, like the rest of the config) and builds ImapConfig, Pop3Config,
MaildirConfig, MboxConfig, SmtpdConfig, the log readers' settings and the webhook
settings. Relative paths are taken from the config file's folder.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

from bounceback.config import Config, ConfigError, _int, _str, _table

if TYPE_CHECKING:
    from bounceback.sources.smtpd import SmtpdConfig
    from bounceback.sources.webhooks.routes import WebhookSettings

Purpose = Literal["bounces", "activities", "both"]
MailboxKind = Literal["imap", "pop3", "maildir", "mbox"]
LogKind = Literal["pmta", "postfix_log"]
PURPOSES = ("bounces", "activities", "both")

# Per key: its type ("str", "int", "float", "bool", "path", "strs", "str|strs") or its
# allowed values. Keys not listed are errors, so a typo does not pass silently.
_Spec = dict[str, str | tuple[str, ...]]
_MOVE = {"processed": ("move", "delete")}
_FOLDERS: _Spec = {"processed_folder": "str", "ignored_folder": "str", "quarantine_folder": "str"}
_SERVER: _Spec = {
    "host": "str",
    "user": "str",
    "password": "str",
    "token_command": "str|strs",
    "port": "int",
    "security": ("ssl", "starttls", "plain"),
    "batch_size": "int",
    "timeout": "float",
    "max_reconnects": "int",
}
SPECS: dict[str, _Spec] = {
    "imap": {
        **_SERVER,
        **_MOVE,
        **_FOLDERS,
        "folder": "str",
        "ignored": ("seen", "move"),
    },
    "pop3": {**_SERVER, "ignored": ("keep", "delete")},
    "maildir": {
        **_MOVE,
        "path": "path",
        "ignored": ("seen", "move"),
        "processed_folder": "str",
        "ignored_folder": "str",
        "quarantine_folder": "str",
        "batch_size": "int",
    },
    "mbox": {
        "path": "path",
        "processed_path": "path",
        "ignored_path": "path",
        "quarantine_path": "path",
        "batch_size": "int",
    },
}
_REQUIRED = {"imap": ("host", "user"), "pop3": ("host", "user"), "maildir": ("path",)}
_REQUIRED["mbox"] = ("path",)
_LOG_SPEC: _Spec = {
    "path": "path",
    "state_path": "path",
    "rotated": "strs",
    "move_to": "path",
    "types": "strs",
    "include_sent": "bool",
}
_SMTPD_SPEC: _Spec = {
    "listen": "str",
    "hostname": "str",
    "domains": "strs",
    "catch_all": "strs",
    "max_message_bytes": "int",
    "tls_cert": "path",
    "tls_key": "path",
    "require_tls": "bool",
    "max_connections_per_client": "int",
    "rate_per_client": "float",
    "rate_burst": "int",
    "max_pending": "int",
    "batch_size": "int",
    "timeout": "float",
}
_WEBHOOK_SPECS: dict[str, _Spec] = {
    "ses": {"topic_arns": "strs", "max_age": "float"},
    "sendgrid": {"public_key": "str", "max_age": "float"},
    "mailgun": {"signing_key": "str", "max_age": "float"},
    "postmark": {"user": "str", "password": "str"},
}


@dataclass(slots=True)
class MailboxSpec:
    """One mailbox source: its kind, a name for logs/metrics, its config, its purpose."""

    kind: MailboxKind
    name: str
    config: Any  # ImapConfig | Pop3Config | MaildirConfig | MboxConfig
    purpose: Purpose = "bounces"


@dataclass(slots=True)
class LogSpec:
    """One log tailed incrementally; ``state_path`` remembers how far it was read."""

    kind: LogKind
    name: str
    path: Path
    state_path: Path
    rotated: tuple[str, ...] = (".1",)
    move_to: Path | None = None
    types: tuple[str, ...] = ()  # pmta record types; () = the reader's default
    include_sent: bool = False  # postfix: also status=sent (deliveries reset counts)


_HTTP_SPEC: _Spec = {"listen": "str", "trusted_proxies": "strs", "secure_cookies": "bool"}


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
    http = _values(_table(raw, "http"), _HTTP_SPEC, "http", None)
    if "listen" in http:
        out.http_listen = listen(http["listen"], "http.listen")
    out.http_trusted_proxies = tuple(
        proxy(p, "http.trusted_proxies") for p in http.get("trusted_proxies", ())
    )
    out.http_secure_cookies = bool(http.get("secure_cookies", False))
    sources = _table(raw, "sources")
    for kind in sources:
        if kind not in (*SPECS, "pmta", "postfix_log"):
            raise ConfigError(f"sources.{kind}: unknown source kind")
    for kind in SPECS:
        for i, entry in enumerate(_list(sources, kind)):
            out.mailboxes.append(
                _mailbox(cast(MailboxKind, kind), entry, f"sources.{kind}[{i}]", base)
            )
    for kind in ("pmta", "postfix_log"):
        for i, entry in enumerate(_list(sources, kind)):
            out.logs.append(_log(cast(LogKind, kind), entry, f"sources.{kind}[{i}]", base))
    if "smtpd" in raw:
        out.smtpd = _smtpd(_table(raw, "smtpd"), base)
    if "webhooks" in raw:
        out.webhooks = _webhooks(_table(raw, "webhooks"))
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


def _mailbox(kind: MailboxKind, raw: dict[str, Any], where: str, base: Path | None) -> MailboxSpec:
    purpose = raw.get("purpose", "bounces")
    if purpose not in PURPOSES:
        raise ConfigError(f"{where}.purpose: expected one of {', '.join(PURPOSES)}")
    name = _str(raw.get("name", ""), f"{where}.name")
    rest = {k: v for k, v in raw.items() if k not in ("purpose", "name")}
    values = _values(rest, SPECS[kind], where, base)
    for key in _REQUIRED[kind]:
        if key not in values:
            raise ConfigError(f"{where}.{key}: required")
    if kind == "imap":
        from bounceback.sources.imap import ImapConfig

        config: Any = ImapConfig(**values)
    elif kind == "pop3":
        from bounceback.sources.pop3 import Pop3Config

        config = Pop3Config(**values)
    elif kind == "maildir":
        from bounceback.sources.maildir import MaildirConfig

        config = MaildirConfig(**values)
    else:
        from bounceback.sources.mbox import MboxConfig

        config = MboxConfig(**values)
    if "purpose" in {f.name for f in fields(config)}:
        config.purpose = purpose  # sources that carry it themselves get it here too
    label = values.get("path") or f"{values.get('user')}@{values.get('host')}"
    return MailboxSpec(kind, name or f"{kind}:{label}", config, purpose)


def _log(kind: LogKind, raw: dict[str, Any], where: str, base: Path | None) -> LogSpec:
    name = _str(raw.get("name", ""), f"{where}.name")
    values = _values({k: v for k, v in raw.items() if k != "name"}, _LOG_SPEC, where, base)
    if "path" not in values:
        raise ConfigError(f"{where}.path: required")
    path: Path = values["path"]
    return LogSpec(
        kind=kind,
        name=name or f"{kind}:{path}",
        path=path,
        state_path=values.get("state_path") or path.with_name(path.name + ".bounceback-state"),
        rotated=tuple(values.get("rotated", (".1",))),
        move_to=values.get("move_to"),
        types=tuple(values.get("types", ())),
        include_sent=bool(values.get("include_sent", False)),
    )


def _smtpd(raw: dict[str, Any], base: Path | None) -> SmtpdConfig:
    from bounceback.sources.smtpd import SmtpdConfig

    values = _values(raw, _SMTPD_SPEC, "smtpd", base)
    if "listen" in values:
        values["host"], values["port"] = listen(values.pop("listen"), "smtpd.listen")
    return SmtpdConfig(**values)


def _webhooks(raw: dict[str, Any]) -> WebhookSettings:
    from bounceback.sources.webhooks.routes import WebhookSettings

    settings = WebhookSettings()
    for provider in raw:
        if provider not in _WEBHOOK_SPECS:
            raise ConfigError(
                f"webhooks.{provider}: unknown provider (ses, sendgrid, mailgun, postmark)"
            )
        where = f"webhooks.{provider}"
        values = _values(_table(raw, provider, "webhooks."), _WEBHOOK_SPECS[provider], where, None)
        if provider == "ses":
            from bounceback.sources.webhooks.sns import SnsVerifier

            arns = values.get("topic_arns")
            settings.ses_verifier = SnsVerifier(
                topic_arns=frozenset(arns) if arns else None,
                **({"max_age": values["max_age"]} if "max_age" in values else {}),
            )
        elif provider == "postmark":
            if "user" not in values or "password" not in values:
                raise ConfigError(f"{where}: user and password are required")
            settings.postmark_user, settings.postmark_password = values["user"], values["password"]
        else:
            key = "public_key" if provider == "sendgrid" else "signing_key"
            if key not in values:
                raise ConfigError(f"{where}.{key}: required")
            setattr(settings, f"{provider}_{key}", values[key])
            if "max_age" in values:
                setattr(settings, f"{provider}_max_age", values["max_age"])
    return settings


def _values(raw: dict[str, Any], spec: _Spec, where: str, base: Path | None) -> dict[str, Any]:
    _known(raw, spec, where)
    out: dict[str, Any] = {}
    for key, value in raw.items():
        kind, at = spec[key], f"{where}.{key}"
        if isinstance(kind, tuple):
            if value not in kind:
                raise ConfigError(f"{at}: expected one of {', '.join(kind)}")
            out[key] = value
        elif kind == "str":
            out[key] = _str(value, at)
        elif kind == "int":
            out[key] = _int(value, at)
        elif kind == "float":
            out[key] = _float(value, at)
        elif kind == "bool":
            if not isinstance(value, bool):
                raise ConfigError(f"{at}: expected true or false")
            out[key] = value
        elif kind == "path":
            path = Path(_str(value, at)).expanduser()
            out[key] = path if path.is_absolute() or base is None else base / path
        elif kind == "str|strs" and isinstance(value, str):
            out[key] = value
        else:
            out[key] = _strs(value, at)
    return out


def _known(raw: dict[str, Any], spec: _Spec, where: str) -> None:
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
