"""Which evidence wins, on real bounces (tests/fixtures/emails, from the Sisimai set)."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bounceback.classify import classify, decide_reason
from bounceback.classify.reasons import REASONS, is_hard
from bounceback.model import Bounce, DeliveryRecord, Kind, Report
from bounceback.parse import parse

Email = Callable[[str], bytes]


def bounces(email: Email, name: str) -> dict[str, Bounce]:
    return {b.recipient: b for b in classify(parse(email(name)))}


def only(email: Email, name: str) -> Bounce:
    found = list(bounces(email, name).values())
    assert len(found) == 1
    return found[0]


@pytest.mark.parametrize(
    ("name", "reason", "hard", "status"),
    [
        # Status: 5.1.1 from the reporting MTA, but the remote said 5.7.1 blacklisted.
        ("lhost-sendmail-36.eml", "blocked", False, "5.7.1"),
        # Gmail 5.2.2 "out of storage space and inactive": full, not suspended.
        ("rhost-google-05.eml", "mailboxfull", False, "5.2.2"),
        # Microsoft's directory-based edge block: 5.4.1 "Recipient address rejected:
        # Access denied" means the recipient does not exist.
        ("rhost-microsoft-02.eml", "userunknown", True, "5.4.1"),
        # Microsoft uses 5.1.10 (IANA: null MX) for RecipientNotFound: the text decides.
        ("lhost-office365-13.eml", "userunknown", True, "5.1.10"),
        # 5.1.8 decides before the text ("Domain of sender address ... does not exist").
        ("lhost-postfix-10.eml", "rejected", False, "5.1.8"),
        # GoDaddy: 5.1.1 on a rate limit ("sent to too many recipients this hour").
        ("rhost-godaddy-03.eml", "speeding", False, "5.1.1"),
        # Microsoft 5.7.606 "banned sending IP".
        ("rhost-microsoft-01.eml", "blocked", False, "5.7.606"),
        # "weren't sent ... block list", refused at MAIL FROM: still the IP's block.
        ("lhost-exim-54.eml", "blocked", False, "5.7.1"),
        # Status 4.4.7 (queue expired) with the last reply 4.7.1 "Client host rejected".
        ("lhost-sendmail-10.eml", "blocked", False, "4.7.1"),
    ],
)
def test_reason_hardness_and_status(
    email: Email, name: str, reason: str, hard: bool, status: str
) -> None:
    bounce = only(email, name)
    assert (bounce.reason, bounce.hardbounce, bounce.status) == (reason, hard, status)


def test_unknown_user_refused_after_data_is_still_a_dead_address(email: Email) -> None:
    # "550 Unknown user ... (in reply to end of DATA command)": the stage does not
    # change what the words say about the address.
    bounce = only(email, "lhost-postfix-03.eml")
    assert bounce.record.smtp_command == "DATA"
    assert (bounce.reason, bounce.hardbounce) == ("userunknown", True)
    assert bounce.rule == "phrase:userunknown"


def test_mailbox_status_with_unknown_user_text_is_a_dead_address(email: Email) -> None:
    # Both say "550 5.2.1 <...>... User Unknown": the words outrank the X.2.1 code.
    qmail = bounces(email, "lhost-qmail-02.eml")
    assert qmail["filtered@example.jp"].reason == "userunknown"
    sendmail = bounces(email, "lhost-sendmail-02.eml")
    assert sendmail["filtered@example.com"].reason == "userunknown"
    assert sendmail["userunknown@example.org"].reason == "userunknown"
    assert sendmail["userunknown@example.org"].hardbounce is True


def test_nxdomain_with_a_temporary_status_is_a_network_error(email: Email) -> None:
    # Gmail: "DNS Error: ... responded with code NXDOMAIN", Status 4.0.0.
    bounce = only(email, "rhost-gsuite-05.eml")
    assert (bounce.reason, bounce.hardbounce, bounce.status) == ("networkerror", False, "4.0.0")


def test_the_innermost_quoted_code_is_the_status(email: Email) -> None:
    # "554 4.4.7 Message expired: unable to deliver in 840 minutes.<421 4.4.2 Connection
    # timed out>": expired, and the code the remote server gave is 4.4.2.
    bounce = bounces(email, "lhost-amazonworkmail-05.eml")
    assert {(b.reason, b.status) for b in bounce.values()} == {("expired", "4.4.2")}


def record(diagnostic: str = "", **fields: str) -> DeliveryRecord:
    return DeliveryRecord(recipient="kijitora@example.jp", diagnostic=diagnostic, **fields)


def report(*records: DeliveryRecord, kind: Kind = Kind.BOUNCE) -> Report:
    return Report(kind=kind, detector="test", records=list(records))


def test_decisive_code_beats_misleading_text() -> None:
    rec = record("550 5.7.26 Unauthenticated email: user does not exist", status="5.7.26")
    decision = decide_reason(report(rec), rec)
    assert (decision.reason, decision.rule) == ("authfailure", "status:5.7.26")


def test_generic_code_yields_to_the_text() -> None:
    rec = record("550 5.7.1 Relay access denied", status="5.7.1", reply_code="550")
    assert decide_reason(report(rec), rec).reason == "norelaying"


def test_fallbacks_status_then_subject_then_reply_code() -> None:
    rec = record("550 5.2.2 ", status="5.2.2")
    assert decide_reason(report(rec), rec).rule == "status:5.2.2"
    rec = record("nothing useful", status="5.7.509")
    assert decide_reason(report(rec), rec).rule == "status-subject:5.7"
    rec = record("", status="5.0.0", reply_code="552")
    assert decide_reason(report(rec), rec).reason == "mailboxfull"


def test_delay_without_evidence_is_expired_and_soft() -> None:
    rec = record(action="delayed", status="4.0.0")
    bounce = classify(report(rec, kind=Kind.DELAY))[0]
    assert (bounce.reason, bounce.hardbounce, bounce.permanent) == ("expired", False, False)


def test_nothing_known_is_onhold_and_nothing_at_all_is_undefined() -> None:
    rec = record("554 kijitora@example.jp Transaction failed", status="5.0.0")
    assert decide_reason(report(rec), rec).reason == "onhold"
    assert decide_reason(report(record()), record()).reason == "undefined"


def test_refused_before_any_address_is_the_sending_host() -> None:
    rec = record("550 Rejected", reply_code="550", smtp_command="EHLO")
    assert decide_reason(report(rec), rec).reason == "blocked"


def test_a_stated_reason_is_not_refined() -> None:
    rec = record("550 User unknown", smtp_command="DATA", reason_hint="userunknown")
    assert decide_reason(report(rec), rec).reason == "userunknown"


def test_hardbounce_is_sisimais_meaning() -> None:
    # Dead address: user unknown even with a temporary code; a full mailbox never.
    rec = record("450 4.1.1 <x>: Recipient address rejected: User unknown", status="4.1.1")
    assert classify(report(rec))[0].hardbounce is True
    rec = record("552 5.2.2 Mailbox full", status="5.2.2")
    bounce = classify(report(rec))[0]
    assert (bounce.hardbounce, bounce.permanent) == (False, True)


def test_autoreplies_and_complaints_are_never_hard() -> None:
    for kind, reason in ((Kind.AUTOREPLY, "vacation"), (Kind.COMPLAINT, "feedback")):
        bounce = classify(report(record("I am away", action="failed"), kind=kind))[0]
        assert (bounce.reason, bounce.hardbounce) == (reason, False)


STATUS = r"[245]\.\d{1,3}\.\d{1,3}"


@settings(max_examples=300, deadline=None)
@given(
    diagnostic=st.text(max_size=300),
    status=st.one_of(st.just(""), st.from_regex(STATUS, fullmatch=True)),
    reply=st.sampled_from(["", "250", "421", "450", "550", "552", "554", "999"]),
    action=st.sampled_from(["", "failed", "delayed", "delivered"]),
    command=st.sampled_from(["", "CONNECT", "EHLO", "MAIL", "RCPT", "DATA"]),
)
def test_any_record_gets_a_known_reason_and_a_consistent_verdict(
    diagnostic: str, status: str, reply: str, action: str, command: str
) -> None:
    rec = DeliveryRecord(
        recipient="x@example.com",
        action=action,
        status=status,
        reply_code=reply,
        diagnostic=diagnostic,
        smtp_command=command,
    )
    bounce = classify(report(rec))[0]
    assert bounce.reason in REASONS
    assert bounce.rule
    assert bounce.hardbounce == is_hard(bounce.reason, bounce.status)
    assert bounce.status == "" or re.fullmatch(STATUS, bounce.status)
    if action == "delayed" or status[:1] == "4":
        assert bounce.permanent is False


def test_abuse_report_counts_as_a_complaint(email: Email) -> None:
    complaint = only(email, "arf-01.eml")
    assert (complaint.kind, complaint.reason, complaint.bounce_type) == (
        Kind.COMPLAINT,
        "feedback",
        "AOL (Complaint)",
    )


def test_authentication_failure_report_is_the_senders_problem(email: Email) -> None:
    # A DMARC/SPF failure report (RFC 6591) says nothing against the recipient.
    report = only(email, "arf-19.eml")
    assert report.record.feedback_type == "auth-failure"
    assert (report.reason, report.bounce_type, report.hardbounce) == ("feedback", "Sender", False)


def test_a_mail_loop_is_held_as_loop() -> None:
    text = "554 5.4.6 Too many hops: mail loop detected"
    (bounce,) = classify(report(record(text, action="failed")))
    assert bounce.bounce_type == "Loop"
    (other,) = classify(report(record("554 5.4.6 routing failed", action="failed")))
    assert other.bounce_type != "Loop"
