"""Amazon SES via SNS: signatures (v1 SHA1, v2 SHA256), certificate URL rules,
subscription confirmation, and the SES bounce/complaint/delivery/delay events."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from webhook_payloads import SES_BOUNCE, SES_COMPLAINT, SES_DELAY, SES_DELIVERY, SES_SUPPRESSED
from webhook_signing import CERT_URL, TOPIC, Sns, sns_time

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources.webhooks import BadRequest, Forbidden, Unauthorized, ses
from bounceback.sources.webhooks.sns import SnsVerifier, is_sns_url, string_to_sign


def body(message: dict[str, Any]) -> bytes:
    return json.dumps(message).encode()


@pytest.mark.parametrize("version", ["1", "2"])
def test_signed_bounce_notification(sns: Sns, version: str) -> None:
    verifier = SnsVerifier(sns.fetch)
    [event] = ses.handle(body(sns.notification(SES_BOUNCE, version)), verifier)
    assert event.source == "webhook:ses" and event.report.detector == "webhook:ses"
    assert event.key == "ses:0101019a2b3c4d60-aaaa-bbbb-cccc-1234567890ab-000000"
    assert event.report.kind == Kind.BOUNCE
    jane, _joe = event.report.records
    assert (jane.recipient, jane.status, jane.reply_code) == ("jane@example.com", "5.1.1", "550")
    assert jane.diagnostic.startswith("550 5.1.1 <jane@example.com>")
    assert jane.smtp_command == ""
    assert jane.reporting_mta == "a8-12.smtp-out.us-west-2.amazonses.com"
    assert jane.remote_mta == "192.0.2.25"
    original = event.report.original
    assert original.message_id == "<20261120091358.42@news.example.org>"
    assert original.bounceback_id == "bb-42"
    assert original.subject == "November news"
    assert event.meta["bounce_sub_type"] == "General"
    assert event.received_at == dt.datetime(2026, 11, 20, 9, 14, 2, tzinfo=dt.UTC)
    reasons = {b.recipient: (b.reason, b.hardbounce) for b in classify(event.report)}
    assert reasons == {
        "jane@example.com": ("userunknown", True),
        "joe@example.net": ("mailboxfull", False),
    }


def test_certificate_fetched_once_and_cached(sns: Sns) -> None:
    verifier = SnsVerifier(sns.fetch)
    for _ in range(3):
        ses.handle(body(sns.notification(SES_BOUNCE)), verifier)
    assert sns.fetched == [CERT_URL]


def test_subject_is_part_of_the_signed_text(sns: Sns) -> None:
    signed = sns.notification(SES_COMPLAINT, Subject="Amazon SES Email Event Notification")
    assert b"Subject\nAmazon SES Email Event Notification\n" in string_to_sign(signed)
    [event] = ses.handle(body(signed), SnsVerifier(sns.fetch))
    assert event.report.kind == Kind.COMPLAINT
    signed["Subject"] = "changed"
    with pytest.raises(Forbidden):
        ses.handle(body(signed), SnsVerifier(sns.fetch))


def test_tampered_message_is_refused(sns: Sns) -> None:
    signed = sns.notification(SES_BOUNCE)
    signed["Message"] = signed["Message"].replace("jane@example.com", "ceo@example.com")
    with pytest.raises(Forbidden, match="does not verify"):
        ses.handle(body(signed), SnsVerifier(sns.fetch))


def test_unsigned_message_is_unauthorized(sns: Sns) -> None:
    signed = sns.notification(SES_BOUNCE)
    del signed["Signature"]
    with pytest.raises(Unauthorized):
        ses.handle(body(signed), SnsVerifier(sns.fetch))


def test_signature_from_another_key_is_refused(sns: Sns, make_cert: Callable[..., bytes]) -> None:
    from cryptography.hazmat.primitives.asymmetric import rsa

    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    verifier = SnsVerifier(Sns(other, {CERT_URL: make_cert(other)}).fetch)
    with pytest.raises(Forbidden):
        ses.handle(body(sns.notification(SES_BOUNCE)), verifier)


def test_expired_certificate_is_refused(sns: Sns) -> None:
    year = dt.timedelta(days=365)
    later = dt.datetime.now(dt.UTC) + year
    verifier = SnsVerifier(sns.fetch, clock=lambda: later)
    fresh_then = sns.notification(SES_BOUNCE, Timestamp=sns_time(year))
    with pytest.raises(Forbidden, match="not valid"):
        ses.handle(body(fresh_then), verifier)


@pytest.mark.parametrize(
    "url",
    [
        "http://sns.us-west-2.amazonaws.com/cert.pem",
        "https://sns.us-west-2.amazonaws.com.evil.example/cert.pem",
        "https://evil.example/sns.us-west-2.amazonaws.com/cert.pem",
        "https://sns.us-west-2.amazonaws.com@evil.example/cert.pem",
        "https://s3.amazonaws.com/sns/cert.pem",
        "https://sns.us-west-2.amazonaws.com:8443/cert.pem",
    ],
)
def test_certificate_only_from_sns_hosts(sns: Sns, url: str) -> None:
    assert not is_sns_url(url)
    signed = sns.notification(SES_BOUNCE)
    signed["SigningCertURL"] = url
    fetched: list[str] = []

    def fetch(u: str) -> bytes:
        fetched.append(u)
        return b""

    verifier = SnsVerifier(fetch)
    with pytest.raises(Forbidden):
        ses.handle(body(signed), verifier)
    assert fetched == []  # refused before any fetch


def test_sns_hosts_accepted() -> None:
    assert is_sns_url(CERT_URL)
    assert is_sns_url("https://sns.cn-north-1.amazonaws.com.cn/x.pem")


def test_topic_allow_list(sns: Sns) -> None:
    verifier = SnsVerifier(sns.fetch, topic_arns=frozenset({"arn:aws:sns:eu-west-1:1:other"}))
    with pytest.raises(Forbidden, match="topic"):
        ses.handle(body(sns.notification(SES_BOUNCE)), verifier)
    ok = SnsVerifier(sns.fetch, topic_arns=frozenset({TOPIC}))
    assert ses.handle(body(sns.notification(SES_BOUNCE)), ok)


def subscription(sns: Sns, url: str) -> dict[str, Any]:
    return sns.sign(
        {
            "Type": "SubscriptionConfirmation",
            "MessageId": "165545c9-2a5c-472c-8df2-7ff2be2b3b1b",
            "Token": "2336412f37fb687f5d51e6e241d09c805a5a57b30d712f794cc5f6a988666d92768dd60a",
            "TopicArn": TOPIC,
            "Message": "You have chosen to subscribe to the topic " + TOPIC + ".\n"
            "To confirm the subscription, visit the SubscribeURL included in this message.",
            "SubscribeURL": url,
            "Timestamp": sns_time(),
        },
        "2",
    )


def test_subscription_is_confirmed(sns: Sns) -> None:
    url = (
        "https://sns.us-west-2.amazonaws.com/?Action=ConfirmSubscription&TopicArn="
        + TOPIC
        + "&Token=2336412f37fb687f"
    )
    confirmed: list[str] = []
    events = ses.handle(body(subscription(sns, url)), SnsVerifier(sns.fetch), confirmed.append)
    assert events == [] and confirmed == [url]


def test_subscription_to_a_foreign_url_is_not_followed(sns: Sns) -> None:
    confirmed: list[str] = []
    message = subscription(sns, "https://evil.example/confirm")
    with pytest.raises(Forbidden):
        ses.handle(body(message), SnsVerifier(sns.fetch), confirmed.append)
    assert confirmed == []


def test_event_publishing_shape_and_suppression(sns: Sns) -> None:
    [event] = ses.handle(body(sns.notification(SES_SUPPRESSED, "2")), SnsVerifier(sns.fetch))
    assert event.report.original.bounceback_id == "bb-7"  # from the message tags
    [bounce] = classify(event.report)
    assert (bounce.recipient, bounce.reason, bounce.rule) == (
        "old@example.org",
        "suppressed",
        "format:webhook:ses",
    )


def test_complaint_delivery_and_delay() -> None:
    [complaint] = ses.events(SES_COMPLAINT)
    assert complaint.report.kind == Kind.COMPLAINT
    assert complaint.report.records[0].feedback_type == "abuse"
    assert complaint.meta["user_agent"] == "Yahoo!-Mail-Feedback/2.0"
    assert classify(complaint.report)[0].reason == "feedback"

    [delivery] = ses.events(SES_DELIVERY)
    assert delivery.report.kind == Kind.DELIVERED
    assert delivery.key.startswith("ses:delivery:")
    assert [b.reason for b in classify(delivery.report)] == ["delivered"]

    [delay] = ses.events(SES_DELAY)
    assert delay.report.kind == Kind.DELAY
    [b] = classify(delay.report)
    assert (b.reason, b.hardbounce) == ("mailboxfull", False)


def test_keys_differ_per_event_and_repeat_per_replay() -> None:
    keys = [ses.events(p)[0].key for p in (SES_BOUNCE, SES_SUPPRESSED, SES_COMPLAINT, SES_DELIVERY)]
    assert len(set(keys)) == 4
    assert ses.events(SES_BOUNCE)[0].key == keys[0]


def test_other_notifications_are_ignored(sns: Sns) -> None:
    verifier = SnsVerifier(sns.fetch)
    assert ses.events({"eventType": "Open", "mail": {}, "open": {}}) == []
    plain = sns.sign(
        {
            "Type": "Notification",
            "MessageId": "x",
            "TopicArn": TOPIC,
            "Message": "Successfully validated SNS topic for Amazon SES event publishing.",
            "Timestamp": sns_time(),
        }
    )
    assert ses.handle(body(plain), verifier) == []


def test_not_json_is_a_bad_request(sns: Sns) -> None:
    with pytest.raises(BadRequest):
        ses.handle(b"<xml/>", SnsVerifier(sns.fetch))


def test_transient_bounce_without_code_is_not_permanent() -> None:
    soft = json.loads(json.dumps(SES_BOUNCE))
    soft["bounce"].update(bounceType="Transient", bounceSubType="General")
    soft["bounce"]["bouncedRecipients"] = [
        {"emailAddress": "t@example.com", "action": "failed", "diagnosticCode": ""}
    ]
    [event] = ses.events(soft)
    assert event.report.records[0].status == "4.0.0"
    [b] = classify(event.report)
    assert (b.permanent, b.hardbounce) == (False, False)
    permanent = json.loads(json.dumps(soft))
    permanent["bounce"].update(bounceType="Permanent")
    [b] = classify(ses.events(permanent)[0].report)
    assert b.permanent is True


def test_delivery_status_is_success() -> None:
    [delivery] = ses.events(SES_DELIVERY)
    [b] = classify(delivery.report)
    assert b.status.startswith("2.")
