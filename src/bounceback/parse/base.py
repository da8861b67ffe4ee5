"""What every detector shares: the report builder and the finishing pass."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from bounceback.model import DeliveryRecord, Kind, OriginalMessage, Report
from bounceback.parse.mail import Mail, decode_header_value
from bounceback.parse.text import (
    FAILURE_RE,
    find_address,
    find_addresses,
    find_remote_mta,
    find_reply_code,
    find_smtp_command,
    find_status,
    join_reply_lines,
    squeeze,
)

if TYPE_CHECKING:
    from bounceback.parse.mime import AnyMessage

# Recipients one report keeps; real bounces name a handful (make_report).
MAX_RECORDS = 1000
MAX_DIAGNOSTIC = 4096  # characters of a record's diagnostic kept (before squeezing)
_FAILED = frozenset({"failed", "failure", "fail", "bounced", "bounce", "error", "rejected"})
_DELAYED = frozenset({"delayed", "deferred", "delay", "transient"})
_DELIVERED = frozenset({"delivered", "relayed", "expanded", "deliverable"})


def original_of(mail: Mail) -> OriginalMessage:
    """The returned message's identity, from the attached copy when there is one."""
    msg: AnyMessage | None = mail.original
    if msg is None:
        return OriginalMessage()
    return original_from_headers(msg)


def original_from_headers(msg: AnyMessage) -> OriginalMessage:
    """The returned message's identity from its headers, wherever a detector found them."""

    get = msg.get
    return OriginalMessage(
        message_id=decode_header_value(get("Message-ID")).strip(),
        subject=decode_header_value(get("Subject")),
        from_=decode_header_value(get("From")),
        to=decode_header_value(get("To")),
        return_path=find_address(decode_header_value(get("Return-Path"))),
        bounceback_id=decode_header_value(get("X-Bounceback-ID")).strip(),
    )


def with_envelope_id(original: OriginalMessage, mail: Mail) -> OriginalMessage:
    """The RFC 3461 ENVID a DSN echoes (Original-Envelope-Id), whichever detector ran:
    the matcher checks it against the VERP token and looks the send up by it."""
    for group in mail.status_groups:
        for name, value in group:
            if name.lower() == "original-envelope-id" and value.strip():
                original.envelope_id = value.strip()
                return original
    return original


def normalise_action(action: str) -> str:
    a = action.strip().lower().split()[0] if action.strip() else ""
    if a in _FAILED:
        return "failed"
    if a in _DELAYED:
        return "delayed"
    if a in _DELIVERED:
        return a if a in ("delivered", "relayed", "expanded") else "delivered"
    return a


def finish_record(rec: DeliveryRecord) -> DeliveryRecord:
    """Fill what can be derived: clean address, codes from the diagnostic text."""
    rec.recipient = find_address(rec.recipient) or rec.recipient.strip()
    rec.original_recipient = find_address(rec.original_recipient)
    # A diagnostic is a reply of a few lines; every later step reads all of it.
    rec.diagnostic = squeeze(rec.diagnostic[:MAX_DIAGNOSTIC])
    rec.action = normalise_action(rec.action)
    diag = rec.diagnostic
    low = diag.lower()  # for the keyword pre-tests of the command and host searches
    if diag:
        found = find_status(diag)
        # The remote server's own enhanced code is more specific than the one the
        # reporting MTA put in Status (often generic or its own guess), unless the
        # remote's is the generic X.0.0 itself.
        if found and (
            not rec.status
            or (rec.diagnostic_type not in ("x-unix", "unix") and not found.endswith(".0.0"))
            or rec.status.endswith(".0.0")
        ):
            rec.status = found
        # An x-unix diagnostic holds a program's exit code, not an SMTP reply.
        if not rec.reply_code and rec.diagnostic_type not in ("x-unix", "unix"):
            rec.reply_code = find_reply_code(diag)
        if not rec.smtp_command:
            rec.smtp_command = find_smtp_command(diag, low)
    if rec.status:
        found = find_status(rec.status)
        rec.status = found
    if (not rec.action and rec.status[:1] == "5") or (not rec.action and rec.reply_code[:1] == "5"):
        rec.action = "failed"
    elif not rec.action and (rec.status[:1] == "4" or rec.reply_code[:1] == "4"):
        rec.action = "delayed"
    if not rec.remote_mta and diag:
        rec.remote_mta = find_remote_mta(diag, low)
    rec.remote_mta = _host_of(rec.remote_mta)
    rec.reporting_mta = _host_of(rec.reporting_mta)
    return rec


