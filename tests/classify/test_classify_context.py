"""When "user unknown" means a dead address, and what context can still change.

Wording that says the recipient does not exist is `userunknown` (hard) whatever the
SMTP stage and whatever generic code came with it (docs/classify.md, "Order of
evidence"). Only a provider's own rule (au's addressless "550 : User unknown", NTT
docomo after DATA) or a stage before any recipient was named (MAIL FROM, CONNECT)
reads it otherwise. Real bounces from tests/fixtures/emails (the Sisimai set).
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
        # "550 Unknown user x": no enhanced code, no SMTP stage: the text decides.
        ("lhost-mcafee-01.eml", "userunknown", True, "phrase:userunknown"),
        # x1's "User unknown" with nothing else; Postfix quoting "550 <x>: User unknown".
        ("lhost-x1-01.eml", "userunknown", True, "phrase:userunknown"),
        ("lhost-postfix-07.eml", "userunknown", True, "phrase:userunknown"),
        # A generic 5.7.1 / 5.3.0 does not outrank the wording.
        ("lhost-messagingserver-03.eml", "userunknown", True, "phrase:userunknown"),
        ("lhost-amazonses-02.eml", "userunknown", True, "phrase:userunknown"),
        # "550 : User unknown" (au's filter reply, no address) to an ezweb.ne.jp address.
        ("rfc3464-57.eml", "filtered", False, "provider:au-filter"),
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
def test_unknown_user_wording_is_a_dead_address_whatever_stage_or_code(
    email: Email, name: str, reason: str, hard: bool, rule: str
) -> None:
    assert verdicts(email, name) == {(reason, hard, rule)}


def record(diagnostic: str, **fields: str) -> DeliveryRecord:
    return DeliveryRecord(recipient="kijitora@example.jp", diagnostic=diagnostic, **fields)


def reason_of(rec: DeliveryRecord) -> str:
    return decide_reason(Report(kind=Kind.BOUNCE, detector="test", records=[rec]), rec).reason


def test_the_same_text_is_dead_at_every_stage_but_mail_from() -> None:
    text = "550 User unknown"
    for fields in (
        {"reply_code": "550"},
        {"status": "5.0.0"},
        {"status": "5.1.1"},
        {"status": "5.2.0"},
        {"status": "5.3.0"},
        {"status": "5.7.1"},
        {"smtp_command": "RCPT"},
        {"smtp_command": "DATA"},
    ):
        assert reason_of(record(text, **fields)) == "userunknown", fields
    # At MAIL FROM no recipient was named yet: it is the sender that is unknown.
    assert reason_of(record(text, smtp_command="MAIL")) == "rejected"


def test_plain_and_address_wording_alike() -> None:
    assert reason_of(record("550 No such recipient")) == "userunknown"
    assert reason_of(record("550 5.4.1 Recipient address rejected: Access denied")) == (
        "userunknown"
    )
    assert reason_of(record("550 No such user")) == "userunknown"


def test_wording_of_a_filter_or_policy_wins_over_unknown() -> None:
    # The live address must not be called dead: a refusal that names a filter,
    # a policy or a blocklist is that, whatever "unknown" it also says.
    for text in (
        "550 5.7.1 Message rejected by recipient's filter: sender unknown to recipient",
        "554 5.7.1 Rejected by policy (user unknown to the sender whitelist)",
        "550 5.7.1 Client host blocked using zen.spamhaus.org; user unknown",
        "550 Message classified as spam. Recipient does not accept unknown senders",
    ):
        assert reason_of(record(text, status="5.7.1")) not in ("userunknown", "hostunknown"), text


def test_generic_wording_yields_to_a_specific_status_code() -> None:
    # RFC 5321's "mailbox unavailable" names no cause; 5.7.1 does (not authorised).
    assert (
        reason_of(
            record("550 5.7.1 Requested action not taken: mailbox unavailable", status="5.7.1")
        )
        == "blocked"
    )
    assert (
        reason_of(
            record("550 5.5.0 Requested action not taken: mailbox unavailable", status="5.5.0")
        )
        == "userunknown"
    )


def test_provider_wording_needs_the_providers_domain_or_host() -> None:
    text = "550 : User unknown"
    rec = record(text, status="5.0.0")
    assert reason_of(rec) == "userunknown"
    rec.recipient = "kijitora@ezweb.ne.jp"
    assert reason_of(rec) == "filtered"
    rec = record(text, status="5.0.0", remote_mta="lsean.ezweb.ne.jp")
    assert reason_of(rec) == "filtered"
    rec = record("550 <kijitora@ezweb.ne.jp>: User unknown", remote_mta="lsean.ezweb.ne.jp")
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
