"""Mailgun webhooks: failed (permanent → bounce, temporary → delay), complained, delivered.

Mailgun puts the signature in the JSON body: ``signature.timestamp``,
``signature.token`` and ``signature.signature``, the hex HMAC-SHA256 of
``timestamp + token`` keyed with the webhook signing key. A timestamp outside the
window (default 9 hours, Mailgun's retry period) is refused, and so is a token
used before: the signature does not cover ``event-data``, so a token seen once could
otherwise carry any event. A token is claimed in a ``TokenStore`` (the database's
``webhook_tokens`` under ``serve``, which a restart does not empty) before its events
are handed on, and given back only when they could not be stored, so Mailgun's own
retry after a failure is still accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, SourceEvent
from bounceback.sources.records import build_report, digest, fallback_hint, now, parse_time
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, load_json, text
from bounceback.sources.webhooks.mailgun_replay import DEFAULT_MAX_AGE, TokenStore
from bounceback.sources.webhooks.provider import Received, WebhookKind

if TYPE_CHECKING:
    from bounceback.sources.webhooks.settings import WebhookSettings

SOURCE = "webhook:mailgun"
# Mailgun's ``reason`` for a failure: suppressions mean Mailgun did not try.
REASONS: dict[str, str] = {
    "suppress-bounce": "suppressed",
    "suppress-unsubscribe": "suppressed",
    "suppress-complaint": "suppressed",
    "old": "expired",
}
REASON_FALLBACKS: dict[str, str] = {"espblock": "blocked"}


MAX_TOKEN = 255  # Mailgun's are 50 characters; the column holds 255


def verify(
    payload: Mapping[str, Any],
    signing_key: str,
    *,
    max_age: float = DEFAULT_MAX_AGE,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> tuple[str, dt.datetime]:
    """Check the body's signature and age; return the token and when it may be
    forgotten (its timestamp leaves the window then). ``claim`` it before acting."""
    sig = payload.get("signature")
    if not isinstance(sig, dict):
        raise Unauthorized("Mailgun signature missing")
    timestamp, token, signature = (text(sig.get(k)) for k in ("timestamp", "token", "signature"))
    if not (timestamp and token and signature):
        raise Unauthorized("Mailgun signature incomplete")
    expected = hmac.new(
        signing_key.encode("utf-8"), (timestamp + token).encode("utf-8"), hashlib.sha256
    ).hexdigest()
    if not hmac.compare_digest(expected, signature.lower()):
        raise Forbidden("Mailgun signature does not verify")
    when = parse_time(timestamp)
    if when is None or abs((clock() - when).total_seconds()) > max_age:
        raise Forbidden("Mailgun timestamp outside the accepted window")
    if len(token) > MAX_TOKEN:
        raise Forbidden("Mailgun token too long")
    return token, when + dt.timedelta(seconds=max_age)


def claim(store: TokenStore, token: str, expires_at: dt.datetime) -> None:
    """Use the token once: Forbidden when it was used before."""
    if not store.claim(token, expires_at):
        raise Forbidden("Mailgun token replayed")


def parse(body: bytes) -> dict[str, Any]:
    payload = load_json(body)
    if not isinstance(payload, dict):
        raise BadRequest("Mailgun posts a JSON object")
    return payload


def events(payload: Mapping[str, Any]) -> list[SourceEvent]:
    """The event in a verified payload; [] for events about anything but delivery."""
    data = payload.get("event-data")
    if not isinstance(data, dict):
        raise BadRequest("Mailgun payload without event-data")
    name = text(data.get("event"))
    recipient = text(data.get("recipient"))
    if name not in ("failed", "complained", "delivered") or not recipient:
        return []
    status = _obj(data.get("delivery-status"))
    rec = DeliveryRecord(recipient=recipient)
    fallback = ""
    kind: Kind
    if name == "failed":
        permanent = text(data.get("severity")) != "temporary"
        kind = Kind.BOUNCE if permanent else Kind.DELAY
        rec.action = "failed" if permanent else "delayed"
        _fill_status(rec, status)
        reason = text(data.get("reason"))
        rec.reason_hint = REASONS.get(reason, "")
        fallback = REASON_FALLBACKS.get(reason, "")
    elif name == "complained":
        kind = Kind.COMPLAINT
        rec.feedback_type = "abuse"
        rec.reason_hint = "feedback"
    else:
        kind = Kind.DELIVERED
        rec.action = "delivered"
        _fill_status(rec, status)
    message = _obj(data.get("message"))
    headers = _obj(message.get("headers"))
    variables = _obj(data.get("user-variables"))
    message_id = text(headers.get("message-id"))
    if message_id and not message_id.startswith("<"):
        message_id = f"<{message_id}>"
    envelope = _obj(data.get("envelope"))
    original = OriginalMessage(
        message_id=message_id,
        subject=text(headers.get("subject")),
        from_=text(headers.get("from")),
        to=text(headers.get("to")),
        return_path=text(envelope.get("sender")),
        bounceback_id=text(variables.get("bounceback_id")),
    )
    report = build_report(
        SOURCE, [rec], kind=kind, original=original, return_path=original.return_path
    )
    fallback_hint(report, fallback)
    ident = text(data.get("id")) or digest(repr(sorted(data.items(), key=lambda kv: kv[0])))
    meta = {"event": name}
    for key in ("severity", "reason", "log-level"):
        if data.get(key):
            meta[key.replace("-", "_")] = text(data.get(key))
    when = parse_time(data.get("timestamp")) or now()
    return [SourceEvent(report, f"mailgun:{ident}", SOURCE, f"mailgun:{ident}", when, meta)]


def _fill_status(rec: DeliveryRecord, status: Mapping[str, Any]) -> None:
    code = text(status.get("code"))
    rec.reply_code = code if code[:1] in ("2", "4", "5") and len(code) == 3 else ""
    rec.status = text(status.get("enhanced-code"))
    rec.diagnostic = text(status.get("message")) or text(status.get("description"))
    rec.remote_mta = text(status.get("mx-host"))


def _obj(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, dict) else {}


class Provider:
    """``POST /webhooks/mailgun``: one event per body, HMAC-signed, each token used
    once (a WebhookProvider)."""

    name, title, challenge = "mailgun", "Mailgun", ""

    def __init__(self, settings: Settings | None, hooks: WebhookSettings) -> None:
        self.signing_key = settings.signing_key if settings else None
        self.max_age = settings.max_age if settings else DEFAULT_MAX_AGE
        self.tokens = hooks.tokens(self.name)

    @property
    def enabled(self) -> bool:
        return bool(self.signing_key)

    def authenticate(self, headers: Mapping[str, str]) -> None:
        """The signature is in the body: ``receive`` checks it."""

    def receive(self, headers: Mapping[str, str], body: bytes) -> Received:
        assert self.signing_key  # the routes ask only an enabled provider
        payload = parse(body)
        token, expires_at = verify(payload, self.signing_key, max_age=self.max_age)
        return Received(events(payload), once=_TokenOnce(self.tokens, token, expires_at))


class _TokenOnce:
    """One body's token: claimed before its events go anywhere, given back when they
    could not be stored (so Mailgun's retry gets through)."""

    def __init__(self, store: TokenStore, token: str, expires_at: dt.datetime) -> None:
        self.store, self.token, self.expires_at = store, token, expires_at

    def claim(self) -> None:
        claim(self.store, self.token, self.expires_at)

    def release(self) -> None:
        self.store.release(self.token)


@dataclass(slots=True)
class Options:
    """``[webhooks.mailgun]``: the HTTP webhook signing key, the window for timestamps."""

    signing_key: str
    max_age: float | None = None


@dataclass(slots=True)
class Settings:
    """What the endpoint runs with: the signing key and the window for timestamps."""

    signing_key: str
    max_age: float = DEFAULT_MAX_AGE


def configure(options: Options) -> Settings:
    if options.max_age is None:
        return Settings(options.signing_key)
    return Settings(options.signing_key, options.max_age)


KIND = WebhookKind("mailgun", Options, Settings, configure, Provider, order=30)
