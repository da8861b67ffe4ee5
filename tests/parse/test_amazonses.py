"""Amazon SES: its RFC 3464 bounces and its JSON notifications by email."""

from __future__ import annotations

from pathlib import Path

from bounceback.model import Kind, Report
from bounceback.parse import parse

FIXTURES = Path(__file__).parents[1] / "fixtures" / "emails"


def load(name: str) -> Report:
    return parse((FIXTURES / name).read_bytes())


def test_legacy_diagnostic_gives_the_remote_status() -> None:
    report = load("lhost-amazonses-01.eml")
    assert report.detector == "amazonses"
    [rec] = report.records
    assert rec.recipient == "shironeko@example.co.jp"
    assert (rec.status, rec.reply_code) == ("5.7.1", "550")
    assert rec.diagnostic.endswith("Access denied")
    assert "Unknown address error" not in rec.diagnostic


def test_legacy_diagnostic_without_remote_status_keeps_ses_status() -> None:
    [rec] = load("lhost-amazonses-02.eml").records
    assert (rec.status, rec.reply_code) == ("5.3.0", "550")


def test_sns_bounce_notification() -> None:
    report = load("lhost-amazonses-10.eml")
    assert report.kind == Kind.BOUNCE
    [rec] = report.records
    assert rec.recipient == "bounce@simulator.amazonses.com"
    assert (rec.status, rec.reply_code, rec.diagnostic_type) == ("5.1.1", "550", "smtp")
    assert rec.reporting_mta == "a27-33.smtp-out.us-west-2.amazonses.com"
    # The subject was wrapped at 998 octets ("Nya!" newline " aan").
    assert report.original.subject == "Nyaaan"
    assert report.original.message_id.startswith("01010157e6083857")


def test_complaint_notification() -> None:
    report = load("lhost-amazonses-11.eml")
    assert report.kind == Kind.COMPLAINT
    [rec] = report.records
    assert rec.recipient == "complaint@simulator.amazonses.com"
    assert rec.feedback_type == "abuse"
    assert rec.reason_hint == "feedback"


def test_delivery_notification() -> None:
    report = load("lhost-amazonses-12.eml")
    assert report.kind == Kind.DELIVERED
    [rec] = report.records
    assert rec.recipient == "success@simulator.amazonses.com"
    assert (rec.action, rec.status, rec.reply_code) == ("delivered", "2.6.0", "250")


def test_event_publishing_delay_and_ignored_types() -> None:
    # The event-publishing form (eventType) of a DeliveryDelay, as AWS documents it.
    event = (
        '{"eventType":"DeliveryDelay","mail":{"messageId":"0100abc","source":"s@example.com",'
        '"headers":[{"name":"Message-ID","value":"<m1@example.com>"}]},'
        '"deliveryDelay":{"delayType":"TransientCommunicationFailure",'
        '"delayedRecipients":[{"emailAddress":"r@example.net","status":"4.4.1",'
        '"diagnosticCode":"smtp; 421 4.4.1 Unable to connect"}],'
        '"reportingMTA":"a1-2.smtp-out.amazonses.com"}}'
    )
    data = (
        "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n"
        "Content-Type: text/plain\n\n" + event + "\n"
    ).encode()
    report = parse(data)
    assert (report.detector, report.kind) == ("amazonses", Kind.DELAY)
    [rec] = report.records
    assert (rec.recipient, rec.action, rec.status) == ("r@example.net", "delayed", "4.4.1")
    assert report.original.message_id == "<m1@example.com>"
    opened = data.replace(b'"DeliveryDelay"', b'"Open"')
    assert parse(opened).records == []


def test_transient_bounce_without_status_is_temporary() -> None:
    note = (
        '{"notificationType":"Bounce","bounce":{"bounceType":"Transient",'
        '"bounceSubType":"General","bouncedRecipients":[{"emailAddress":"r@example.net"}]},'
        '"mail":{"messageId":"0100abc"}}'
    )
    data = (
        "From: no-reply@sns.amazonaws.com\nSubject: AWS Notification Message\n\n" + note + "\n"
    ).encode()
    [rec] = parse(data).records
    assert (rec.recipient, rec.action, rec.status) == ("r@example.net", "failed", "4.0.0")
