"""Postmark: basic auth; Bounce (by Type), SpamComplaint and Delivery records."""

from __future__ import annotations

import base64

import pytest
from webhook_payloads import POSTMARK_BOUNCE, POSTMARK_COMPLAINT, POSTMARK_DELIVERY

from bounceback import classify
from bounceback.model import Kind
from bounceback.sources.webhooks import Forbidden, Unauthorized, postmark


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth() -> None:
    postmark.verify_basic(basic("hook", "s3cret"), "hook", "s3cret")
    with pytest.raises(Unauthorized):
        postmark.verify_basic(None, "hook", "s3cret")
    with pytest.raises(Unauthorized):
        postmark.verify_basic("Bearer abc", "hook", "s3cret")
    with pytest.raises(Forbidden):
        postmark.verify_basic(basic("hook", "guess"), "hook", "s3cret")
    with pytest.raises(Forbidden):
        postmark.verify_basic("Basic !!!", "hook", "s3cret")


def test_hard_bounce() -> None:
    [event] = postmark.events(POSTMARK_BOUNCE)
    assert event.key == "postmark:bounce:4323372036854775807"
    assert event.report.kind == Kind.BOUNCE
    rec = event.report.records[0]
    assert rec.diagnostic == "550 5.1.1 The email account that you tried to reach does not exist."
    assert (rec.status, rec.reply_code) == ("5.1.1", "550")
    assert event.report.original.bounceback_id == "bb-42"
    assert event.meta["inactive"] == "true"
    [b] = classify(event.report)
    assert (b.reason, b.hardbounce) == ("userunknown", True)
    assert b.rule != "format:webhook:postmark"  # the SMTP text decided, not the type


def test_hard_bounce_without_details_falls_back_to_type() -> None:
    [event] = postmark.events({**POSTMARK_BOUNCE, "Details": ""})
    [b] = classify(event.report)
    assert (b.reason, b.rule) == ("userunknown", "format:webhook:postmark")


@pytest.mark.parametrize(
    ("bounce_type", "kind", "reason"),
    [
        ("SpamNotification", Kind.BOUNCE, "spamdetected"),
        ("VirusNotification", Kind.BOUNCE, "virusdetected"),
        ("AddressChange", Kind.BOUNCE, "hasmoved"),
        ("BadEmailAddress", Kind.BOUNCE, "userunknown"),
        ("ManuallyDeactivated", Kind.BOUNCE, "suppressed"),
        ("DMARCPolicy", Kind.BOUNCE, "authfailure"),
        ("AutoResponder", Kind.AUTOREPLY, "vacation"),
        ("Transient", Kind.DELAY, "expired"),
        ("Blocked", Kind.BOUNCE, "blocked"),
    ],
)
def test_bounce_types(bounce_type: str, kind: Kind, reason: str) -> None:
    record = {**POSTMARK_BOUNCE, "Type": bounce_type, "Details": "Message could not be processed"}
    [event] = postmark.events(record)
    assert event.report.kind == kind
    assert classify(event.report)[0].reason == reason


@pytest.mark.parametrize(
    "bounce_type", ["Unsubscribe", "Subscribe", "OpenRelayTest", "InboundError"]
)
def test_types_not_about_delivery_are_ignored(bounce_type: str) -> None:
    assert postmark.events({**POSTMARK_BOUNCE, "Type": bounce_type}) == []


def test_spam_complaint_and_delivery() -> None:
    [c] = postmark.events(POSTMARK_COMPLAINT)
    assert c.report.kind == Kind.COMPLAINT
    assert c.key == "postmark:complaint:4323372036854775808"
    assert classify(c.report)[0].reason == "feedback"
    [d] = postmark.events(POSTMARK_DELIVERY)
    assert d.report.kind == Kind.DELIVERED
    assert d.key == "postmark:delivery:883953f4-6105-42a2-a16a-77a8eac79484:ok@example.com"
    assert classify(d.report)[0].reason == "delivered"


def test_unknown_records_ignored() -> None:
    assert postmark.events({"RecordType": "Open", "Recipient": "a@example.com"}) == []
    assert postmark.events({**POSTMARK_BOUNCE, "Email": ""}) == []


def test_soft_bounce_without_code_is_not_permanent() -> None:
    [soft] = postmark.events({**POSTMARK_BOUNCE, "Type": "SoftBounce", "Details": "try later"})
    [b] = classify(soft.report)
    assert (b.permanent, b.hardbounce) == (False, False)
    [hard] = postmark.events({**POSTMARK_BOUNCE, "Type": "HardBounce", "Details": "gone"})
    assert classify(hard.report)[0].permanent is True
