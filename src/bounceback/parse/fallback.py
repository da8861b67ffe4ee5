"""Last resort: a message that plainly is a bounce but follows no known format.

It must look like a bounce by its envelope (a MAILER-DAEMON or postmaster
sender, a bounce-like Subject, Auto-Submitted, a multipart/report, or an
X-Failed-Recipients header) and then names its recipients conservatively: the
X-Failed-Recipients header, or text lines that pair an address with an SMTP
error or with an introduction such as "the following recipients failed".
Addresses of the sender, of the bounce's own envelope and of mail services
(postmaster, mailer-daemon) never count.
"""

from __future__ import annotations

import re
from itertools import islice

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import ADDRESS_RE, FAILURE_RE, clean_address, find_addresses

NAME = "fallback"

# "daemon" ends a word ("MAILER-DAEMON", "maildaemon"): the same test as a word that
# ends so, without a run of word characters to backtrack over.
_DAEMON_RE = re.compile(
    r"daemon\b|\b(?:postmaster|mail delivery (?:system|subsystem|service)|"
    r"mailadmin|mail administrator|bounces?)\b",
    re.I,
)
# Subjects that only bounces have, and words that also fit other notices.
_SUBJECT_RE = re.compile(
    r"undeliver|delivery (?:status|failure|failed|notification|problem|report)|returned mail|"
    r"returning (?:message )?to sender|failure notice|mail delivery|non.?deliver|"
    r"not (?:be )?delivered|delivery has failed|failed delivery|delivery error|"
    r"nicht zustellbar|unzustellbar|non remis|no entregado",
    re.I,
)
_WEAK_SUBJECT_RE = re.compile(
    r"\bfail(?:ed|ure)\b|\bbounced?\b|rejected|mail (?:system )?error", re.I
)

_INTRO_RE = re.compile(
    r"(?:following|these|the) (?:recipients?|address(?:es|\(es\))?|destination(?:s| addresses)?)"
    r"|failed (?:recipients?|address(?:es)?)|did not reach|could not be delivered to|"
    r"delivery (?:to|has failed to) the following|unable to deliver (?:your message )?to|"
    r"undeliverable to|error delivering (?:your )?(?:mail|message) to|recipient(?:s)?:",
    re.I,
)
_SERVICE_LOCALS = frozenset(
    {"postmaster", "mailer-daemon", "mailerdaemon", "mail-daemon", "abuse", "noreply", "no-reply"}
)
MAX_RECIPIENTS = 50
_WINDOW = 1000  # characters either side of an address read for its diagnostic


def looks_like_bounce(mail: Mail) -> bool:
    """The envelope says "bounce" loudly enough to read the text for recipients."""
    if mail.header("X-Failed-Recipients") or mail.report_type == "delivery-status":
        return True
    daemon = bool(_DAEMON_RE.search(mail.from_)) or mail.header("Return-Path").strip() == "<>"
    subject = bool(_SUBJECT_RE.search(mail.subject))
    auto = mail.header("Auto-Submitted").lower().startswith("auto-")
    if daemon:
        return subject or auto or bool(_WEAK_SUBJECT_RE.search(mail.subject))
    return subject and auto


def _excluded(mail: Mail) -> set[str]:
    """Addresses that are the bounce's own parties or the original sender."""
    out: set[str] = set()
    for name in (
        "From",
        "To",
        "Reply-To",
        "Return-Path",
        "Sender",
        "Delivered-To",
        "X-Original-To",
    ):
        out.update(a.lower() for a in find_addresses(mail.header(name)))
    original = mail.original
    if original is not None:
        for name in ("From", "Return-Path", "Sender", "Reply-To"):
            out.update(a.lower() for a in find_addresses(str(original.get(name, ""))))
    return out


def _usable(address: str, excluded: set[str]) -> bool:
    local, _, domain = address.rpartition("@")
    if not local or ("." not in domain and not domain.startswith("[")):
        return False
    if local.lower().strip('"') in _SERVICE_LOCALS:
        return False
    return address.lower() not in excluded


