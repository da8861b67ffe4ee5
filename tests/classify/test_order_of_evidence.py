"""The order of evidence (docs/classify.md), on messages written for these tests.

Two classes of error the rubric fixes: a dead address called soft because a stage
heuristic, a generic code or unknown wording outranked words saying the recipient
does not exist; and a report the queue sent when its retries ran out (or a delay
notice) read as its last temporary reply instead of `expired`. The messages in
messages/ were written for these tests (no corpus sample).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bounceback.classify import classify
from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse import parse

MESSAGES = Path(__file__).resolve().parent / "messages"


def verdict(name: str) -> tuple[str, bool, str]:
    """(reason, hardbounce, rule) of the message's one record."""
    [bounce] = classify(parse((MESSAGES / name).read_bytes()))
    return bounce.reason, bounce.hardbounce, bounce.rule


@pytest.mark.parametrize(
    ("name", "reason", "hard", "rule"),
    [
        # "No such user here" in reply to end of DATA, Status 5.0.0: the words decide.
        ("postfix-unknown-after-data.eml", "userunknown", True, "phrase:userunknown"),
        # A delivery agent's error tag under a generic 5.3.0 ("mail system status").
        ("lda-error-tag.eml", "userunknown", True, "phrase:userunknown"),
        # "Benutzer unbekannt / Postfach existiert nicht", no stage, Status 5.0.0.
        ("german-unknown-user.eml", "userunknown", True, "phrase:userunknown"),
        # A filter's refusal that also says "unknown": the address is alive.
        ("policy-refusal-not-dead.eml", "spamdetected", False, "phrase:spamdetected"),
        # Sendmail gave up after 5 days of "Connection refused" (Status 4.4.7).
        ("sendmail-expired-connection-refused.eml", "expired", False, "queue:expired"),
        # Postfix gave up on a host answering "421 ... Service not available" at greeting.
        ("postfix-expired-greeting-421.eml", "expired", False, "queue:expired"),
        # A delay notice whose last reply was greylisting.
        ("delay-greylisted.eml", "expired", False, "queue:expired"),
        # Exim's "retry timeout exceeded" beats the "try again later" it quotes.
        ("exim-retry-timeout.eml", "expired", False, "phrase:expired"),
    ],
)
def test_written_messages(name: str, reason: str, hard: bool, rule: str) -> None:
    assert verdict(name) == (reason, hard, rule)


def decide(diagnostic: str, **fields: str) -> tuple[str, bool]:
    record = DeliveryRecord(recipient="someone@example.net", diagnostic=diagnostic, **fields)
    record.action = record.action or "failed"
    [bounce] = classify(Report(kind=Kind.BOUNCE, detector="test", records=[record]))
    return bounce.reason, bounce.hardbounce


