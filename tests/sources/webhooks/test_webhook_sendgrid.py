"""SendGrid signed Event Webhook: ECDSA over timestamp + body; the six event kinds."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from webhook_payloads import SENDGRID_EVENTS
from webhook_signing import SendGridKeys

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources import SourceError
from bounceback.sources.webhooks import Forbidden, Unauthorized, sendgrid

TIMESTAMP = "1763630050"
BODY = json.dumps(SENDGRID_EVENTS).encode()


def test_valid_signature(sendgrid_keys: SendGridKeys) -> None:
    key = sendgrid.load_public_key(sendgrid_keys.public_b64)
    sendgrid.verify(key, BODY, sendgrid_keys.sign(TIMESTAMP, BODY), TIMESTAMP)


def test_pem_key_accepted(sendgrid_keys: SendGridKeys) -> None:
    pem = "-----BEGIN PUBLIC KEY-----\n" + sendgrid_keys.public_b64 + "\n-----END PUBLIC KEY-----\n"
    key = sendgrid.load_public_key(pem)
    sendgrid.verify(key, BODY, sendgrid_keys.sign(TIMESTAMP, BODY), TIMESTAMP)


def test_wrong_signatures(sendgrid_keys: SendGridKeys) -> None:
    key = sendgrid.load_public_key(sendgrid_keys.public_b64)
    good = sendgrid_keys.sign(TIMESTAMP, BODY)
    with pytest.raises(Unauthorized):
        sendgrid.verify(key, BODY, None, TIMESTAMP)
    with pytest.raises(Unauthorized):
        sendgrid.verify(key, BODY, good, None)
    with pytest.raises(Forbidden):  # body changed
        sendgrid.verify(key, BODY.replace(b"jane", b"john"), good, TIMESTAMP)
    with pytest.raises(Forbidden):  # timestamp changed
        sendgrid.verify(key, BODY, good, "1763630051")
    with pytest.raises(Forbidden):
        sendgrid.verify(key, BODY, "not base64!", TIMESTAMP)


def test_optional_age_limit(sendgrid_keys: SendGridKeys) -> None:
    key = sendgrid.load_public_key(sendgrid_keys.public_b64)
    sig = sendgrid_keys.sign(TIMESTAMP, BODY)
    at = dt.datetime.fromtimestamp(int(TIMESTAMP), dt.UTC)
    sendgrid.verify(key, BODY, sig, TIMESTAMP, max_age=300, clock=lambda: at)
    later = at + dt.timedelta(hours=1)
    with pytest.raises(Forbidden, match="old"):
        sendgrid.verify(key, BODY, sig, TIMESTAMP, max_age=300, clock=lambda: later)


def test_bad_key_config() -> None:
    with pytest.raises(ValueError):
        sendgrid.load_public_key("bm90IGEga2V5")


def test_events_and_reasons() -> None:
    events, errors = sendgrid.parse(BODY)
    assert errors == []
    got = {
        e.report.records[0].recipient: (e.report.kind, b.reason, b.hardbounce)
        for e in events
        for b in classify(e.report)
    }
    # The deferral's reason is the classifier's call (Gmail's 4.2.1 "too quickly");
    # here only that it is a soft delay.
    assert got.pop("slow@example.com")[::2] == (Kind.DELAY, False)
    assert got == {
        "jane@example.com": (Kind.BOUNCE, "userunknown", True),
        "joe@example.net": (Kind.BOUNCE, "blocked", False),
        "gone@example.org": (Kind.BOUNCE, "suppressed", False),
        "ok@example.com": (Kind.DELIVERED, "delivered", False),
        "angry@example.com": (Kind.COMPLAINT, "feedback", False),
    }  # the "open" event is not about delivery: skipped


def test_event_fields() -> None:
    events, _ = sendgrid.parse(BODY)
    jane = events[0]
    assert jane.key == "sendgrid:Ym91bmNlLTAtMTIzNDU2Nzg5MA"
    assert jane.source == "webhook:sendgrid"
    assert jane.report.original.message_id == "<20261120091358.42@news.example.org>"
    assert jane.report.original.bounceback_id == "bb-42"
    assert jane.meta["sg_message_id"].startswith("14c5d75ce93")
    assert jane.received_at == dt.datetime.fromtimestamp(1763630042, dt.UTC)
    rec = jane.report.records[0]
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")


def test_bad_items_reported_not_fatal() -> None:
    body = json.dumps([1, {"event": "bounce", "sg_event_id": "x"}, SENDGRID_EVENTS[0]]).encode()
    events, errors = sendgrid.parse(body)
    assert len(events) == 1
    assert [e.error for e in errors] == ["event is not an object", "bounce event without an email"]


def test_classification_only_fills_gaps() -> None:
    vague = {**SENDGRID_EVENTS[0], "reason": "Bounced", "status": ""}
    event = sendgrid.event_of(vague)
    assert not isinstance(event, SourceError) and event is not None
    assert classify(event.report)[0].reason == "userunknown"  # from "Invalid Address"
    clear = {**vague, "reason": "552 5.2.2 Mailbox full", "status": "5.2.2"}
    event = sendgrid.event_of(clear)
    assert not isinstance(event, SourceError) and event is not None
    assert classify(event.report)[0].reason == "mailboxfull"  # the SMTP text wins
