"""The script: what the scripted remote answers, and what each answer means.

Every scenario is one test message (a companion scenario only rides along in
another's message). The remote server looks each recipient's local part up here
and answers as scripted; the expected records for the DSN the MTA sends back
come from this table, never from reading the DSN.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass, field


class Stage(enum.Enum):
    """Where in the SMTP dialogue the remote refuses."""

    MAIL = "mail"  # at MAIL FROM (keyed on the sender's local part)
    RCPT = "rcpt"  # at RCPT TO
    DATA = "data"  # after the end of data
    GREETING = "greeting"  # 421 banner, on its own port
    REFUSED = "refused"  # nothing listening on the port
    SILENT = "silent"  # accepts TCP, never says anything


class Notice(enum.Enum):
    """Which kind of DSN: the last word on a message, or a "still trying" warning."""

    FINAL = "final"
    DELAY = "delay"


class Route(enum.Enum):
    """The recipient domain, which picks the port the MTA relays to."""

    # Names that say nothing about what happens there: the DSN's own words must be
    # the only evidence a parser gets.
    REMOTE = "remote.example.net"
    # The scripted remote again, on its own address: for replies that make an MTA
    # mark the whole host down (a 421 makes Sendmail defer every other message for
    # that host with this reply).
    SEPARATE = "delta.example.net"
    GREETING = "alpha.example.net"
    REFUSED = "bravo.example.net"
    SILENT = "charlie.example.net"


SINK_DOMAIN = "sink.example.org"  # senders live here; DSNs come back here


def neutral(token: str) -> str:
    """A stable local part that gives nothing away ("mailbox-full" would be a hint)."""
    return "u" + hashlib.sha256(token.encode()).hexdigest()[:6]


@dataclass(frozen=True)
class Scenario:
    name: str  # for people and file names; addresses use neutral(name)
    stage: Stage
    reply: str  # the full reply line(s) the remote sends ("" when none)
    reason: str  # expected reason (bounceback / Sisimai vocabulary)
    hardbounce: bool
    why: str  # one line for the README: why this reason
    extra_rcpts: tuple[str, ...] = field(default=())  # more local parts, same answer
    # Other scenarios whose recipients ride in this message (each keeps its own
    # answer and expectations), and local parts the remote accepts: a DSN must not
    # report those.
    companions: tuple[str, ...] = field(default=())
    accepted: tuple[str, ...] = field(default=())
    alone: bool = True  # False: only ever sent as another scenario's companion
    separate_host: bool = False  # relay to Route.SEPARATE instead of Route.REMOTE

    @property
    def route(self) -> Route:
        return {
            Stage.GREETING: Route.GREETING,
            Stage.REFUSED: Route.REFUSED,
            Stage.SILENT: Route.SILENT,
        }.get(self.stage, Route.SEPARATE if self.separate_host else Route.REMOTE)

    @property
    def temporary(self) -> bool:
        """True when the MTA retries until the queue lifetime runs out."""
        if self.stage in (Stage.GREETING, Stage.REFUSED, Stage.SILENT):
            return True
        return self.reply[:1] == "4"

    @property
    def local_parts(self) -> tuple[str, ...]:
        return tuple(neutral(x) for x in (self.name, *self.extra_rcpts))

    def recipients(self) -> list[str]:
        """The recipients this scenario refuses (its expected records)."""
        return [f"{lp}@{self.route.value}" for lp in self.local_parts]

    def riders(self) -> list[Scenario]:
        """This scenario and its companions, in the order of the expected records."""
        return [self, *(BY_NAME[n] for n in self.companions)]

    def envelope_recipients(self) -> list[str]:
        """Everyone the test message is sent to."""
        out = [r for sc in self.riders() for r in sc.recipients()]
        return out + [f"{neutral(lp)}@{self.route.value}" for lp in self.accepted]

    @property
    def sender(self) -> str:
        return f"sender-{neutral(self.name)}@{SINK_DOMAIN}"

    @property
    def replycode(self) -> str:
        return self.reply[:3] if self.reply[:1] in "45" and self.reply else ""

    @property
    def enhanced(self) -> str:
        """The enhanced status code of the scripted reply, "" when it has none."""
        parts = self.reply.split("\r\n")[-1].split(" ", 2)
        if len(parts) > 1 and parts[1][:1] in "245" and parts[1].count(".") == 2:
            return parts[1]
        return ""


SCENARIOS: tuple[Scenario, ...] = (
    # --- permanent failures: one DSN each, at once ---------------------------
    Scenario(
        "unknown-rcpt",
        Stage.RCPT,
        "550 5.1.1 {rcpt}: Recipient address rejected: User unknown in local recipient table",
        "userunknown",
        True,
        "the reply says the mailbox does not exist",
    ),
    Scenario(
        "nosuch-plain",
        Stage.RCPT,
        "550 No such user here",
        "userunknown",
        True,
        "'No such user' with no enhanced code: the text still says the address is dead",
    ),
    Scenario(
        "unknown-multiline",
        Stage.RCPT,
        "550-5.1.1 The email account that you tried to reach does not exist. Please try\r\n"
        "550-5.1.1 double-checking the recipient's email address for typos or\r\n"
        "550 5.1.1 unnecessary spaces. https://support.example.net/answer/6596 x1si123",
        "userunknown",
        True,
        "multi-line 550-5.1.1 reply (large-provider style): the account does not exist",
    ),
    Scenario(
        "unknown-data",
        Stage.DATA,
        "550 5.1.1 {rcpt}: user unknown",
        "userunknown",
        True,
        "user unknown after DATA: the plain meaning wins over the stage (corpora/README.md)",
    ),
    Scenario(
        "bad-mailbox",
        Stage.RCPT,
        "553 5.1.3 {rcpt}: Recipient address rejected: mailbox name not allowed",
        "userunknown",
        True,
        "553 5.1.3 bad destination mailbox address: this address can never be delivered",
    ),
    Scenario(
        "moved-551",
        Stage.RCPT,
        "551 5.1.6 User not local; please try <new-address@elsewhere.example.com>",
        "hasmoved",
        True,
        "551 5.1.6 'mailbox has moved': the address is gone, a forwarding address is given",
    ),
    Scenario(
        "disabled",
        Stage.RCPT,
        "550 5.2.1 {rcpt}: Mailbox disabled, not accepting messages",
        "suspend",
        False,
        "5.2.1 mailbox disabled: the account exists but is suspended (soft)",
    ),
    Scenario(
        "mailbox-full",
        Stage.RCPT,
        "552 5.2.2 {rcpt}: Mailbox full, quota exceeded",
        "mailboxfull",
        False,
        "552 5.2.2 mailbox full",
    ),
    Scenario(
        "too-big",
        Stage.DATA,
        "552 5.3.4 Message size exceeds fixed maximum message size",
        "mesgtoobig",
        False,
        "552 5.3.4 message too big for the system",
    ),
    Scenario(
        "spam-content",
        Stage.DATA,
        "554 5.7.1 Message rejected as spam by content filter (score 12.3)",
        "spamdetected",
        False,
        "the text says a content filter judged the message spam",
    ),
    Scenario(
        "policy-rcpt",
        Stage.RCPT,
        "554 5.7.1 {rcpt}: Recipient address rejected: Access denied by local policy",
        "policyviolation",
        False,
        "the text says a local policy refused it, nothing about spam or the client's IP",
    ),
    Scenario(
        "rbl-blocked",
        Stage.RCPT,
        "550 5.7.1 Service unavailable; Client host [127.0.0.1] blocked using zen.spamhaus.org",
        "blocked",
        False,
        "the sending host's IP is on a DNS blocklist",
    ),
    Scenario(
        "sender-rejected",
        Stage.MAIL,
        "553 5.7.1 <{sender}>: Sender address rejected: not owned by user",
        "rejected",
        False,
        "refused at MAIL FROM: the sender, not the recipient, was refused",
    ),
    Scenario(
        "relay-denied",
        Stage.RCPT,
        "554 5.7.1 {rcpt}: Relay access denied",
        "norelaying",
        False,
        "relay access denied: the remote is not a destination for that domain",
    ),
    Scenario(
        "unknown-two",
        Stage.RCPT,
        "550 5.1.1 {rcpt}: Recipient address rejected: User unknown",
        "userunknown",
        True,
        "two unknown recipients in one message: one DSN, two records",
        extra_rcpts=("unknown-two-b",),
    ),
    Scenario(
        "virus",
        Stage.DATA,
        "554 5.7.1 Message rejected: infected with Eicar-Test-Signature",
        "virusdetected",
        False,
        "the text says a virus was found in the message",
    ),
    Scenario(
        "dmarc",
        Stage.DATA,
        "550 5.7.26 Unauthenticated email from sink.example.org is not accepted due to"
        " domain's DMARC policy",
        "authfailure",
        False,
        "5.7.26 and DMARC: the sender domain's authentication failed",
    ),
    Scenario(
        "admin-limit",
        Stage.DATA,
        "552 5.2.3 Message length exceeds administrative limit",
        "exceedlimit",
        False,
        "552 5.2.3: over a size limit the administrator set (not the mailbox's)",
    ),
    Scenario(
        "mixed-unknown",
        Stage.RCPT,
        "550 5.1.1 {rcpt}: Recipient address rejected: User unknown in virtual mailbox table",
        "userunknown",
        True,
        "one message, three recipients: this one unknown, one mailbox full, one accepted",
        companions=("mixed-full",),
        accepted=("mixed-accepted",),
    ),
    Scenario(
        "mixed-full",
        Stage.RCPT,
        "552 5.2.2 {rcpt}: Recipient address rejected: Mailbox is over quota",
        "mailboxfull",
        False,
        "the mailbox-full recipient of the mixed-unknown message",
        alone=False,
    ),
    # --- temporary failures: retried until the queue lifetime runs out --------
    Scenario(
        "greylisted",
        Stage.RCPT,
        "451 4.7.1 {rcpt}: Recipient address rejected: Greylisted, see https://greylist.example.net/",
        "expired",
        False,
        "greylisting that never lets up: the MTA gave up after retrying",
    ),
    Scenario(
        "temp-450",
        Stage.RCPT,
        "450 4.2.0 {rcpt}: Recipient address rejected: Mailbox temporarily unavailable",
        "expired",
        False,
        "a 450 on every attempt: the MTA gave up after retrying",
    ),
    Scenario(
        "temp-452",
        Stage.RCPT,
        "452 4.3.1 Insufficient system storage",
        "expired",
        False,
        "a 452 on every attempt: the MTA gave up after retrying",
    ),
    Scenario(
        "temp-data-451",
        Stage.DATA,
        "451 4.3.0 Local error in processing, please try again later",
        "expired",
        False,
        "a 451 after DATA on every attempt: the MTA gave up after retrying",
    ),
    Scenario(
        "over-quota-temp",
        Stage.RCPT,
        "452 4.2.2 The email account that you tried to reach is over quota. Please direct"
        " the recipient to https://support.example.net/answer/6558",
        "expired",
        False,
        "a temporary over-quota on every attempt: the MTA gave up after retrying"
        " (a reader may say mailboxfull; the rubric says expired)",
    ),
    Scenario(
        "no-ptr-temp",
        Stage.RCPT,
        "450 4.7.25 Client host rejected: cannot find your hostname, [127.0.0.1]",
        "expired",
        False,
        "a temporary reverse-DNS refusal on every attempt: the MTA gave up after retrying",
    ),
    Scenario(
        "rate-limit",
        Stage.RCPT,
        "421 4.7.0 Too many messages from 127.0.0.1, slow down and try again later",
        "expired",
        False,
        "421 rate limiting at RCPT on every attempt: the MTA gave up after retrying",
        separate_host=True,
    ),
    Scenario(
        "greeting-421",
        Stage.GREETING,
        "421 4.3.2 mx.alpha.example.net Service not available, closing transmission channel",
        "expired",
        False,
        "421 banner on every connection: the MTA gave up after retrying",
    ),
    Scenario(
        "refused",
        Stage.REFUSED,
        "",
        "expired",
        False,
        "connection refused on every attempt: the MTA gave up after retrying",
    ),
    Scenario(
        "silent",
        Stage.SILENT,
        "",
        "expired",
        False,
        "the host accepts TCP but never greets: timeouts until the MTA gave up",
    ),
)

BY_LOCAL_PART: dict[str, Scenario] = {lp: s for s in SCENARIOS for lp in s.local_parts}
BY_NAME: dict[str, Scenario] = {s.name: s for s in SCENARIOS}
BY_TAG: dict[str, Scenario] = {neutral(s.name): s for s in SCENARIOS}  # sender-<tag>@
