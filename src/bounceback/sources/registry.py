"""Every kind of ``[[sources.<kind>]]``: its config dataclass and what opens it.

``serve_config`` reads a kind's table against its config dataclass (the fields'
types decide the checks: ``sources.options``); ``serve`` opens it with the
registered callable. Adding a source is its module plus one line below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bounceback.config import ConfigError
from bounceback.sources.imap import ImapConfig, ImapSource
from bounceback.sources.logs import LineParser, LogConfig
from bounceback.sources.mailboxes import MailboxSource
from bounceback.sources.maildir import MaildirConfig, created
from bounceback.sources.mbox import MboxConfig, MboxSource
from bounceback.sources.pmta import PmtaCsv
from bounceback.sources.pop3 import Pop3Config, Pop3Source
from bounceback.sources.postfix_log import PostfixLog

__all__ = ["SOURCES", "Log", "Mailbox", "UnknownSource", "lookup"]

C = TypeVar("C")


@dataclass(frozen=True, slots=True)
class Mailbox(Generic[C]):
    """A mailbox polled for messages (``serve`` polls it every ``poll_interval``)."""

    config: type[C]
    open: Callable[[C], MailboxSource]


@dataclass(frozen=True, slots=True)
class Log(Generic[C]):
    """A log file tailed line by line; ``parser`` turns its lines into events."""

    config: type[C]
    parser: Callable[[C], LineParser]


SOURCES: dict[str, Mailbox[Any] | Log[Any]] = {
    "imap": Mailbox(ImapConfig, ImapSource),
    "pop3": Mailbox(Pop3Config, Pop3Source),
    "maildir": Mailbox(MaildirConfig, created),
    "mbox": Mailbox(MboxConfig, MboxSource),
    "pmta": Log(LogConfig, PmtaCsv.from_config),
    "postfix_log": Log(LogConfig, PostfixLog.from_config),
}


class UnknownSource(ConfigError):
    """A ``[[sources.<kind>]]`` no module registers: never read as some other kind."""


def lookup(kind: str) -> Mailbox[Any] | Log[Any]:
    """The registered kind; UnknownSource (a ConfigError) when there is none."""
    try:
        return SOURCES[kind]
    except KeyError:
        raise UnknownSource(f"sources.{kind}: unknown source kind") from None
