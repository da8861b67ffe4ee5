"""Mailgun webhooks: failed (permanent → bounce, temporary → delay), complained, delivered.

Mailgun puts the signature in the JSON body: ``signature.timestamp``,
``signature.token`` and ``signature.signature``, the hex HMAC-SHA256 of
``timestamp + token`` keyed with the webhook signing key. A timestamp outside the
window (default 9 hours, Mailgun's retry period) is refused, and so is a token
seen before (``ReplayGuard``); the token is remembered only once the events are
safely stored, so Mailgun's own retry after a failure is still accepted.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

from bounceback.model import DeliveryRecord, Kind, OriginalMessage
from bounceback.sources import SourceEvent
from bounceback.sources.records import build_report, digest, fallback_hint, now, parse_time
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, load_json, text

SOURCE = "webhook:mailgun"
# Mailgun retries a failed delivery for 8 hours, and retries are reported to carry
# the original signature: a shorter window would turn a database outage into lost
# events. Replays inside the window are stopped by the token guard (and, across
# processes, by the ledger's idempotency keys).
DEFAULT_MAX_AGE = 9 * 3600.0

# Mailgun's ``reason`` for a failure: suppressions mean Mailgun did not try.
REASONS: dict[str, str] = {
    "suppress-bounce": "suppressed",
    "suppress-unsubscribe": "suppressed",
    "suppress-complaint": "suppressed",
    "old": "expired",
}
REASON_FALLBACKS: dict[str, str] = {"espblock": "blocked"}


class ReplayGuard:
    """Tokens seen within the accepted age window (in memory, bounded)."""

    def __init__(self, max_age: float = DEFAULT_MAX_AGE, max_tokens: int = 100_000) -> None:
        self.max_age = max_age
        self.max_tokens = max_tokens
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._lock = threading.Lock()

    def seen(self, token: str) -> bool:
        with self._lock:
            self._expire()
            return token in self._seen

    def remember(self, token: str) -> None:
        with self._lock:
            self._seen[token] = time.monotonic()
            self._seen.move_to_end(token)
            while len(self._seen) > self.max_tokens:
                self._seen.popitem(last=False)

    def _expire(self) -> None:
        # Twice the window: a token older than that fails the timestamp check anyway.
        limit = time.monotonic() - 2 * self.max_age
        while self._seen and next(iter(self._seen.values())) < limit:
            self._seen.popitem(last=False)


def verify(
    payload: Mapping[str, Any],
    signing_key: str,
    *,
    guard: ReplayGuard | None = None,
    max_age: float = DEFAULT_MAX_AGE,
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> str:
    """Check the body's signature; return the token (to remember once stored)."""
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
    if guard is not None and guard.seen(token):
        raise Forbidden("Mailgun token replayed")
    return token


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
