"""Providers' own wording, as their postmaster pages document it, classified.

Each line is the SMTP reply a provider documents (addresses and IPs replaced);
it runs through the same decision as a parsed bounce: a record with the reply
code and enhanced status code the parser derives from the text.
"""

from __future__ import annotations

import pytest

from bounceback.classify import classify
from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse.text import find_reply_code, find_status

CASES = [
    # Gmail / Google Workspace
    (
        "550-5.1.1 The email account that you tried to reach does not exist. Please try "
        "double-checking the recipient's email address for typos or unnecessary spaces.",
        "userunknown",
    ),
    ("452-4.2.2 The email account that you tried to reach is over quota.", "mailboxfull"),
    ("550-5.2.1 The email account that you tried to reach is disabled.", "suspend"),
    (
        "550-5.7.1 Our system has detected an unusual rate of unsolicited mail originating "
        "from your IP address.",
        "blocked",
    ),
    (
        "421-4.7.0 This message is suspicious due to the very low reputation of the "
        "sending domain.",
        "badreputation",
    ),
    (
        "550-5.7.26 This mail is unauthenticated, which poses a security risk to the "
        "sender and Gmail users, and has been blocked.",
        "authfailure",
    ),
    (
        "550-5.7.25 The IP address sending this message does not have a PTR record setup.",
        "requireptr",
    ),
    (
        "552-5.7.0 This message was blocked because its content presents a potential "
        "security issue.",
        "policyviolation",
    ),
    (
        "550-5.7.1 Messages missing a valid address in From: header, or having no From: "
        "header, are not accepted.",
        "notcompliantrfc",
    ),
    (
        "450-4.2.1 The user you are trying to contact is receiving mail at a rate that "
        "prevents additional messages from being delivered.",
        "speeding",
    ),
    ("550 5.4.5 Daily user sending quota exceeded.", "speeding"),
    # Microsoft / Outlook.com / Office 365
    ("550 5.7.606 Access denied, banned sending IP [192.0.2.1].", "blocked"),
    (
        "451 4.7.650 The mail server [192.0.2.1] has been temporarily rate limited due to "
        "IP reputation.",
        "badreputation",
    ),
    ("550 5.4.1 Recipient address rejected: Access denied. AS(201806281)", "userunknown"),
    (
        "550 5.7.509 Access denied, sending domain [EXAMPLE.COM] does not pass DMARC "
        "verification and has a DMARC policy of reject.",
        "authfailure",
    ),
    ("554 5.4.14 Hop count exceeded - possible mail loop", "networkerror"),
    ("550 5.7.64 TenantAttribution; Relay Access Denied", "norelaying"),
    (
        "550 5.7.520 Access denied, Your organization does not allow external forwarding.",
        "policyviolation",
    ),
    ("550 5.5.0 Requested action not taken: mailbox unavailable", "userunknown"),
    ("550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found", "userunknown"),
    ("550 5.2.2 STOREDRV.Deliver: mailbox full", "mailboxfull"),
    # Yahoo / AOL
    ("554 5.7.9 Message not accepted for policy reasons.", "policyviolation"),
    (
        "421 4.7.0 [TSS04] Messages from 192.0.2.1 temporarily deferred due to unexpected "
        "volume or user complaints",
        "badreputation",
    ),
    (
        "553 5.7.2 [TSS09] All messages from 192.0.2.1 will be permanently deferred; "
        "Retrying will NOT succeed.",
        "blocked",
    ),
    ("552 1 Requested mail action aborted, mailbox not found", "userunknown"),
    (
        "554 delivery error: dd This user doesn't have a yahoo.com account (x@yahoo.com)",
        "userunknown",
    ),
    # Apple iCloud, Proofpoint
    ("554 5.7.1 [CS01] Message rejected due to local policy.", "policyviolation"),
    ("552 5.2.2 <x@icloud.com>: user is over quota", "mailboxfull"),
    ("550 5.7.0 Blocked - see https://ipcheck.proofpoint.com/?ip=192.0.2.1", "blocked"),
    # Blocklists
    (
        "554 5.7.1 Service unavailable; Client host [192.0.2.1] blocked using zen.spamhaus.org",
        "blocked",
    ),
    ("550 5.7.1 Your IP 192.0.2.1 is listed on bl.spamcop.net", "blocked"),
    # Mimecast, Tencent, Zoho, Cloudflare, GoDaddy
    ("550 Rejected by header based Anti-Spoofing policy", "policyviolation"),
    ("550 Invalid Recipient", "userunknown"),
    ("550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help", "userunknown"),
    ("550 Ip frequency limited", "toomanyconn"),
    # Spectrum / Charter: Cloudmark's AUP#In-13x0 connection limits, "sender rejected".
    (
        "550 5.1.0 <x@example.com> sender rejected. Please see https://www.spectrum.net/support/"
        "internet/understanding-email-error-codes for more information. AUP#In-1310",
        "toomanyconn",
    ),
    ("554 5.7.7 Email policy violation detected", "policyviolation"),
    ("421 4.3.0 Upstream error, please check the postmaster page", "systemerror"),
    (
        "550 5.1.1 <x@example.com> - 192.0.2.1 has sent to too many recipients this hour. IB607",
        "speeding",
    ),
    (
        "554 Service unavailable; Client host [192.0.2.1] blocked using Barracuda Reputation; "
        "http://www.barracudanetworks.com/reputation/?r=1&ip=192.0.2.1",
        "blocked",
    ),
    ("451 4.7.500 Server busy. Please try again later from [192.0.2.1]. (AS843)", "speeding"),
    (
        "550 5.7.1 The user or domain that you are sending to (or from) has a policy that "
        "prohibited the mail that you sent.",
        "policyviolation",
    ),
    # MTAs' own wording
    ("553 sorry, that domain isn't in my list of allowed rcpthosts (#5.7.1)", "norelaying"),
    ("554 5.7.1 <mx.example.com>: Helo command rejected: Host not found", "blocked"),
    ("450 4.1.8 <x@example.com>: Sender address rejected: Domain not found", "rejected"),
    ("450 4.7.1 Client host rejected: cannot find your hostname, [192.0.2.1]", "requireptr"),
    ("554 5.7.1 <x@example.com>: Relay access denied", "norelaying"),
    ("Unrouteable address", "hostunknown"),
    (
        "550 5.1.1 <x@example.com>: Recipient address rejected: User unknown in local recipient "
        "table",
        "userunknown",
    ),
    # A failed record whose last reply was greylisting: the queue gave up (expired).
    ("450 4.2.0 <x@example.com>: Recipient address rejected: Greylisted", "expired"),
    ("552 5.3.4 Message size exceeds fixed limit", "mesgtoobig"),
    ("550 5.7.1 Message rejected as spam by Content Filtering.", "spamdetected"),
    ("554 5.7.1 The message contains a virus", "virusdetected"),
    ("530 5.7.0 Must issue a STARTTLS command first", "failedstarttls"),
    ("Amazon SES has suppressed sending to this address", "suppressed"),
    ("retry timeout exceeded", "expired"),
    ("connect to mx.example.com[192.0.2.1]:25: Connection timed out", "expired"),
    (
        "Host or domain name not found. Name service error for name=example.com type=A",
        "hostunknown",
    ),
    ("550 5.7.27 Sender address has null MX", "rejected"),
    ("556 5.1.10 Recipient address has null MX", "notaccept"),
]


