"""Google's current bounce, sent for Gmail and Google Workspace alike.

    ** Address not found **
    Your message wasn't delivered to user@example.de because the address
    couldn't be found. Check for typos or unnecessary spaces and try again.
    The response from the remote server was:
    550 #5.1.0 Address rejected.

A message/delivery-status part usually follows, often without a
Diagnostic-Code (and sometimes empty); the remote server's response, or
Google's own explanation, is then the only diagnostic there is.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse import dsn
from bounceback.parse.base import make_report
from bounceback.parse.lhost._google import failed_recipients, from_google
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "googleworkspace"
ORDER = Band.GATEWAY

_HEADING_RE = re.compile(r"^[ \t]*\*\* ?([^*\n]{3,80}?) ?\*\*[ \t]*$", re.M)
_RESPONSE_RE = re.compile(
    r"^[ \t]*the response (?:from the remote server )?was:[ \t]*$", re.I | re.M
)
_DELIVERED_TO_RE = re.compile(r"\b(?:delivered|delivering your message) to (\S+@\S+)", re.I)
_NOISE_RE = re.compile(r"^\s*(?:learn more|\(warning:)", re.I)


def _explanation(text: str, start: int) -> str:
    """The paragraph after the heading, without the 'Learn more' links."""
    lines: list[str] = []
    for line in text[start:].split("\n"):
        if _RESPONSE_RE.match(line):
            break
        if _NOISE_RE.match(line):
            continue
        if not line.strip():
            if lines:
                break
            continue
        lines.append(line)
    return squeeze(" ".join(lines))


def _response(text: str) -> str:
    m = _RESPONSE_RE.search(text)
    if m is None:
        return ""
    rest = text[m.end() :].strip("\n")
    para = rest.split("\n\n", 1)[0]
    return squeeze(para)


def detect(mail: Mail) -> Report | None:
    if not from_google(mail):
        return None
    text = mail.report_text
    heading = _HEADING_RE.search(text)
    if heading is None and _RESPONSE_RE.search(text) is None:
        return None
    explanation = _explanation(text, heading.end()) if heading else ""
    diagnostic = _response(text) or explanation
    delayed = heading is not None and "incomplete" in heading.group(1).lower()
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        addrs = failed_recipients(mail)
        if not addrs and (named := _DELIVERED_TO_RE.search(explanation)):
            # "Your message wasn't delivered to user@example.org because ..."
            addrs = [find_address(named.group(1))]
        records = [DeliveryRecord(recipient=r) for r in addrs if r]
    if not records:
        return None
    for rec in records:
        if not rec.diagnostic:
            rec.diagnostic = diagnostic
        if not rec.action:
            rec.action = "delayed" if delayed else "failed"
    report = make_report(mail, NAME, records)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report
