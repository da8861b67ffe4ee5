"""X.400 gateways' non-delivery reports, whose recipients are X.400 O/R addresses.

A gateway between X.400 and Internet mail (Exchange's MTA and IMS, ISOCOR, PP,
the PTTs' ADMD gateways) writes an Internet address into the O/R address as a
domain-defined attribute, "dda:SMTP=user@host" or "RFC-822=user(a)host":

    Your message was not delivered to the following recipient:

      /RFC-822=first.last(a)example.de/O=EXAMPLE/PRMD=EXAMPLE/ADMD=DBP/C=DE/

    Reason:      Unable to transfer
    Diagnostic:  Unrecognized OR name

Characters an X.400 printable string lacks are written as RFC 2156 (MIXER)
escapes: "(a)" for "@", "(u)" for "_", "(p)" for "%", "(NNN)" for any other.
Some gateways send a DSN whose Final-Recipient is "x400; <O/R address>".
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.fallback import looks_like_bounce, own_parties
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, squeeze

NAME = "x400"
ORDER = Band.ADDRESS_FORM

_KEYS = ("rfc-822=", "rfc822=", "dda:smtp=", "dda:internet=")
_ATTRIBUTE_RE = re.compile(r"(?:rfc-?822|dda:smtp|dda:internet)=([^/;\s]{1,256})", re.I)
_ESCAPE_RE = re.compile(r"\((a|p|b|q|u|l|r|\d{3})\)", re.I)
_ESCAPES = {"a": "@", "p": "%", "b": "!", "q": '"', "u": "_", "l": "(", "r": ")"}
_MTS_ID_RE = re.compile(r"\(?\bMTS-ID\b[^\n)]{0,200}\)?", re.I)
_COPY_RE = re.compile(r"^[\s\-=*]{0,40}(?:original|returned|rejected) message\b", re.I)
_MAX_DETAIL_LINES = 6


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1).lower()
    return chr(int(code)) if code.isdigit() else _ESCAPES[code]


def x400_address(text: str) -> str:
    """The Internet address in an X.400 O/R address; '' when it holds none."""
    m = _ATTRIBUTE_RE.search(text)
    if m is None:
        return ""
    return find_address(_ESCAPE_RE.sub(_unescape, m.group(1)))


def _has_key(text: str) -> bool:
    return any(key in text for key in _KEYS)


def _details(lines: list[str], n: int) -> str:
    """What the report prints under an address: its paragraph and the next one."""
    out: list[str] = []
    blanks = 0
    for line in lines[n + 1 : n + 1 + 3 * _MAX_DETAIL_LINES]:
        if not line.strip():
            blanks += 1
            if blanks > 1 and out:
                break
            continue
        if _has_key(line.lower()) or _COPY_RE.match(line) or len(out) == _MAX_DETAIL_LINES:
            break
        out.append(_MTS_ID_RE.sub(" ", line).strip())  # only names the message
    return squeeze(" ".join(out))


def _fix_dsn_recipients(records: list[DeliveryRecord]) -> list[DeliveryRecord]:
    out = []
    for rec in records:
        if _has_key(rec.recipient.lower()):
            rec.recipient = x400_address(rec.recipient)
        if _has_key(rec.original_recipient.lower()):
            rec.original_recipient = x400_address(rec.original_recipient)
        if rec.recipient:
            out.append(rec)
    return out


def detect(mail: Mail) -> Report | None:
    if not _has_key(mail.text_lc) and not any(
        _has_key(value.lower()) for group in mail.status_groups for _, value in group
    ):
        return None
    if not looks_like_bounce(mail):
        return None
    if mail.status_groups:
        fixed = _fix_dsn_recipients(dsn_records(mail))
        if fixed:
            return make_report(mail, NAME, fixed)
    parties = own_parties(mail)
    lines = mail.report_text.split("\n")
    records: list[DeliveryRecord] = []
    for n, line in enumerate(lines):
        if _COPY_RE.match(line):
            break
        if not _has_key(line.lower()):
            continue
        address = x400_address(line)
        if not address or address.lower() in parties:
            continue
        records.append(
            DeliveryRecord(recipient=address, action="failed", diagnostic=_details(lines, n))
        )
    if not records:
        return None
    return make_report(mail, NAME, records)