_LIST_FIELDS = ("List-Id", "List-Post", "X-BeenThere", "X-Mailing-List")


def _qualified(local: str, mail: Mail) -> str:
    """The returned message's address for a recipient named by its local part alone
    ("<jdoe>: unknown user"): its To: address with that local part, else its only
    To: address (the local name is where that address was delivered); '' when unsure."""
    original = mail.original
    if original is None:
        return ""
    addresses = [a for a in find_addresses(decode_header_value(original.get("To"))) if "@" in a]
    bare = local.strip("<>\"' ").lower()
    same = [a for a in addresses if a.rpartition("@")[0].lower() == bare]
    if len(same) == 1:
        return same[0]
    if len(addresses) != 1 or any(original.get(name) for name in _LIST_FIELDS):
        return ""  # a list posting is addressed to the list, not to the member
    own = {a.lower() for a in find_addresses(mail.header("To") + " " + mail.header("From"))}
    return addresses[0] if addresses[0].lower() not in own else ""


def _host_of(value: str) -> str:
    """The bare host of a Remote-MTA value: "dns; mx.example.org. (192.0.2.1, ...)"."""
    if not value:
        return ""
    if ";" in value:
        value = value.split(";", 1)[1]
    words = value.replace("[", " ").replace("]", " ").split()
    return words[0].strip("<>(),").rstrip(".") if words else ""


def kind_of(records: Iterable[DeliveryRecord]) -> Kind:
    actions = {r.action for r in records}
    if not actions:
        return Kind.BOUNCE
    if "failed" in actions:
        return Kind.BOUNCE
    if actions <= {"delayed"}:
        return Kind.DELAY
    if actions <= {"delivered", "relayed", "expanded"}:
        return Kind.DELIVERED
    if "delayed" in actions:
        return Kind.DELAY
    return Kind.BOUNCE


def make_report(
    mail: Mail,
    detector: str,
    records: list[DeliveryRecord],
    kind: Kind | None = None,
) -> Report:
    """A finished Report: records cleaned and de-duplicated, the original filled."""
    seen: dict[str, int] = {}  # a recipient's place in out: no list scan per duplicate
    out: list[DeliveryRecord] = []
    # A bounce naming more is an attack or a loop; each record costs a finish and a
    # classification, so the rest are left out.
    for rec in records[:MAX_RECORDS]:
        finish_record(rec)
        if rec.recipient and "@" not in rec.recipient:
            rec.recipient = _qualified(rec.recipient, mail) or rec.recipient
        key = rec.recipient.lower()
        if key and key in seen:
            prev = out[seen[key]]
            # Keep one record per recipient, the one with more evidence.
            if len(rec.diagnostic) > len(prev.diagnostic) and not prev.status:
                out[seen[key]] = rec
            continue
        seen[key] = len(out)
        out.append(rec)
    return Report(
        kind=kind or kind_of(out),
        detector=detector,
        records=out,
        original=with_envelope_id(original_of(mail), mail),
        subject=mail.subject,
        from_=mail.from_,
        to=mail.to,
        cc=copied_to(mail),
        delivered_to=delivered_to(mail),
        body=mail.report_text,  # without an inline copy of the returned message
    )


_DELIVERED_TO_FIELDS = ("Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To")


def copied_to(mail: Mail) -> str:
    """The message's own Cc and Bcc fields, joined ('' when it has neither)."""
    return " ".join(v for v in (mail.header("Cc"), mail.header("Bcc")) if v)


def delivered_to(mail: Mail) -> list[str]:
    """The addresses the bounce was delivered to, most specific first."""
    out: list[str] = []
    seen: set[str] = set()
    for name in _DELIVERED_TO_FIELDS:
        for value in mail.headers(name):
            addr = find_address(value)
            if addr and (key := addr.lower()) not in seen:
                seen.add(key)
                out.append(addr)
    return out


def split_blocks(text: str, start: re.Pattern[str]) -> list[tuple[re.Match[str], list[str]]]:
    """Cut a text into blocks, each beginning at a line that matches ``start``.

    A block holds the start line's match and the lines after it, up to the next
    start line; text before the first start line is dropped. At most MAX_RECORDS
    blocks (a report keeps no more recipients).
    """
    blocks: list[tuple[re.Match[str], list[str]]] = []
    for line in text.splitlines():
        m = start.match(line)
        if m:
            if len(blocks) == MAX_RECORDS:
                break
            blocks.append((m, []))
        elif blocks:
            blocks[-1][1].append(line)
    return blocks


