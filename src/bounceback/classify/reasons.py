"""The reason vocabulary (Sisimai's names) and what each reason means for a contact.

Kept apart from the evidence: parsers and rules say *which* reason applies; this
table says whether the address is dead, which hold category it counts in, and
which status code stands for it when the message gave none.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Reason:
    name: str
    bounce_type: str
    hard: bool  # the address itself is unusable (Sisimai's hardbounce)
    status: str  # the status a message with this reason and no code stands for
    meaning: str


# Hold categories (DESIGN.md) with their default thresholds; None: never held.
BOUNCE_TYPES: dict[str, int | None] = {
    "Invalid": 1,
    "Inactive": 1,
    "Spam": 1,
    "AOL (Complaint)": 1,
    "DNS": 3,
    "Host": 3,
    "Relay": 3,
    "Quota": 3,
    "Loop": 3,
    "Syntax": 3,
    "Away": 30,
    "Sender": None,
}

_TABLE = (
    Reason("userunknown", "Invalid", True, "5.1.1", "the mailbox does not exist"),
    Reason("hostunknown", "DNS", True, "5.1.2", "the recipient domain does not exist"),
    Reason("hasmoved", "Invalid", True, "5.1.6", "the recipient has moved away"),
    Reason("mailboxfull", "Quota", False, "4.2.2", "the mailbox is full"),
    Reason("mesgtoobig", "Quota", False, "5.3.4", "the message is too big for the mailbox"),
    Reason("exceedlimit", "Quota", False, "5.2.3", "the message exceeds a size limit"),
    Reason("emailtoolarge", "Quota", False, "5.3.4", "the message is too large"),
    Reason("systemfull", "Quota", False, "4.3.1", "the receiving system's disk is full"),
    Reason("suspend", "Inactive", False, "5.2.1", "the mailbox is disabled or suspended"),
    Reason("filtered", "Spam", False, "5.2.0", "the recipient's filter refused it"),
    Reason("rejected", "Sender", False, "5.1.8", "the envelope sender was refused"),
    Reason("blocked", "Sender", False, "5.7.1", "the sending IP or host is blocked"),
    Reason("spamdetected", "Spam", False, "5.7.1", "the content was judged spam"),
    Reason("virusdetected", "Spam", False, "5.7.1", "a virus was found in the message"),
    Reason("policyviolation", "Spam", False, "5.7.0", "the message broke a site policy"),
    Reason("contenterror", "Spam", False, "5.6.0", "the content is malformed"),
    Reason("securityerror", "Sender", False, "5.7.0", "authentication or security failure"),
    Reason("authfailure", "Sender", False, "5.7.26", "SPF, DKIM or DMARC failed"),
    Reason("badreputation", "Sender", False, "4.7.0", "the sender's reputation is poor"),
    Reason("requireptr", "Sender", False, "5.7.25", "the sending IP has no valid PTR"),
    Reason("notcompliantrfc", "Syntax", False, "5.7.1", "the message violates the RFCs"),
    Reason("norelaying", "Relay", False, "5.7.1", "relaying denied"),
    Reason("notaccept", "Host", False, "5.1.10", "the host accepts no mail (null MX)"),
    Reason("networkerror", "Relay", False, "4.4.0", "the destination could not be reached"),
    Reason("systemerror", "Host", False, "4.3.0", "the receiving system failed"),
    Reason("mailererror", "Host", False, "5.3.0", "the local mailer program failed"),
    Reason("toomanyconn", "Sender", False, "4.7.0", "too many connections"),
    Reason("speeding", "Sender", False, "4.7.0", "sending too fast: rate limited"),
    Reason("syntaxerror", "Syntax", False, "5.5.2", "an SMTP syntax error"),
    Reason("expired", "Host", False, "4.4.7", "delivery time expired"),
    Reason("onhold", "Host", False, "5.0.0", "the failure could not be decided"),
    Reason("suppressed", "Invalid", False, "5.0.0", "the address is on a suppression list"),
    Reason("failedstarttls", "Sender", False, "5.7.10", "STARTTLS was required and failed"),
    Reason("vacation", "Away", False, "", "an auto-reply: the recipient is away"),
    Reason("feedback", "AOL (Complaint)", False, "", "the recipient complained (spam report)"),
    Reason("delivered", "", False, "2.0.0", "the message was delivered"),
    Reason("undefined", "Host", False, "5.0.0", "no reason could be found"),
)

REASONS: dict[str, Reason] = {r.name: r for r in _TABLE}


def reason(name: str) -> Reason:
    return REASONS.get(name) or REASONS["undefined"]


def is_hard(name: str, status: str = "") -> bool:
    """Sisimai's hardbounce: the address is unusable, whatever is tried again."""
    if name == "notaccept":
        # A null MX (5.x) is final; a host that refuses for now (4.x) is not.
        return status[:1] == "5" or status == ""
    return reason(name).hard
