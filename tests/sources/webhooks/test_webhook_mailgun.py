"""Mailgun: HMAC-SHA256 of timestamp + token, age window, replayed tokens, events."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import pytest
from webhook_payloads import mailgun_failed

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, mailgun
from bounceback.sources.webhooks.mailgun_replay import ReplayGuard

KEY = "key-3ax6xnjp29jd6fds4gc373sgvjxteol0"
NOW = dt.datetime(2026, 11, 20, 9, 15, tzinfo=dt.UTC)


def signed(
    event: dict[str, Any], token: str = "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
) -> dict[str, Any]:
    timestamp = str(int(NOW.timestamp()) - 5)
    signature = hmac.new(KEY.encode(), (timestamp + token).encode(), hashlib.sha256).hexdigest()
    return {
        "signature": {"timestamp": timestamp, "token": token, "signature": signature},
        "event-data": event,
    }


def verify(payload: dict[str, Any], **kw: Any) -> str:
    token, _ = mailgun.verify(payload, KEY, clock=lambda: NOW, **kw)
    return token


def test_valid_signature_returns_token_and_its_expiry() -> None:
    token, expires = mailgun.verify(signed(mailgun_failed()), KEY, clock=lambda: NOW)
    assert token == "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
    # Kept until its timestamp (NOW - 5 s) leaves the 9-hour window.
    assert expires == NOW - dt.timedelta(seconds=5) + dt.timedelta(hours=9)


def test_wrong_or_missing_signature() -> None:
    payload = signed(mailgun_failed())
    with pytest.raises(Forbidden):
        mailgun.verify(payload, "another-key", clock=lambda: NOW)
    payload["signature"]["token"] = "b" * 50
    with pytest.raises(Forbidden):
        verify(payload)
    with pytest.raises(Unauthorized):
        verify({"event-data": mailgun_failed()})
    with pytest.raises(Unauthorized):
        verify({"signature": {"timestamp": "1", "token": "t"}, "event-data": {}})


def test_old_timestamp_refused() -> None:
    payload = signed(mailgun_failed())
    # Mailgun's retries within its 8-hour schedule pass...
    retry = NOW + dt.timedelta(hours=8)
    mailgun.verify(payload, KEY, clock=lambda: retry)
    # ...a day-old request does not, nor one outside a stricter configured window.
    later = NOW + dt.timedelta(days=1)
    with pytest.raises(Forbidden, match="window"):
        mailgun.verify(payload, KEY, clock=lambda: later)
    with pytest.raises(Forbidden, match="window"):
        mailgun.verify(payload, KEY, clock=lambda: retry, max_age=900)


def test_a_token_is_claimed_once() -> None:
    store = ReplayGuard()
    later = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)
    mailgun.claim(store, "a" * 50, later)
    with pytest.raises(Forbidden, match="replayed"):
        mailgun.claim(store, "a" * 50, later)
    store.release("a" * 50)  # its events were not stored: the provider's retry may use it
    mailgun.claim(store, "a" * 50, later)
    mailgun.claim(store, "c" * 50, later)  # a new token is fine
    # An expired entry is forgotten (its timestamp fails the window check anyway).
    mailgun.claim(store, "d" * 50, dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1))
    mailgun.claim(store, "d" * 50, later)


def test_an_overlong_token_is_refused() -> None:
    with pytest.raises(Forbidden, match="too long"):
        verify(signed(mailgun_failed(), token="t" * 300))


def test_permanent_failure() -> None:
    [event] = mailgun.events(signed(mailgun_failed()))
    assert event.key == "mailgun:G9Bn5sl1TC6nu79C8C0bwgpbou"
    assert event.report.kind == Kind.BOUNCE
    rec = event.report.records[0]
    assert (rec.recipient, rec.status, rec.reply_code, rec.remote_mta) == (
        "jane@example.com",
        "5.1.1",
        "550",
        "mx.example.com",
    )
    original = event.report.original
    assert original.message_id == "<20261120091358.42@news.example.org>"
    assert original.bounceback_id == "bb-42"
    assert event.report.delivered_to == ["bounces+ab12@news.example.org"]
    [b] = classify(event.report)
    assert (b.reason, b.hardbounce) == ("userunknown", True)


def test_temporary_failure_is_a_delay() -> None:
    [event] = mailgun.events(signed(mailgun_failed("temporary")))
    assert event.report.kind == Kind.DELAY
    [b] = classify(event.report)
    assert (b.reason, b.hardbounce, b.permanent) == ("mailboxfull", False, False)


def test_suppressed_and_blocked_reasons() -> None:
    [sup] = mailgun.events(signed(mailgun_failed(reason="suppress-bounce")))
    assert classify(sup.report)[0].reason == "suppressed"
    event = mailgun_failed(reason="espblock")
    event["delivery-status"] = {"code": 605, "message": "", "description": "Not delivering"}
    [esp] = mailgun.events(signed(event))
    assert esp.report.records[0].reply_code == ""  # 605 is Mailgun's, not SMTP
    assert classify(esp.report)[0].reason == "blocked"


def test_complained_and_delivered() -> None:
    base = mailgun_failed()
    complained = {
        k: v for k, v in base.items() if k not in ("delivery-status", "severity", "reason")
    }
    complained.update(event="complained", id="c-1")
    [c] = mailgun.events(signed(complained))
    assert c.report.kind == Kind.COMPLAINT and classify(c.report)[0].reason == "feedback"
    delivered = {**base, "event": "delivered", "id": "d-1", "log-level": "info"}
    delivered["delivery-status"] = {"code": 250, "message": "OK", "mx-host": "mx.example.com"}
    [d] = mailgun.events(signed(delivered))
    assert d.report.kind == Kind.DELIVERED and classify(d.report)[0].reason == "delivered"


def test_other_events_ignored_and_garbage_refused() -> None:
    assert mailgun.events(signed({"event": "opened", "recipient": "a@example.com"})) == []
    with pytest.raises(BadRequest):
        mailgun.events({"signature": {}})
    with pytest.raises(BadRequest):
        mailgun.parse(b"[1, 2]")