def paragraph(lines: list[str]) -> list[str]:
    """The lines up to the first blank line, leading blank lines skipped."""
    out: list[str] = []
    for line in lines:
        if not line.strip():
            if out:
                break
            continue
        out.append(line)
    return out


def text_record(recipient: str, lines: Iterable[str], **fields: str) -> DeliveryRecord:
    """A record from a recipient and the diagnostic lines printed for it."""
    diagnostic = join_reply_lines("\n".join(lines))
    return DeliveryRecord(recipient=recipient, diagnostic=diagnostic, **fields)


# "550-..." : the first line of a multi-line reply, the rest left out.
_FIRST_OF_MANY_RE = re.compile(r"^\s*[245]\d\d-\S")


def _continued_by(first: str, whole: str) -> bool:
    """Whether a DSN gave only the first line of a reply that the text has in full."""
    if len(whole) <= len(first) or not _FIRST_OF_MANY_RE.match(first):
        return False
    opening = squeeze(first.strip()[4:]).lower()[:60]
    return bool(opening) and opening in squeeze(whole).lower()[: len(opening) + 40]


def merge_records(
    primary: list[DeliveryRecord], extra: list[DeliveryRecord], *, add_new: bool = True
) -> list[DeliveryRecord]:
    """Primary records (a DSN's) completed by a text's records for the same recipient.

    The text usually carries the diagnostic a terse DSN leaves out; recipients only
    the text names are added when ``add_new`` (and primary has none of them).
    """
    by_rcpt = {find_address(r.recipient).lower(): r for r in primary}
    out = list(primary)
    for rec in extra:
        key = find_address(rec.recipient).lower()
        prev = by_rcpt.get(key)
        if prev is None:
            if key and (add_new or not primary):
                by_rcpt[key] = rec
                out.append(rec)
            continue
        if (
            not prev.diagnostic
            or (
                len(rec.diagnostic) > len(prev.diagnostic)
                and not find_status(prev.diagnostic)
                and find_status(rec.diagnostic)
            )
            or _continued_by(prev.diagnostic, rec.diagnostic)
        ):
            prev.diagnostic = rec.diagnostic
            prev.diagnostic_type = prev.diagnostic_type or rec.diagnostic_type
        for name in ("remote_mta", "smtp_command", "reply_code", "action"):
            if not getattr(prev, name) and getattr(rec, name):
                setattr(prev, name, getattr(rec, name))
    return out


_EDGE = " \t<>:;,.-()[]'\""


def _lines_after(lines: list[str], n: int) -> list[str]:
    """The non-blank lines right after line n, up to the first blank one (a few at most)."""
    found: list[str] = []
    for line in lines[n + 1 : n + 6]:
        if not line.strip():
            break
        found.append(line.strip())
    return found


def diagnostic_from_text(text: str, address: str) -> str:
    """What a notification's text says about one recipient, for a DSN that says nothing.

    The rest of the line naming the address when it reads like an error, else
    the paragraph just before an address listed on its own line ("Unable to
    deliver to the following recipients, because ...").
    """
    if not address or "@" not in address:
        return ""
    lines = text.split("\n")
    low = address.lower()
    for n, line in enumerate(lines):
        at = line.lower().find(low)
        if at < 0:
            continue
        # The address's own brackets and quotes go with it ("to '<x@y>'").
        head = line[:at].rstrip(" \t<'\"")
        tail = line[at + len(address) :].lstrip(" \t>'\"")
        rest = (head + " " + tail).strip(_EDGE)
        if rest and FAILURE_RE.search(rest):
            if not tail.strip(_EDGE):
                # A heading that ends with the address ("Failed to deliver to
                # '<x@y>'"): the reason is in the lines right under it.
                rest = " ".join([rest, *_lines_after(lines, n)])
            return squeeze(rest)
        if rest:
            continue
        before = n - 1
        while before >= 0 and not lines[before].strip():
            before -= 1
        block: list[str] = []
        while before >= 0 and lines[before].strip():
            block.insert(0, lines[before].strip())
            before -= 1
        paragraph_text = " ".join(block)
        if FAILURE_RE.search(paragraph_text) and len(paragraph_text) < 500:
            return paragraph_text
    return ""
