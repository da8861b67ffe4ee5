"""When "user unknown" means a dead address and when a filter: the context rules.

A recipient-unknown text is `userunknown` only with evidence that the address itself
was refused: an X.1.X status, the RCPT TO stage, wording that names the recipient
address, or a format or provider that states it. Otherwise (no code or a generic
one, stage unknown) the address was accepted and a filter refused: `filtered`.
Real bounces from tests/fixtures/emails (the Sisimai set).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bounceback.classify import classify, decide_reason
from bounceback.model import Bounce, DeliveryRecord, Kind, Report
from bounceback.parse import parse

Email = Callable[[str], bytes]


def only(email: Email, name: str) -> Bounce:
    found = classify(parse(email(name)))
    assert len(found) == 1
    return found[0]


def verdicts(email: Email, name: str) -> set[tuple[str, bool, str]]:
    """(reason, hard, rule) of every recipient of the message."""
    found = classify(parse(email(name)))
    assert found
    return {(b.reason, b.hardbounce, b.rule) for b in found}


@pytest.mark.parametrize(
    ("name", "reason", "hard", "rule"),
    [
        # "550 Unknown user x": no enhanced code, no SMTP stage.
        ("lhost-mcafee-01.eml", "filtered", False, "context:userunknown>filtered"),
        # x1's "User unknown" with nothing else; Postfix quoting "550 <x>: User unknown".
        ("lhost-x1-01.eml", "filtered", False, "context:userunknown>filtered"),
        ("lhost-postfix-07.eml", "filtered", False, "context:userunknown>filtered"),
        # A generic 5.7.1 / 5.3.0 is no evidence about the address.
        ("lhost-messagingserver-03.eml", "filtered", False, "context:userunknown>filtered"),
        ("lhost-amazonses-02.eml", "filtered", False, "context:userunknown>filtered"),
        # "550 : User unknown" (au's filter reply) to an ezweb.ne.jp address.
        ("rfc3464-57.eml", "filtered", False, "context:userunknown>filtered"),
        # Refused at RCPT TO (Exim says so): the address.
        ("lhost-exim-02.eml", "userunknown", True, "phrase:userunknown"),
        # "553 Invalid recipient": the wording names the recipient address.
        ("lhost-bigfoot-02.eml", "userunknown", True, "phrase:userunknown"),
        # Gmail's own "the address couldn't be found".
        ("rhost-gsuite-02.eml", "userunknown", True, "phrase:userunknown"),
        # Yahoo's "554 delivery error: dd This user doesn't have a yahoo.com account".
        ("rhost-yahooinc-03.eml", "userunknown", True, "phrase:userunknown"),
        # Domino's "not listed in Domino Directory": the format's fixed wording.
        ("lhost-domino-01.eml", "userunknown", True, "phrase:userunknown"),
        # IMail's and Verizon's own verdicts on their own mailboxes.
        ("lhost-imailserver-01.eml", "userunknown", True, "format:imailserver"),
        ("lhost-verizon-02.eml", "userunknown", True, "format:verizon"),
        # au: "550 <address>: User unknown" is its reply for an address it lacks.
        ("rhost-gsuite-09.eml", "userunknown", True, "provider:au"),
        # docomo: "550 Unknown user" after DATA is the recipient refusing the sender.
        ("rhost-nttdocomo-02.eml", "rejected", False, "provider:docomo"),
    ],
)
def test_unknown_user_text_needs_evidence_the_address_was_refused(
    email: Email, name: str, reason: str, hard: bool, rule: str
) -> None:
    assert verdicts(email, name) == {(reason, hard, rule)}


def record(diagnostic: str, **fields: str) -> DeliveryRecord:
    return DeliveryRecord(recipient="kijitora@example.jp", diagnostic=diagnostic, **fields)


def reason_of(rec: DeliveryRecord) -> str:
    return decide_reason(Report(kind=Kind.BOUNCE, detector="test", records=[rec]), rec).reason


def test_the_same_text_turns_on_status_and_stage() -> None:
    text = "550 User unknown"
    assert reason_of(record(text, reply_code="550")) == "filtered"
    assert reason_of(record(text, status="5.0.0")) == "filtered"
    assert reason_of(record(text, status="5.1.1")) == "userunknown"
    assert reason_of(record(text, smtp_command="RCPT")) == "userunknown"
    assert reason_of(record(text, smtp_command="DATA")) == "filtered"
    assert reason_of(record(text, smtp_command="MAIL")) == "rejected"
    # A code of another class that the context rule does not name is left alone.
    assert reason_of(record(text, status="5.5.0")) == "userunknown"


def test_address_wording_is_not_refined_but_plain_wording_is() -> None:
    assert reason_of(record("550 No such recipient")) == "userunknown"
    assert reason_of(record("550 5.4.1 Recipient address rejected: Access denied")) == (
        "userunknown"
    )
    assert reason_of(record("550 No such user")) == "filtered"


def test_provider_wording_needs_the_providers_domain_or_host() -> None:
    text = "550 <kijitora@ezweb.ne.jp>: User unknown"
    rec = record(text, status="5.0.0")
    assert reason_of(rec) == "filtered"
    rec.recipient = "kijitora@ezweb.ne.jp"
    assert reason_of(rec) == "userunknown"
    rec = record(text, status="5.0.0", remote_mta="lsean.ezweb.ne.jp")
    assert reason_of(rec) == "userunknown"


@pytest.mark.parametrize(
    ("name", "reason", "rule"),
    [
        # A delay notice whose only code is 4.4.0 ("other network status"): queued.
        ("rfc3464-07.eml", "expired", "action:delayed"),
        # Amazon SES will not send for an unverified identity.
        ("lhost-postfix-77.eml", "norelaying", "phrase:norelaying"),
        # The sender's address (not an IP) is on a list.
        ("lhost-exim-57.eml", "rejected", "phrase:rejected"),
        # 5.7.9 alone: IANA's "authentication mechanism too weak".
        ("lhost-amazonses-08.eml", "securityerror", "status:5.7.9"),
        # A bare "access denied" with no stage: a security refusal, not the sender.
        ("lhost-amazonses-01.eml", "securityerror", "phrase:securityerror"),
        # "service permits 2 unverifyable sending IPs": the IP's name check failed.
        ("lhost-exim-38.eml", "requireptr", "phrase:requireptr"),
        # Orange's OFR_506 is its spam refusal, whatever 5.2.0 says.
        ("lhost-einsundeins-03.eml", "spamdetected", "phrase:spamdetected"),
    ],
)
def test_other_context_and_wording(email: Email, name: str, reason: str, rule: str) -> None:
    bounce = only(email, name)
    assert (bounce.reason, bounce.rule) == (reason, rule)


def test_bare_access_denied_follows_the_smtp_stage() -> None:
    assert reason_of(record("550 5.7.1 Access denied", smtp_command="MAIL")) == "rejected"
    assert reason_of(record("550 Access denied", smtp_command="CONNECT")) == "blocked"
    assert reason_of(record("550 5.7.1 Access denied")) == "securityerror"
