"""Sendmail's DSN ("Returned mail: ...") and the text that comes with it.

Sendmail sends a multipart/report whose first part lists the failed addresses
("----- The following addresses had permanent fatal errors -----", each
``<address>`` with an indented "(reason: ...)") and a transcript of the SMTP
session ("... while talking to host:", ">>> COMMAND", "<<< reply", and a
"NNN <address>... text" line per recipient). The DSN fields come first; the
text fills what the DSN leaves out (often the diagnostic).
"""

from __future__ import annotations

import re

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.base import make_report, merge_records, split_blocks
from bounceback.parse.dsn import records as dsn_records
from bounceback.parse.mail import Mail
from bounceback.parse.registry import Band
from bounceback.parse.text import join_reply_lines

NAME = "sendmail"
ORDER = Band.MTA

_TRANSCRIPT_RE = re.compile(
    r"^[^\S\n]*-+\s*Transcript of session follows\s*-+[^\S\n]*$", re.I | re.M
)
_SECTION_RE = re.compile(r"^\s*---.*---\s*$")
_FATAL_RE = re.compile(
    r"following addresses? (?:had|has) (?:permanent fatal errors|"
    r"transient non-fatal errors|delivery problems)",
    re.I,
)
_TALKING_RE = re.compile(
    r"^\s*(?:\.\.\.\s*)?while talking to\s+\[?([A-Za-z0-9.\-:]+?)\]?\.?:\s*$", re.I
)
# "550 5.1.1 <user@example.org>... User unknown" (the code may be missing).
_FINAL_RE = re.compile(
    r"^\s*(?:([245]\d\d)(?:[ \-]([245]\.\d{1,3}\.\d{1,3}))?\s+)?"
    r"<?((?:[^\s<>@]*+@)?[^\s<>]+?)>?\.\.\.\s*(.*)$"
)
_HOST_LINE_RE = re.compile(
    r"^\s*[245]\d\d\s+([A-Za-z0-9.\-]+)\s+\((?:smtp|esmtp|tcp)\)\.\.\.", re.I
)
_LIST_RE = re.compile(r"^\s*<?([^\s<>()][^\s<>()@]*+@[^\s<>()]++)>?\s*+(?:\(.*\))?\s*$")


def _verb(command: str) -> str:
    word = command.strip().split(":")[0].upper()
    for verb in ("MAIL", "RCPT", "DATA", "EHLO", "HELO", "STARTTLS", "AUTH", "QUIT"):
        if word.startswith(verb):
            return verb
    return ""


def transcript_records(text: str) -> list[DeliveryRecord]:
    """Per-recipient records from a sendmail session transcript."""
    m = _TRANSCRIPT_RE.search(text)
    if m is None:
        return []
    records: list[DeliveryRecord] = []
    host = command = ""
    replies: list[str] = []
    for line in text[m.end() :].split("\n"):
        if not line or line.isspace():  # none of the tests below takes one
            continue
        if _SECTION_RE.match(line):
            break
        talking = _TALKING_RE.match(line)
        if talking:
            host, command, replies = talking.group(1), "", []
            continue
        stripped = line.strip()
        if stripped.startswith(">>>"):
            command, replies = _verb(stripped[3:]), []
            continue
        if stripped.startswith("<<<"):
            replies.append(stripped[3:].strip())
            continue
        host_line = _HOST_LINE_RE.match(line)
        if host_line:
            if host_line.group(1).lower().rstrip(".") != host.lower():
                host, command, replies = "", "", []
            continue
        final = _FINAL_RE.match(line)
        if final is None or "@" not in final.group(3):
            continue
        code, status, address, said = final.groups()
        diagnostic = join_reply_lines("\n".join(replies)) if replies else ""
        if not diagnostic and said[:3].isdigit():
            diagnostic = said
        elif not diagnostic:
            diagnostic = " ".join(x for x in (code, status, said) if x)
        elif said and not said[:3].isdigit():
            diagnostic = (
                f"{diagnostic} ({said})" if said.lower() not in diagnostic.lower() else diagnostic
            )
        records.append(
            DeliveryRecord(
                recipient=address,
                diagnostic=diagnostic,
                remote_mta=host,
                smtp_command=command,
                status=status or "",
            )
        )
        replies = []
    return records


def transcript_text(text: str) -> str:
    """The transcript's lines as one diagnostic, for a recipient it names only by alias."""
    m = _TRANSCRIPT_RE.search(text)
    if m is None:
        return ""
    out: list[str] = []
    for line in text[m.end() :].split("\n"):
        if _SECTION_RE.match(line) or (out and not line.strip()):
            break
        if line.strip():
            out.append(line.strip())
    return " ".join(out)[:1000]


def fatal_list_records(text: str) -> list[DeliveryRecord]:
    """Records from the "following addresses had permanent fatal errors" list."""
    m = _FATAL_RE.search(text)
    if m is None:
        return []
    records: list[DeliveryRecord] = []
    for line in text[m.end() :].split("\n")[1:]:
        if _SECTION_RE.match(line) or (not line.strip() and records):
            break
        addr = _LIST_RE.match(line) if not line.startswith((" ", "\t")) else None
        if addr:
            records.append(DeliveryRecord(recipient=addr.group(1)))
            continue
        stripped = line.strip()
        if records and stripped.lower().startswith("(reason:"):
            reason = stripped[len("(reason:") :].rstrip(")").strip()
            records[-1].diagnostic = reason
    return records


def _is_sendmail(mail: Mail) -> bool:
    if mail.subject_lc.startswith(("returned mail:", "warning: could not send message")):
        return True
    head = mail.text_lc[:3000]
    return "transcript of session follows" in head or bool(_FATAL_RE.search(head))


def detect(mail: Mail) -> Report | None:
    if not mail.status_groups or not _is_sendmail(mail):
        return None
    records = dsn_records(mail)
    text = mail.report_text
    # An x-unix Diagnostic-Code is a program's exit status ("255"): the text
    # tells more, so it only stands when the text has nothing.
    exit_codes: dict[int, str] = {}
    for n, rec in enumerate(records):
        exit_status = rec.diagnostic_type in ("x-unix", "unix")
        if exit_status or not any(c.isalpha() for c in rec.diagnostic):
            exit_codes[n] = rec.diagnostic
            rec.diagnostic = rec.diagnostic_type = ""
    for extra in (fatal_list_records(text), transcript_records(text)):
        records = merge_records(records, extra, add_new=False)
    if len(records) == 1 and not records[0].diagnostic:
        # A single local delivery (a pipe, a file): the transcript is its account.
        records[0].diagnostic = transcript_text(text)
    for n, code in exit_codes.items():
        if not records[n].diagnostic:
            records[n].diagnostic = code
    good = [r for r in records if _valid(r.recipient)]
    if not good:
        # The DSN's recipient is mangled ("@host"): the text's list names it.
        listed = [
            r for r in fatal_list_records(text) or transcript_records(text) if _valid(r.recipient)
        ]
        if len(listed) == len(records):
            for rec, named in zip(records, listed, strict=True):
                rec.recipient = named.recipient
                rec.diagnostic = rec.diagnostic or named.diagnostic
            good = records
    if not good:
        return None
    return make_report(mail, NAME, good)


def _valid(address: str) -> bool:
    local, at, domain = address.rpartition("@")
    return bool(at and local and domain)


__all__ = ["detect", "fatal_list_records", "split_blocks", "transcript_records"]
