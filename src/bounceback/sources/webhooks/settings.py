"""Which webhook providers are on, with their credentials (``serve_config`` fills it)."""

from __future__ import annotations

from dataclasses import dataclass, field

from bounceback.sources.webhooks import mailgun, ses
from bounceback.sources.webhooks.sns import SnsVerifier

__all__ = ["WebhookSettings"]


@dataclass(slots=True)
class WebhookSettings:
    """Which providers are on, with their credentials. None: the endpoint is off."""

    ses_verifier: SnsVerifier | None = None
    ses_confirm: ses.Confirmer = ses.default_confirmer
    sendgrid_public_key: str | None = None
    sendgrid_max_age: float | None = None
    mailgun_signing_key: str | None = None
    mailgun_max_age: float = mailgun.DEFAULT_MAX_AGE
    # Tokens used: in memory unless ``serve`` gives the database's (ledger.webhook_tokens).
    mailgun_tokens: mailgun.TokenStore = field(default_factory=mailgun.ReplayGuard)
    postmark_user: str | None = None
    postmark_password: str | None = None
