"""SNS over HTTP: stale or future messages are refused even when validly signed, cheap
checks come before any certificate fetch, and failed fetches are not repeated at once."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from webhook_payloads import SES_BOUNCE
from webhook_signing import CERT_URL, TOPIC, Sns, sns_time

from bounceback.model import SourceEvent
from bounceback.sources.webhooks import ses
from bounceback.sources.webhooks.routes import WebhookSettings, make_router
from bounceback.sources.webhooks.sns import SnsVerifier

OTHER_CERT = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-0123abcd.pem"


def client_for(fetch: Callable[[str], bytes], **verifier: Any) -> tuple[TestClient, list[Any]]:
    stored: list[list[SourceEvent]] = []
    settings = WebhookSettings(providers={"ses": ses.Settings(SnsVerifier(fetch, **verifier))})
    app = FastAPI()
    app.include_router(make_router(settings, stored.append))
    return TestClient(app), stored


def post(client: TestClient, message: dict[str, Any]) -> int:
    return client.post("/webhooks/ses", content=json.dumps(message)).status_code


def test_a_validly_signed_old_message_is_refused(sns: Sns) -> None:
    client, stored = client_for(sns.fetch)
    old = sns.notification(SES_BOUNCE, Timestamp="2015-06-01T10:00:00.000Z")
    assert post(client, old) == 403
    an_hour_ahead = sns.notification(SES_BOUNCE, Timestamp=sns_time(dt.timedelta(hours=1)))
    assert post(client, an_hour_ahead) == 403
    assert stored == [] and sns.fetched == []  # refused before any fetch
    # A retry within the hour, and a clock a little ahead, are fine.
    assert (
        post(client, sns.notification(SES_BOUNCE, Timestamp=sns_time(-dt.timedelta(minutes=50))))
        == 200
    )
    assert (
        post(client, sns.notification(SES_BOUNCE, Timestamp=sns_time(dt.timedelta(minutes=2))))
        == 200
    )
    assert len(stored) == 2


def test_the_window_is_configurable(sns: Sns) -> None:
    client, _ = client_for(sns.fetch, max_age=60)
    late = sns.notification(SES_BOUNCE, Timestamp=sns_time(-dt.timedelta(minutes=5)))
    assert post(client, late) == 403


@pytest.mark.parametrize(
    "forge",
    [
        {"Type": "Surprise"},
        {"TopicArn": "arn:aws:sns:us-west-2:999999999999:not-ours"},
        {"SigningCertURL": "https://sns.us-west-2.amazonaws.com/anything.pem"},
        {"SigningCertURL": "https://sns.us-west-2.amazonaws.com.evil.example/x.pem"},
        {"Timestamp": "yesterday"},
    ],
)
def test_forgeries_are_refused_without_a_fetch(sns: Sns, forge: dict[str, str]) -> None:
    client, stored = client_for(sns.fetch, topic_arns=frozenset({TOPIC}))
    message = {**sns.notification(SES_BOUNCE), **forge}
    assert post(client, message) == 403
    assert sns.fetched == [] and stored == []


def test_a_failed_fetch_is_remembered(sns: Sns) -> None:
    tried: list[str] = []

    def fetch(url: str) -> bytes:
        tried.append(url)
        if url == CERT_URL:
            return sns.fetch(url)
        raise urllib.error.URLError("connection refused")

    client, _ = client_for(fetch)
    forged = {**sns.notification(SES_BOUNCE), "SigningCertURL": OTHER_CERT}
    # The network failed: 503, so a real SNS delivery would be tried again later...
    assert [post(client, forged) for _ in range(3)] == [503, 503, 503]
    assert tried == [OTHER_CERT]  # ...but forged requests do not fetch each time
    assert post(client, sns.notification(SES_BOUNCE)) == 200  # other URLs unaffected


def test_a_certificate_amazon_refuses_is_a_403(sns: Sns) -> None:
    def fetch(url: str) -> bytes:
        raise urllib.error.HTTPError(url, 404, "Not Found", {}, None)  # type: ignore[arg-type]

    client, _ = client_for(fetch)
    assert post(client, {**sns.notification(SES_BOUNCE), "SigningCertURL": OTHER_CERT}) == 403
