"""RFC 3834 automatic responses: vacation notices and other auto-replies."""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Kind, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import find_address

NAME = "rfc3834"

_SUBJECT_RE = re.compile(
    r"^(?:auto(?:matic)?[ _-]?(?:reply|response|antwort|risposta|respuesta)\b|"
    r"out of (?:the )?office|away from (?:the )?office|"
    r"(?:i am|i'm) (?:currently )?(?:away|out)|on vacation|vacation|"
    r"abwesenheit|absence|abwesend|r[ée]ponse automatique|"
    r"risposta automatica|respuesta autom[áa]tica|automatisch antwoord|"
    r"away until|autoreply|autoresponse)",
    re.I,
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|delivery (?:status|failure|notification)|returned mail|failure notice|"
    r"mail delivery|non.?deliver|rejected|could not be delivered",
    re.I,
)


def _auto_submitted(mail: Mail) -> bool:
    value = mail.header("Auto-Submitted").lower()
    return value.startswith("auto-replied") or value.startswith("auto-generated")


def is_autoreply(mail: Mail) -> bool:
    if _BOUNCE_SUBJECT_RE.search(mail.subject):
        return False
    if mail.header("X-Autoreply") or mail.header("X-Autorespond") or mail.header(
        "X-Autoresponder"
    ):
        return True
    if mail.header("X-Auto-Response-Suppress") and _SUBJECT_RE.search(mail.subject):
        return True
    if _auto_submitted(mail) and mail.header("Auto-Submitted").lower().startswith("auto-replied"):
        return True
    precedence = mail.header("Precedence").lower()
    if precedence in ("auto_reply", "auto-reply"):
        return True
    return bool(_SUBJECT_RE.search(mail.subject))


def detect(mail: Mail) -> Report | None:
    if mail.status_groups or not is_autoreply(mail):
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
    return report
