"""Wordings seen in bounces from outside the Sisimai set, and what they mean.

Each reply is a common server phrasing (not one message's text), put in a
minimal record the way a parser hands it over.
"""

from __future__ import annotations

import pytest

from bounceback.classify import classify
from bounceback.model import DeliveryRecord, Kind, Report


def decide(
    diagnostic: str, status: str = "5.0.0", command: str = "DATA", detector: str = "rfc3464"
) -> tuple[str, bool]:
    """(reason, hardbounce) of one failed record with that reply."""
    record = DeliveryRecord(
        recipient="someone@example.net",
        action="failed",
        status=status,
        diagnostic=diagnostic,
        smtp_command=command,
    )
    report = Report(kind=Kind.BOUNCE, detector=detector, records=[record])
    [bounce] = classify(report)
    return bounce.reason, bounce.hardbounce


def verdict(diagnostic: str, status: str = "5.0.0", command: str = "DATA") -> str:
    return decide(diagnostic, status, command)[0]


@pytest.mark.parametrize(
    ("diagnostic", "status", "command", "reason"),
    [
        # A content filter's score verdict, with a bare 500 or a 5.7.1 that alone say
        # "syntax error" and "blocked".
        (
            "500 Mail appears to be unsolicited -- report errors to postmaster",
            "5.0.0",
            "DATA",
            "spamdetected",
        ),
        (
            "554 5.7.1 Mail (1-2) appears to be unsolicited - Score (59) over limit",
            "5.7.1",
            "DATA",
            "spamdetected",
        ),
        (
            "554 5.7.1 Your message failed several antispam checks (SCORING)",
            "5.7.1",
            "DATA",
            "spamdetected",
        ),
        ("550 5.7.1 Rejected - bulk email", "5.7.1", "DATA", "spamdetected"),
        ("501 Spam Blocked - psmtp", "5.0.0", "DATA", "spamdetected"),
        ("550 Message refused by MailMarshal SpamProfiler", "5.0.0", "DATA", "spamdetected"),
        # DSPAM, a content filter, under a 5.7.3 that alone reads as a security error.
        ("553 5.7.3 CONTENT REJECT:10.0.0.1.201110:dspam check:4", "5.7.3", "DATA", "spamdetected"),
        # The size limit, under a reporting MTA's generic 5.1.1 summary.
        (
            "550 RCPT TO:<someone@example.net> max message size exceeded",
            "5.1.1",
            "RCPT",
            "mesgtoobig",
        ),
        # vpopmail/qmail's badrcptto wording, at RCPT TO.
        ("553 sorry, badrcptto(user mail-box not found) (#5.7.1)", "5.7.1", "RCPT", "userunknown"),
        # A suspended mailbox under a 5.1.1 summary: the text says it exists.
        (
            "550 [SUSPEND] Mailbox currently suspended - Please contact correspondent directly",
            "5.1.1",
            "DATA",
            "suspend",
        ),
        # Exim giving up on hosts that stayed down past the retry limit.
        (
            "all hosts have been failing for a long time and were last tried after this"
            " message arrived",
            "",
            "",
            "expired",
        ),
        # A gateway refusing to relay, in its own long wording.
        (
            "553-you are trying to use me [mx-9.example.com] as a relay, but I have not been"
            " configured to let you [192.0.2.1] do this. (#5.7.1)",
            "5.0.0",
            "RCPT",
            "norelaying",
        ),
        # A mailbox over its message-count limit is full, not a rate limit.
        ("550 User has too many messages on the server.", "5.0.0", "RCPT", "mailboxfull"),
        # ...while "too many messages" alone still reads as sending too fast.
        ("421 Too many messages, slow down", "4.0.0", "MAIL", "speeding"),
    ],
)
def test_wording(diagnostic: str, status: str, command: str, reason: str) -> None:
    assert verdict(diagnostic, status, command) == reason


def test_postfix_local_unknown_user_is_the_address_even_with_a_generic_status() -> None:
    # Postfix local(8) names the local part it could not find; older releases send
    # it with 5.0.0 and no SMTP stage.
    assert decide('unknown user: "jdoe"', "5.0.0", "", "postfix") == ("userunknown", True)
    assert decide('unknown user: "jdoe"', "5.1.1", "", "postfix") == ("userunknown", True)


def test_a_plain_unknown_user_with_no_stage_is_a_dead_address() -> None:
    assert decide("550 unknown user", "5.0.0", "", "postfix") == ("userunknown", True)