# How servers and providers say "this address does not exist" (common phrasings, in
# the form their replies take; no single message's text).
DEAD = [
    "550 5.1.1 The email account that you tried to reach does not exist.",
    "550 5.5.0 Requested action not taken: mailbox unavailable",
    "554 delivery error: dd This user doesn't have a yahoo.com account",
    "552 1 Requested mail action aborted, mailbox not found",
    "550 5.1.1 unknown or illegal alias: someone@example.net",
    "550 5.1.1 User does not exist - <someone@example.net>",
    "550 Message was not accepted -- invalid mailbox. Local mailbox someone@example.net is "
    "unavailable: user not found",
    "550 5.7.1 No such user!",
    "550 5.1.1 <someone@example.net> User doesn't exist: someone@example.net",
    "550 5.1.1 Mailbox does not exist",
    "550-Mailbox unknown. Either there is no mailbox associated with this name or you do "
    "not have authorization to see it.",
    'unknown user: "someone"',
    "550 5.1.1 <someone@example.net>: Recipient address rejected: User unknown in local "
    "recipient table",
    "550 5.1.1 <someone@example.net>... User unknown",
    "Sorry, no mailbox here by that name. (#5.1.1)",
    "550 No Such User Here",
    "User someone not listed in Domino Directory",
    "550 5.1.1 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup",
    "550 Invalid Recipient - https://community.mimecast.com/docs/DOC-1369#550",
    "550 5.1.1 User Unknown",
    "550 #5.1.0 Address rejected.",
    "550 Local User [someone@example.net] not found.",
    "550 #2175041 unavailable mail user",
    "550 no such user here (umail mta)",
    "550 5.1.1 <someone@example.net>: recipient is not exist",
    # Other languages.
    "550 Benutzer unbekannt",
    "550 5.1.1 Empfänger unbekannt",
    "550 5.1.1 Utilisateur inconnu",
    "550 5.1.1 Cette adresse n'existe pas",
    "550 5.1.1 Usuario desconocido",
    "550 El buzón no existe",
    "550 5.1.1 Utente sconosciuto",
    "550 Indirizzo inesistente",
    "550 Usuário desconhecido",
    "550 5.1.1 Onbekende gebruiker",
    "550 5.1.1 Dit adres bestaat niet",
    "550 5.1.1 ユーザーが存在しません",
    "550 Пользователь не найден",
    "550 用户不存在",
    # Delivery agents' and gateways' error tags.
    "lmtp: no_such_user",
    "delivery failed (invalid_recipient)",
    "554 5.3.0 UNKNOWN_USER",
    "550 BAD_RECIPIENT - see the undelivered page",
    # Hand-written replies: misspelt, or "not an active address".
    "554 RCPT (someone@example.net) dosn't exist",
    "550 someone@example.net is not an active address at this host",
]


@pytest.mark.parametrize("diagnostic", DEAD)
@pytest.mark.parametrize(
    "context",
    [
        {"status": "5.0.0", "smtp_command": "DATA"},
        {"status": "5.3.0"},
        {"status": "", "reply_code": "554"},
        {"status": "5.7.1", "smtp_command": "RCPT"},
    ],
    ids=["after-data", "generic-5.3.0", "no-code", "5.7.1-at-rcpt"],
)
def test_the_recipient_does_not_exist_whatever_the_stage_or_code(
    diagnostic: str, context: dict[str, str]
) -> None:
    assert decide(diagnostic, **context) == ("userunknown", True)


HOST_UNKNOWN = [
    "Host or domain name not found. Name service error for name=example.net type=A: Host not found",
    "550 5.1.2 Host unknown (Name server: example.net: host not found)",
    "Sorry, I couldn't find any host named example.net. (#5.1.2)",
    "no host by that name",
    "550 Domain does not exist",
    "DNS lookup of example.net returned NXDOMAIN",
    "554 5.4.4 Non-existent domain",
]


@pytest.mark.parametrize("diagnostic", HOST_UNKNOWN)
def test_a_domain_that_does_not_exist(diagnostic: str) -> None:
    assert decide(diagnostic, status="5.0.0") == ("hostunknown", True)


# A refusal that names a filter, a policy, spam or a blocklist: the address is alive,
# whatever "unknown" or "does not exist" the reply also carries.
LIVE = [
    "550 5.7.1 Message rejected by the recipient's filter: sender unknown",
    "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org; "
    "user unknown",
    "550 5.7.1 Rejected by policy: unknown senders are not accepted",
    "550 Spam detected. The sending domain does not exist in our allow list",
    "550 5.7.1 Email rejected per DMARC policy; the account may not exist",
    "550 5.7.606 Access denied, banned sending IP [192.0.2.1]",
    "550 5.7.1 Requested action not taken: mailbox unavailable",
    # A recipient access table's REJECT that names its policy.
    "554 5.7.1 <someone@example.net>: Recipient address rejected: Access denied by policy",
    "550 5.2.2 Mailbox full: user unknown quota exceeded",
    # A reply code 550 alone would say "mailbox unavailable"; the words say otherwise.
    "550 Spamming not allowed",
    "550 Your host is not allowed to connect to this server.",
    "550 Your server requires confirmation. Visit the whitelist page to confirm it.",
    "550 5.1.1 <bounces@sender.example>: unauthorized sender",
    "553 Blocked using spam pattern, your message may contain spam",
    "500 Mail appears to be unsolicited -- ask the recipient to add you to their whitelist",
]


