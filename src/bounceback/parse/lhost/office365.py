"""Microsoft 365 (Exchange Online) non-delivery reports.

The human part ends with a section for administrators that names, per
recipient, the server that refused and its reply:

    Diagnostic information for administrators:
    Generating server: XXXX.prod.outlook.com
    user@example.com
    mx.example.com
    Remote Server returned '550 5.1.10 RESOLVER.ADR.RecipientNotFound; ...'
    Original message headers:

A message/delivery-status part often comes with it; when it does not, that
section is the only source.
"""

from __future__ import annotations

import re
from email.message import Message
from email.parser import HeaderParser
from typing import TYPE_CHECKING

from bounceback.model import DeliveryRecord, OriginalMessage, Report
from bounceback.parse import dsn, mime
from bounceback.parse.base import make_report, original_from_headers
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import find_address, search_heading, squeeze

if TYPE_CHECKING:
    from bounceback.parse.mime import AnyMessage

NAME = "office365"
ORDER = Band.GATEWAY

_HEADER_PARSER = HeaderParser(_class=mime.BoundedMessage)
_FIELD_RE = re.compile(
    r"^(Message-ID|Subject|From|To|Return-Path|X-Bounceback-ID):(.*)$", re.I | re.M
)
_ADMIN_RE = re.compile(r"^[ \t]*diagnostic information for administrators:?[ \t]*$", re.I | re.M)
_END_RE = re.compile(r"^[ \t]*original message headers:?[ \t]*$", re.I | re.M)
_GENERATING_RE = re.compile(r"^[ \t]*generating server:[ \t]*(\S+)", re.I | re.M)
_RETURNED_RE = re.compile(r"remote server returned ['\"]?((?:\s*+\S)*?)['\"]?\s*$", re.I | re.S)
_LEGACY_RE = re.compile(r"^#?(.*?)(?:##.*)?$", re.S)
_HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.\-]*\.[A-Za-z]{2,}$|^\[?[0-9a-fA-F.:]+\]?$")
_CLOUD_HOSTS = (".outlook.com", ".exchangelabs.com", ".office365.com")
_CLOUD_SENDERS = ("@outlook.com", ".onmicrosoft.com")


def _maybe_exchange(mail: Mail) -> bool:
    """Cheap header checks first: Exchange stamps its NDRs."""
    if mail.msg.get("X-MS-Exchange-Message-Is-Ndr") is not None:
        return True
    if any(s in mail.from_lc for s in _CLOUD_SENDERS):
        return True
    if mail.subject_lc.startswith("undeliverable"):
        return True
    return "\nx-ms-exchange-crosstenant" in mail.header_names_lc


def _cloud_host(host: str) -> bool:
    host = host.lower().split(";")[-1].strip()
    return host.endswith(_CLOUD_HOSTS)


def _from_microsoft_cloud(mail: Mail, generating: str) -> bool:
    """On-premises Exchange writes the same NDR; only Microsoft's own hosts count."""
    if any(s in mail.from_lc for s in _CLOUD_SENDERS) or _cloud_host(generating):
        return True
    for group in mail.status_groups:
        for name, value in group:
            if name.lower() == "reporting-mta" and _cloud_host(value):
                return True
    return False


# What every match of _ADMIN_RE and _END_RE holds (search_heading finds them by it).
_ADMIN_HEADING = "diagnostic information for administrators"
_END_HEADING = "original message headers"


def _admin_section(text: str, low: str) -> tuple[str, dict[str, tuple[str, str]]]:
    """(generating server, {recipient: (remote MTA, reply)}) from the admin section.

    ``low`` starts with ``text.lower()`` (Mail.text_lc for the report text).
    """
    m = search_heading(_ADMIN_RE, _ADMIN_HEADING, text, low)
    if m is None:
        return "", {}
    end = search_heading(_END_RE, _END_HEADING, text, low, m.end())
    section = text[m.end() : end.start() if end else len(text)]
    generating = ""
    gen = _GENERATING_RE.search(section)
    if gen:
        generating = gen.group(1)
        section = section[gen.end() :]
    found: dict[str, tuple[str, str]] = {}
    current = ""
    remote = ""
    lines: list[str] = []

    def close() -> None:
        if current:
            found[current.lower()] = (remote, _reply(" ".join(lines)))

    for raw in section.split("\n"):
        line = raw.strip()
        if not line:
            continue
        addr = find_address(line)
        if addr and (line == addr or line.strip("<>") == addr):
            close()
            current, remote, lines = addr, "", []
        elif current and not lines and not remote and _HOST_RE.match(line):
            remote = line.strip("[]")
        elif current:
            lines.append(line)
    close()
    return generating, found


def _reply(text: str) -> str:
    text = squeeze(text)
    m = _RETURNED_RE.search(text)
    if m:
        return m.group(1).strip()
    legacy = _LEGACY_RE.match(text)
    return legacy.group(1).strip() if legacy else text


def _listed(text: str) -> list[str]:
    """Recipients in 'Delivery has failed to these recipients' lists (a<mailto:a>)."""
    return [find_address(m.group(0)) for m in re.finditer(r"^\S+@\S+<mailto:\S+>", text, re.M)]


def detect(mail: Mail) -> Report | None:
    if not _maybe_exchange(mail):
        return None
    text = mail.report_text
    generating, admin = _admin_section(text, mail.text_lc)
    if not _from_microsoft_cloud(mail, generating):
        return None
    records = [r for r in dsn.records(mail) if r.recipient]
    if not records:
        addrs = list(admin) or _listed(text)
        records = [DeliveryRecord(recipient=a, action="failed") for a in addrs]
    if not records:
        return None
    for rec in records:
        remote, reply = admin.get(rec.recipient.lower(), ("", ""))
        if not rec.diagnostic and reply:
            rec.diagnostic = reply
        if not rec.remote_mta and remote:
            rec.remote_mta = remote
        if not rec.reporting_mta and generating:
            rec.reporting_mta = generating
    report = make_report(mail, NAME, records)
    if not report.original.message_id:
        report.original = _listed_original(mail, report.original)
    report.original.envelope_id = dsn.envelope_id(mail)
    return report


def _listed_original(mail: Mail, found: OriginalMessage) -> OriginalMessage:
    """The NDR's "Original message headers:" copy, when the attachment gave no id.

    Exchange lists the returned message's headers in the text as well; the
    attached copy is sometimes missing or damaged.
    """
    text = mail.text
    m = search_heading(_END_RE, _END_HEADING, text, mail.text_lc)
    if m is None:
        return found
    section = text[m.end() :].lstrip("\n").split("\n\n", 1)[0]
    listed: AnyMessage = _HEADER_PARSER.parsestr(section)
    if not listed.get("Message-ID"):
        # Folding lost in transit ends a strict parse early: pick the fields.
        listed = Message()
        for name, value in _FIELD_RE.findall(section):
            if listed.get(name) is None:
                listed[name] = value.strip()
    if not listed.get("Message-ID"):
        return found
    return original_from_headers(listed)