_HEADER_RE = re.compile(
    r"^\s*(?:received|return-path|message-id|in-reply-to|references|date|from|sender|reply-to|"
    r"cc|bcc|subject|dkim-signature|x-[\w-]+|content-[\w-]+|mime-version|list-[\w-]+|"
    r"feedback-id|authentication-results|arc-[\w-]+)\s*:",
    re.I,
)
# Lines that offer help rather than report a failure ("please contact <x>").
_CONTACT_RE = re.compile(
    r"\b(?:contact|assistance|questions?|send (?:e-?)?mail to|write to|reach us|support)\b", re.I
)
_ORIGINAL_START_RE = re.compile(r"^(?:received|return-path|dkim-signature|message-id):", re.I)


def _details_after(lines: list[str], n: int, address: str) -> str:
    """The lines printed under an address, up to a blank line or the next address."""
    out: list[str] = []
    start = n + 1
    if start < len(lines) and not lines[start].strip():
        # Nothing right under it: the explanation may be the next paragraph.
        while start < len(lines) and not lines[start].strip():
            start += 1
    for line in lines[start : start + 7]:
        if not line.strip():
            break
        others = [a for a in find_addresses(line) if a.lower() != address.lower()]
        if others and not line[:1].isspace():
            break
        out.append(line.strip())
    return " ".join(out)


def _text_records(text: str, excluded: set[str]) -> list[DeliveryRecord]:
    lines = text.split("\n")
    records: dict[str, DeliveryRecord] = {}
    # An introduction ("the following recipients failed") covers the rest of
    # its paragraph and the next one.
    intro_paragraphs = 0
    for n, line in enumerate(lines):
        if _ORIGINAL_START_RE.match(line):
            break  # an unmarked copy of the returned message starts here
        if not line.strip():
            if intro_paragraphs and n > 0 and lines[n - 1].strip():
                intro_paragraphs -= 1
            continue
        if _INTRO_RE.search(line):
            intro_paragraphs = 2
        if "@" not in line or _HEADER_RE.match(line) or _CONTACT_RE.search(line):
            continue
        # A line naming more addresses is no bounce's (and each costs a scan of it).
        for m in islice(ADDRESS_RE.finditer(line), 2 * MAX_RECIPIENTS):
            start = m.start()
            if "/" in line[max(0, start - 1) : start] or "://" in line[max(0, start - 120) : start]:
                continue  # part of a URL
            address = clean_address(m.group(0))
            if not _usable(address, excluded) or address.lower() in records:
                continue
            # What the line says around the address (a window: a long line of many
            # addresses would cost a scan of all of it per address).
            before, after = line[max(0, start - _WINDOW) : start], line[m.end() : m.end() + _WINDOW]
            rest = (before + " " + after).strip(" <>:;,.-*[]\t")
            if FAILURE_RE.search(rest):
                diagnostic = line.strip()
            elif intro_paragraphs:
                # An address under an introduction; its error may follow it.
                details = _details_after(lines, n, address)
                diagnostic = details if FAILURE_RE.search(details) else rest
            else:
                continue
            records[address.lower()] = DeliveryRecord(
                recipient=address, diagnostic=diagnostic, action="failed"
            )
            if len(records) > MAX_RECIPIENTS:
                return []
    return list(records.values())


def detect(mail: Mail) -> Report | None:
    if not looks_like_bounce(mail):
        return None
    excluded = _excluded(mail)
    failed = [a for a in find_addresses(mail.header("X-Failed-Recipients")) if "@" in a]
    found = _text_records(mail.report_text, excluded)
    if failed:
        by_address = {r.recipient.lower(): r for r in found}
        records = [
            by_address.get(a.lower()) or DeliveryRecord(recipient=a, action="failed")
            for a in failed
        ]
    else:
        records = found
    if not records:
        return None
    return make_report(mail, NAME, records)
