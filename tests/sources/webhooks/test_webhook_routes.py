"""The FastAPI router: signed requests reach the sink, others get 401/403 and do not;
a failing sink answers 503 so the provider retries."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from webhook_payloads import POSTMARK_BOUNCE, SENDGRID_EVENTS, SES_BOUNCE, mailgun_failed
from webhook_signing import SendGridKeys, Sns

from bounceback.model import SourceEvent
from bounceback.sources.webhooks import mailgun, postmark, sendgrid, ses
from bounceback.sources.webhooks.routes import WebhookSettings, make_router
from bounceback.sources.webhooks.sns import SnsVerifier

MAILGUN_KEY = "key-routes-test"


class Sink:
    def __init__(self) -> None:
        self.batches: list[list[SourceEvent]] = []
        self.fail = False

    def __call__(self, events: list[SourceEvent]) -> None:
        if self.fail:
            raise RuntimeError("database down")
        self.batches.append(events)

    @property
    def keys(self) -> list[str]:
        return [e.key for batch in self.batches for e in batch]


@pytest.fixture
def sink() -> Sink:
    return Sink()


@pytest.fixture
def client(sink: Sink, sns: Sns, sendgrid_keys: SendGridKeys) -> TestClient:
    confirmed: list[str] = []
    settings = WebhookSettings(
        providers={
            "ses": ses.Settings(SnsVerifier(sns.fetch), confirm=confirmed.append),
            "sendgrid": sendgrid.Settings(sendgrid_keys.public_b64),
            "mailgun": mailgun.Settings(MAILGUN_KEY),
            "postmark": postmark.Settings(user="hook", password="s3cret"),
        }
    )
    app = FastAPI()
    app.include_router(make_router(settings, sink))
    return TestClient(app)


def mailgun_body(token: str = "tok-" + "1" * 46) -> bytes:
    ts = str(int(time.time()))
    sig = hmac.new(MAILGUN_KEY.encode(), (ts + token).encode(), hashlib.sha256).hexdigest()
    payload = {
        "signature": {"timestamp": ts, "token": token, "signature": sig},
        "event-data": mailgun_failed(),
    }
    return json.dumps(payload).encode()


def test_ses(client: TestClient, sink: Sink, sns: Sns) -> None:
    good = json.dumps(sns.notification(SES_BOUNCE)).encode()
    headers = {"x-amz-sns-message-type": "Notification", "content-type": "text/plain"}
    r = client.post("/webhooks/ses", content=good, headers=headers)
    assert r.status_code == 200 and r.json() == {"accepted": 1}
    bad: dict[str, Any] = json.loads(good)
    bad["Message"] = bad["Message"].replace("jane", "john")
    assert client.post("/webhooks/ses", content=json.dumps(bad)).status_code == 403
    del bad["Signature"]
    assert client.post("/webhooks/ses", content=json.dumps(bad)).status_code == 401
    assert client.post("/webhooks/ses", content=b"not json").status_code == 400
    assert sink.keys == ["ses:0101019a2b3c4d60-aaaa-bbbb-cccc-1234567890ab-000000"]


def test_sendgrid(client: TestClient, sink: Sink, sendgrid_keys: SendGridKeys) -> None:
    body = json.dumps(SENDGRID_EVENTS).encode()
    ts = str(int(time.time()))
    headers = {
        "X-Twilio-Email-Event-Webhook-Signature": sendgrid_keys.sign(ts, body),
        "X-Twilio-Email-Event-Webhook-Timestamp": ts,
        "content-type": "application/json",
    }
    assert client.post("/webhooks/sendgrid", content=body, headers=headers).json() == {
        "accepted": 6
    }
    assert client.post("/webhooks/sendgrid", content=body).status_code == 401
    tampered = body.replace(b"jane@", b"john@")
    assert client.post("/webhooks/sendgrid", content=tampered, headers=headers).status_code == 403
    assert len(sink.batches) == 1


def test_mailgun_replay(client: TestClient, sink: Sink) -> None:
    body = mailgun_body()
    assert client.post("/webhooks/mailgun", content=body).status_code == 200
    assert client.post("/webhooks/mailgun", content=body).status_code == 403  # replayed
    unsigned = json.dumps({"event-data": mailgun_failed()}).encode()
    assert client.post("/webhooks/mailgun", content=unsigned).status_code == 401
    assert len(sink.batches) == 1


def test_mailgun_retry_after_sink_failure_is_accepted(client: TestClient, sink: Sink) -> None:
    body = mailgun_body("tok-" + "2" * 46)
    sink.fail = True
    assert client.post("/webhooks/mailgun", content=body).status_code == 503
    sink.fail = False
    assert client.post("/webhooks/mailgun", content=body).status_code == 200
    assert len(sink.batches) == 1


def test_postmark(client: TestClient, sink: Sink) -> None:
    body = json.dumps(POSTMARK_BOUNCE).encode()
    auth = "Basic " + base64.b64encode(b"hook:s3cret").decode()
    wrong = "Basic " + base64.b64encode(b"hook:guess").decode()
    unauthenticated = client.post("/webhooks/postmark", content=body)
    assert unauthenticated.status_code == 401
    assert unauthenticated.headers["www-authenticate"].startswith("Basic")
    assert (
        client.post(
            "/webhooks/postmark", content=body, headers={"Authorization": wrong}
        ).status_code
        == 403
    )
    assert sink.batches == []
    r = client.post("/webhooks/postmark", content=body, headers={"Authorization": auth})
    assert r.status_code == 200
    assert sink.keys == ["postmark:bounce:4323372036854775807"]


def test_unconfigured_provider_is_404(sink: Sink) -> None:
    app = FastAPI()
    app.include_router(make_router(WebhookSettings(), sink))
    client = TestClient(app)
    for provider in ("ses", "sendgrid", "mailgun", "postmark"):
        assert client.post(f"/webhooks/{provider}", content=b"{}").status_code == 404


def test_oversized_body_is_refused(client: TestClient, sink: Sink) -> None:
    big = b"[" + b" " * (10 * 1024 * 1024 + 1) + b"]"
    assert client.post("/webhooks/sendgrid", content=big).status_code == 413
    assert sink.batches == []