@pytest.mark.parametrize("diagnostic", LIVE)
def test_a_filter_or_policy_refusal_is_not_a_dead_address(diagnostic: str) -> None:
    status = diagnostic.split()[1] if diagnostic.split()[1][:1] == "5" else "5.0.0"
    reason, hard = decide(diagnostic, status=status)
    assert not hard, reason


@pytest.mark.parametrize(
    ("diagnostic", "fields"),
    [
        # A final report with a temporary status: the queue gave up.
        ("Deferred: Connection refused by mx.example.net.", {"status": "4.4.7"}),
        ("451 4.7.1 Greylisted, please try again later", {"status": "4.7.1"}),
        ("421 mx.example.net Service not available", {"status": "", "reply_code": "421"}),
        ("connect to mx.example.net[192.0.2.5]:25: No route to host", {"status": "4.4.1"}),
        # A delay notice, its last reply only a "not now".
        ("450 4.3.2 Service currently unavailable", {"status": "4.3.2", "action": "delayed"}),
        # RFC 5321's 450 "mailbox unavailable" is a busy mailbox, not a missing one.
        (
            "450 Requested mail action not taken: mailbox unavailable",
            {"status": "", "reply_code": "450"},
        ),
        # RFC 5321's stock 451 and 452 texts name no cause: "not now".
        ("451 4.3.0 Local error in processing", {"status": "4.3.0", "action": "delayed"}),
        ("452 4.3.1 Insufficient system storage", {"status": "4.3.1"}),
        ("", {"status": "4.4.1", "action": "delayed"}),
        # The report says the queue gave up, whatever the permanent-looking code.
        ("Message could not be delivered for 5 days. Connection refused", {"status": "5.0.0"}),
        ("Delivery attempts will continue to be made. Connection refused", {"status": "5.0.0"}),
        # A bounce with no code at all whose only words are a refused connection: a
        # refused connection is never final, so the retries ran out.
        ("connect to mx.example.net[192.0.2.5]:25: Connection refused", {"status": ""}),
    ],
)
def test_queue_expiry_is_expired_not_its_last_reply(
    diagnostic: str, fields: dict[str, str]
) -> None:
    assert decide(diagnostic, **fields) == ("expired", False)


@pytest.mark.parametrize(
    ("diagnostic", "fields", "reason"),
    [
        # A last reply with a reason of its own keeps it, delayed or expired.
        ("450 4.2.2 Mailbox full", {"status": "4.2.2", "action": "delayed"}, "mailboxfull"),
        ("450 4.1.1 <x@example.net>: User unknown", {"status": "4.1.1"}, "userunknown"),
        ("451 4.7.25 PTR record required", {"status": "4.7.25", "action": "delayed"}, "requireptr"),
        # An immediate permanent refusal is no expiry, however it is worded.
        ("550 5.7.1 Connection refused: IP listed on a blocklist", {"status": "5.7.1"}, "blocked"),
    ],
)
def test_a_specific_last_reply_keeps_its_reason(
    diagnostic: str, fields: dict[str, str], reason: str
) -> None:
    assert decide(diagnostic, **fields)[0] == reason


def test_generic_mailbox_unavailable_is_dead_unless_a_specific_code_says_why() -> None:
    # RFC 5321's own 550 text: dead with nothing more specific beside it.
    for text in ("550 mailbox someone@example.net unavailable", "550 Mailbox unavailable"):
        assert decide(text, status="5.0.0") == ("userunknown", True)
        assert decide(text, status="", reply_code="550") == ("userunknown", True)
        assert decide(text, status="5.1.1") == ("userunknown", True)
        assert decide(text, status="5.7.1") == ("blocked", False)
