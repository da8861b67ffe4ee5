"""RFC 3834 automatic responses: vacation notices and other auto-replies.

Signals, strongest first: X-Autoreply / X-Autorespond headers, Precedence:
auto_reply, Auto-Submitted: auto-replied, and a vacation subject in one of
several languages. Bounces carry some of the same marks (Google's say
Auto-Submitted: auto-replied), so anything that looks like a bounce (sent by
a mailer-daemon, a bounce subject, a delivery-status part) is never taken.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_address

NAME = "rfc3834"

_SUBJECT_RE = re.compile(
    # Some put the tag in brackets: "[Automatyczna odpowiedź] <subject>".
    r"^(?:(?:re|aw|fw|fwd|sv|vs)\s*:\s*)?\[?(?:"
    r"auto(?:matic|matische|matisk|matikus|matyczna)?[ _-]?(?:reply|response|respons|antwort|svar|"
    r"risposta|respuesta|resposta|réponse|odpowiedź|odpověď|válasz|vastaus|"
    r"beantwoording|antwoord)\b|"
    r"out of (?:the )?office|away from (?:the |my )?office|"
    r"(?:i am|i'm) (?:currently )?(?:away|out)|on (?:vacation|holiday|leave)|vacation|"
    r"abwesenheit|abwesend|absence|absent|congés|r[ée]ponse automatique|"
    r"risposta automatica|fuori ufficio|respuesta autom[áa]tica|fuera de la oficina|"
    r"resposta autom[áa]tica|ausente|automatisch antwoord|afwezig|"
    r"frånvaro|fravær|poissa|nieobecno|自動応答|自動返信|不在|自动回复|"
    r"away until|autoreply|autoresponse|auto-reply|"
    # An autoresponder's acknowledgement ("Thank you for your e-mail").
    r"thank(?:s| you) for (?:your (?:e-?mail|message|mail|enquiry|inquiry)|contacting))",
    re.I,
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|delivery (?:status|failure|notification|has failed|problem)|returned mail|"
    r"failure notice|mail delivery|non.?deliver|rejected|could not be delivered|"
    r"not delivered|error sending|returned to sender|mail system error|delivery failed",
    re.I,
)
# A quoted field line of the message being answered ("  Subject: ...").
QUOTED_FIELD_RE = re.compile(
    r"^[ \t>]*+(?:subject|to|from|sent|date|cc)[ \t]*+:[^\n]*+", re.I | re.M
)
_MSGID_RE = re.compile(r"<[^<>\s][^<>\s@]*+@[^<>\s]++>")
_DAEMON_RE = re.compile(r"mailer-daemon|postmaster|mail delivery (?:system|subsystem)", re.I)
# What bounce texts say and vacation notices do not; checked only when the
# auto-reply evidence is weak (Auto-Submitted or the subject alone).
_BOUNCE_TEXT_RE = re.compile(
    r"could not be delivered|couldn't be delivered|was not delivered|undeliverable|"
    r"delivery (?:has )?failed|permanent(?:ly)? (?:fatal )?(?:error|failure)|"
    r"remote (?:host|server) (?:said|returned)|returned to sender|"
    r"following (?:address|recipient)s? (?:failed|had)|unable to deliver|"
    r"message (?:was )?rejected|\b5[0-5]\d[ -]5\.\d{1,3}\.\d{1,3}\b|"
    r"not a valid (?:user|recipient|mailbox)|(?:user|mailbox) (?:unknown|does not exist)|"
    r"no such (?:user|mailbox)|recipient(?:\(s\)|s)? (?:could|can)(?:not|n't) be reached",
    re.I,
)


# Lotus Notes: "AUTO: <name> is out of the office (returning <date>)", or the
# same without the tag.
_NOTES_SUBJECT_RE = re.compile(r"^auto:\s|\bis out of (?:the )?office\b", re.I)


def autoreply_subject(subject: str) -> bool:
    """Whether a subject is an auto-reply's (out of office, automatic reply, ...)."""
    subject = subject.strip()
    return bool(_SUBJECT_RE.search(subject) or _NOTES_SUBJECT_RE.search(subject))


def _looks_like_bounce(mail: Mail) -> bool:
    if mail.status_groups or mail.report_type == "delivery-status":
        return True
    if _DAEMON_RE.search(mail.from_):
        return True
    return bool(_BOUNCE_SUBJECT_RE.search(mail.subject))


def is_autoreply(mail: Mail) -> bool:
    if _looks_like_bounce(mail):
        return False
    if (
        mail.msg.get("X-Autoreply")
        or mail.msg.get("X-Autorespond")
        or mail.msg.get("X-Autoresponder")
    ):
        return True
    if mail.header("Precedence").strip().lower() in ("auto_reply", "auto-reply"):
        return True
    weak = mail.header("Auto-Submitted").strip().lower().startswith(
        "auto-replied"
    ) or autoreply_subject(mail.subject)
    # Quoted Subject: lines ("Subject: Delivery failed") are the answered message's.
    return weak and not _BOUNCE_TEXT_RE.search(QUOTED_FIELD_RE.sub("", mail.report_text[:5000]))


def detect(mail: Mail) -> Report | None:
    if not is_autoreply(mail):
        return None
    sender = find_address(mail.header("From")) or find_address(mail.header("Reply-To"))
    body = " ".join(mail.text.split())[:300]
    record = DeliveryRecord(
        recipient=sender,
        action="delivered",
        diagnostic=body or mail.subject,
        reason_hint="vacation",
    )
    report = make_report(mail, NAME, [record], kind=Kind.AUTOREPLY)
    if not report.original.message_id:
        # RFC 3834 asks responders to name the message they answer.
        # In-Reply-To names it; the last of References is the nearest ancestor.
        ids = _MSGID_RE.findall(mail.header("In-Reply-To"))[:1]
        ids = ids or _MSGID_RE.findall(mail.header("References"))[-1:]
        if ids:
            report.original.message_id = ids[0]
    return report
