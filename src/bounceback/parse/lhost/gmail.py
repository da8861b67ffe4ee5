"""Gmail's plain-text bounce (the format Google sent until about 2016).

    Delivery to the following recipient failed permanently:
         user@example.jp
    Technical details of permanent failure:
    Google tried to deliver your message, but it was rejected by the server for
    the recipient domain example.jp by mx.example.jp. [192.0.2.153].
    The error that the other server returned was:
    550 5.1.1 <user@example.jp>... User Unknown
    ----- Original message -----

A delay says "has been delayed" and "temporary failure" instead. The returned
message follows inline; Mail.original reads it.
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.lhost._google import failed_recipients, from_google
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "gmail"
ORDER = Band.PROVIDER

_LIST_RE = re.compile(
    r"^[ \t]*delivery to the following recipients? (failed permanently|has been delayed|failed)"
    r"[^\n]*\n",
    re.I | re.M,
)
_DETAILS_RE = re.compile(r"technical details of (?:permanent|temporary) failure:", re.I)
_REMOTE_SAID_RE = re.compile(r"the error that the other server returned was:\s*", re.I)
_STATE_RE = re.compile(r"(?<!\s)\s*\(state \d+\)\.?\s*$", re.I)
_BY_HOST_RE = re.compile(r"\bby ([A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9])\.? \[[0-9A-Fa-f.:]+\]")
_SOCKET_HOST_RE = re.compile(r"\[(?:\(\d+\) )?([A-Za-z0-9][A-Za-z0-9.\-]*[A-Za-z0-9])\.? ")


def _listed(text: str, start: int) -> list[str]:
    """The indented addresses under the list line, up to the first blank after them."""
    out: list[str] = []
    for line in text[start:].split("\n"):
        if not line.strip():
            if out:
                break
            continue
        addr = find_address(line)
        if not addr or len(line.split()) > 1:
            break
        out.append(addr)
    return out


def _details(text: str) -> tuple[str, str]:
    """(diagnostic, remote MTA) from the technical details paragraph."""
    m = _DETAILS_RE.search(text)
    if m is None:
        return "", ""
    details = squeeze(text[m.end() :])
    remote = ""
    host = _BY_HOST_RE.search(details) or _SOCKET_HOST_RE.search(details)
    if host:
        remote = host.group(1)
    said = _REMOTE_SAID_RE.search(details)
    if said:
        # The remote server's own words say more than Google's preamble.
        details = details[said.end() :]
    return _STATE_RE.sub("", details), remote


def detect(mail: Mail) -> Report | None:
    if not from_google(mail):
        return None
    text = mail.report_text
    m = _LIST_RE.search(text)
    if m is None:
        return None
    action = "delayed" if "delayed" in m.group(1).lower() else "failed"
    recipients = _listed(text, m.end()) or failed_recipients(mail)
    if not recipients:
        return None
    diagnostic, remote = _details(text[m.end() :])
    records = [
        DeliveryRecord(recipient=r, action=action, diagnostic=diagnostic, remote_mta=remote)
        for r in recipients
    ]
    return make_report(mail, NAME, records)
