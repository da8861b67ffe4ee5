"""Which webhook providers are on (``serve_config`` fills it), and what they share.

Each provider's own settings are its module's ``Settings`` dataclass, built from its
``[webhooks.<name>]`` table by its ``configure``; this holds them by provider name
(absent: that endpoint is off, 404) next to what is no one provider's: where the
tokens of once-only requests are kept.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bounceback.sources.webhooks.mailgun_replay import ReplayGuard, TokenStore

__all__ = ["InMemoryTokens", "TokenStores", "WebhookSettings"]

TokenStores = Callable[[str], TokenStore]
"""The used-token store of a provider, by its name (``serve``: the database's)."""


class InMemoryTokens:
    """One in-memory ``ReplayGuard`` per provider: for tests and one-off use."""

    def __init__(self) -> None:
        self._stores: dict[str, ReplayGuard] = {}

    def __call__(self, provider: str) -> TokenStore:
        return self._stores.setdefault(provider, ReplayGuard())


@dataclass(slots=True)
class WebhookSettings:
    """The configured providers (name: that module's ``Settings``) and the token stores."""

    providers: dict[str, object] = field(default_factory=dict)
    # Tokens used: in memory unless ``serve`` gives the database's (ledger.webhook_tokens).
    tokens: TokenStores = field(default_factory=InMemoryTokens)
