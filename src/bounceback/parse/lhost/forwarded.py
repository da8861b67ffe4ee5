"""A bounce forwarded whole: the report is the attached message, not the outer one.

Mail filters and gateways (Trend Micro IMSVA in front of Mirapoint, for one)
relay a bounce they received as a message/rfc822 attachment under a notice of
their own that names no recipient. When the outer message has no
delivery-status part and its text names no address, the attached message is
read as the bounce.
"""

from __future__ import annotations

from contextvars import ContextVar

from bounceback.model import Report
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import ADDRESS_RE

NAME = "forwarded"
ORDER = Band.FORWARDED

# One level only: a forwarded bounce inside a forwarded bounce is not followed.
_INSIDE: ContextVar[bool] = ContextVar("forwarded_inside", default=False)


def detect(mail: Mail) -> Report | None:
    if _INSIDE.get() or mail.status_groups or "message/rfc822" not in mail.content_types:
        return None
    inner = mail.original
    if inner is None or not inner.is_multipart():
        return None
    if (
        inner.get_content_type() != "multipart/report"
        and "mailer-daemon" not in str(inner.get("From", "")).lower()
    ):
        return None
    if ADDRESS_RE.search(mail.report_text):
        return None
    from bounceback.parse import parse_mail

    token = _INSIDE.set(True)
    try:
        report = parse_mail(Mail(inner))
    finally:
        _INSIDE.reset(token)
    if not report.records:
        return None
    report.detector = f"{NAME}:{report.detector}"
    return report