# Wording that means one reason only at its provider (data/providers.toml): the
# record names a recipient there, as a real bounce from that provider does.
AT_PROVIDER = {
    "552 1 Requested mail action aborted, mailbox not found": "x@yahoo.com",
    "550 Mailbox not found. http://service.mail.qq.com/cgi-bin/help": "x@qq.com",
}


@pytest.mark.parametrize(("diagnostic", "expected"), CASES)
def test_provider_wording(diagnostic: str, expected: str) -> None:
    rec = DeliveryRecord(
        recipient=AT_PROVIDER.get(diagnostic, "x@example.com"),
        action="failed",
        diagnostic=diagnostic,
        status=find_status(diagnostic),
        reply_code=find_reply_code(diagnostic),
    )
    bounce = classify(Report(kind=Kind.BOUNCE, detector="test", records=[rec]))[0]
    assert bounce.reason == expected, bounce.rule


def test_provider_wording_elsewhere_is_the_general_rule() -> None:
    # The same words from an unknown host decide by the general wording: dead too,
    # but by the general phrase, not the provider's rule.
    rec = DeliveryRecord(
        recipient="x@example.com",
        action="failed",
        diagnostic="550 Mailbox not found",
        reply_code="550",
    )
    bounce = classify(Report(kind=Kind.BOUNCE, detector="test", records=[rec]))[0]
    assert (bounce.reason, bounce.rule) == ("userunknown", "phrase:userunknown")
    rec.recipient = "x@qq.com"
    bounce = classify(Report(kind=Kind.BOUNCE, detector="test", records=[rec]))[0]
    assert (bounce.reason, bounce.rule) == ("userunknown", "provider:qq")
