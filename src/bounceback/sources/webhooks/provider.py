"""What an ESP webhook is to the routes (``WebhookProvider``) and to the config
file (``WebhookKind``: its ``[webhooks.<name>]`` table, read like a source's).

A provider is one module of this package with a ``KIND`` (``routes.PROVIDERS``
finds them by import): its ``Options`` (the table), its ``Settings`` (what
``configure`` makes of the table) and its ``Provider``, built from those settings
(None when the table is absent) and the shared ``WebhookSettings``. It says, for
``POST /webhooks/<name>``: whether it is configured at all (no: 404),
how a request proves who sent it (``authenticate`` on the headers, before any of
the body is read; ``receive`` checks what needs the body, like a signature over
it) and what the body's events are. ``receive`` raises a ``WebhookError`` to
refuse the request with its status. The routes do the rest, for every provider
alike: the body limit, the answers, handing events to the sink.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, Protocol, TypeVar

from bounceback.sources import SourceError, SourceEvent

if TYPE_CHECKING:
    from bounceback.sources.webhooks.settings import WebhookSettings

__all__ = ["Once", "Received", "WebhookKind", "WebhookProvider"]

Table = TypeVar("Table")
Config = TypeVar("Config")


class Once(Protocol):
    """A replay guard for one request: ``claim`` before its events are stored
    (a ``WebhookError`` when already used), ``release`` if they could not be."""

    def claim(self) -> None: ...

    def release(self) -> None: ...


@dataclass(slots=True)
class Received:
    """What a verified request carries."""

    events: list[SourceEvent]
    skipped: list[SourceError] = field(default_factory=list)  # logged, not fatal
    once: Once | None = None


class WebhookProvider(Protocol):
    """One ESP's endpoint, configured or not."""

    @property
    def name(self) -> str:
        """The path segment: ``POST /webhooks/<name>``."""
        ...

    @property
    def title(self) -> str:
        """The provider as people write it, for "<title> webhook not configured"."""
        ...

    @property
    def enabled(self) -> bool:
        """False: the settings do not configure it, and the endpoint answers 404."""
        ...

    @property
    def challenge(self) -> str:
        """The WWW-Authenticate value sent with a 401 ("" for none)."""
        ...

    def authenticate(self, headers: Mapping[str, str]) -> None:
        """Check credentials carried in the headers, before the body is read."""
        ...

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        """Verify the body (signatures) and turn it into events (run in a thread)."""
        ...


@dataclass(frozen=True, slots=True)
class WebhookKind(Generic[Table, Config]):
    """One provider, as its module registers it (``KIND``, found by ``routes.PROVIDERS``)."""

    name: str  # [webhooks.<name>] and POST /webhooks/<name>
    options: type[Table]  # its table as a dataclass: keys and checks from the fields
    settings: type[Config]  # what the provider runs with
    configure: Callable[[Table], Config]  # the table into its settings
    # Its settings (None: not configured, the endpoint answers 404) and the shared ones.
    provider: Callable[[Config | None, WebhookSettings], WebhookProvider]
    order: int = 100  # where it is listed (lower first, then by name)


AnyKind = WebhookKind[Any, Any]
