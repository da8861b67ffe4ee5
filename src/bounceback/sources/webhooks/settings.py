"""Which webhook providers are on, with their credentials (``serve_config`` fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bounceback.sources.webhooks.mailgun_replay import DEFAULT_MAX_AGE, ReplayGuard, TokenStore
from bounceback.sources.webhooks.sns import Confirmer, SnsVerifier, default_confirmer

__all__ = ["WebhookSettings"]


@dataclass(slots=True)
class WebhookSettings:
    """Which providers are on, with their credentials. None: the endpoint is off."""

    ses_verifier: SnsVerifier | None = None
    ses_confirm: Confirmer = default_confirmer
    sendgrid_public_key: str | None = None
    sendgrid_max_age: float | None = None
    mailgun_signing_key: str | None = None
    mailgun_max_age: float = DEFAULT_MAX_AGE
    # Tokens used: in memory unless ``serve`` gives the database's (ledger.webhook_tokens).
    mailgun_tokens: TokenStore = field(default_factory=ReplayGuard)
    postmark_user: str | None = None
    postmark_password: str | None = None
