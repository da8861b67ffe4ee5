"""Last resort: a message that plainly is a bounce but follows no known format.

It must look like a bounce by its envelope (a MAILER-DAEMON or postmaster
sender, a bounce-like Subject, Auto-Submitted, a multipart/report, or an
X-Failed-Recipients header), backed by its opening text when the envelope says
little (a bounce subject from an unnamed sender, a canned failure with a reply
code sent as an auto-reply, a copy saved without its header). It then names its
recipients conservatively: the X-Failed-Recipients header, text lines that pair
an address with an SMTP error or with an introduction such as "the following
recipients failed" (in a few languages), "<address>: reason" lines, and failing
those the one address the notice names, in its text or in the returned
message's To: line. Addresses of the sender, of the bounce's own envelope, of
mail services (postmaster, mailer-daemon) and of the list a posting went to
never count."""

from __future__ import annotations

import re
from itertools import islice

from bounceback.model import DeliveryRecord, Report
from bounceback.parse.autoreply import QUOTED_FIELD_RE, autoreply_subject
from bounceback.parse.base import make_report
from bounceback.parse.mail import Mail
from bounceback.parse.text import (
    ADDRESS_RE,
    FAILURE_RE,
    clean_address,
    find_addresses,
    find_status,
)

NAME = "fallback"

# "daemon" ends a word ("MAILER-DAEMON", "maildaemon"): the same test as a word that
# ends so, without a run of word characters to backtrack over.
_DAEMON_RE = re.compile(
    r"daemon\b|\b(?:postmaster|mail delivery (?:system|subsystem|service)|"
    r"mailadmin|mail administrator|bounces?|mailer|mail (?:system|server|service))\b",
    re.I,
)
# Subjects that only bounces have, and words that also fit other notices.
_SUBJECT_RE = re.compile(
    r"undeliver|delivery (?:status|failure|failed|notification|problem|report)|returned mail|"
    r"returning (?:message )?to sender|failure notice|mail delivery|non.?deliver|"
    r"not (?:be )?delivered|delivery has failed|failed delivery|delivery error|"
    r"nicht zustellbar|unzustellbar|non remis|no entregado|not deliverable|"
    r"(?:could|can)(?:not|n't) deliver|unable to deliver|failed mail|mail failed|mail failure",
    re.I,
)
_WEAK_SUBJECT_RE = re.compile(
    r"\bfail(?:ed|ure)\b|\bbounced?\b|rejected|mail (?:system )?error", re.I
)

# The same headings in the languages notices are most often written in (German,
# French, Spanish, Italian, Dutch, Portuguese): "the following recipients".
_LOCALIZED_INTROS = (
    r"folgenden? (?:empf[äa]e?nger|adressen?)|destinataires? suivants?|adresses? suivantes?|"
    r"siguientes? (?:destinatarios?|direcciones?)|seguenti (?:destinatari|indirizzi)|"
    r"volgende (?:geadresseerden?|ontvangers?|adressen)|"
    r"seguintes? (?:destinat[áa]rios?|endere[çc]os?)"
)
# "could not be delivered" in those languages.
_LOCALIZED_FAILED = (
    r"nicht zugestellt|unzustellbar|pas pu [êe]tre (?:remis|distribu|d[ée]livr)|non remis|"
    r"(?:ha podido|pudo) (?:ser )?entregar|no (?:pudo|ha podido) ser entregado|"
    r"non (?:è stato|e' stato|[èe]) (?:possibile )?recapit|non recapitabile|"
    r"niet (?:worden )?(?:afgeleverd|bezorgd)|n[ãa]o (?:p[ôo]de|foi poss[íi]vel) (?:ser )?entreg"
)
_INTRO_RE = re.compile(
    r"(?:following|these|the) (?:recipients?|address(?:es|\(es\))?|destination(?:s| addresses)?)"
    r"|failed (?:recipients?|address(?:es)?)|did not reach|could not be delivered to|"
    r"delivery (?:to|has failed to) the following|unable to deliver (?:your message )?to|"
    r"undeliverable to|error delivering (?:your )?(?:mail|message) to|recipient(?:s)?:|"
    r"\berror[- ]for\b|" + _LOCALIZED_INTROS,
    re.I,
)
# What a notice says when a message failed, in its opening lines: with a bounce
# subject (from any sender) or an auto-reply's marks, it makes the notice a bounce.
_FAILED_NOTICE_RE = re.compile(
    r"(?:could|can)(?:not|n't) be delivered|was(?:n't| not) delivered|undeliverable|"
    r"did not reach|delivery (?:has )?failed|failed to be received|(?:unable|failed) to deliver|"
    r"could not deliver|not be delivered|delivery to the following|permanent(?:ly)? (?:fatal )?"
    r"(?:error|failure)|rejected (?:by|your)|failed recipients?\b|wasn't delivered|"
    r"problem delivering|recipient(?:\(s\)|s)? (?:could|can)(?:not|n't) be reached|"
    + _LOCALIZED_FAILED,
    re.I,
)
# Words right before an address that make it the sender's ("mail from <x>").
_SENDER_BEFORE_RE = re.compile(r"\b(?:from|sender)[\s:<\"']{0,3}$", re.I)
_REPLY_PREFIX_RE = re.compile(r"^\s*(?:re|fwd?|aw|wg|tr|sv|vs)\s*:", re.I)
_HEAD_CHARS = 3000
# A 4xx/5xx reply code standing alone ("550 ", "'550-"), not part of a number.
_REPLY_CODE_RE = re.compile(r"(?<![\w.\-])[45][0-5]\d(?=[ \-]|$)", re.M)
_SERVICE_LOCALS = frozenset(
    {"postmaster", "mailer-daemon", "mailerdaemon", "mail-daemon", "abuse", "noreply", "no-reply"}
)
MAX_RECIPIENTS = 50
_WINDOW = 1000  # characters either side of an address read for its diagnostic


def looks_like_bounce(mail: Mail) -> bool:
    """The envelope says "bounce" loudly enough to read the text for recipients."""
    if mail.header("X-Failed-Recipients") or mail.report_type == "delivery-status":
        return True
    if not mail.from_ and not mail.subject:
        # Only a notice's text, its header lost (a copy saved without it): the text decides.
        return bool(_FAILED_NOTICE_RE.search(mail.report_text[:_HEAD_CHARS]))
    daemon = bool(_DAEMON_RE.search(mail.from_)) or mail.header("Return-Path").strip() == "<>"
    subject = bool(_SUBJECT_RE.search(mail.subject))
    auto = mail.header("Auto-Submitted").lower().startswith("auto-")
    if daemon:
        return (
            subject
            or auto
            or bool(_WEAK_SUBJECT_RE.search(mail.subject))
            or bool(_FAILED_NOTICE_RE.search(mail.report_text[:_HEAD_CHARS]))
        )
    if subject and auto:
        return True
    if _REPLY_PREFIX_RE.match(mail.subject):
        return False  # a person replying to or forwarding a bounce
    if subject:
        # A bounce subject from an unnamed sender: the opening text must say so too.
        return bool(_FAILED_NOTICE_RE.search(mail.report_text[:_HEAD_CHARS]))
    if auto or autoreply_subject(mail.subject):
        # A canned failure notice sent as an auto-reply: a failure statement and
        # an SMTP reply or status code, not a vacation message.
        # Quoted Subject: lines ("Subject: Delivery failed") are the answered message's.
        head = QUOTED_FIELD_RE.sub("", mail.report_text[:_HEAD_CHARS])
        return bool(_FAILED_NOTICE_RE.search(head)) and bool(
            find_status(head) or _REPLY_CODE_RE.search(head)
        )
    return False


def own_parties(mail: Mail) -> set[str]:
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
    r"to|cc|bcc|subject|dkim-signature|x-[\w-]+|content-[\w-]+|mime-version|list-[\w-]+|"
    r"feedback-id|authentication-results|arc-[\w-]+)\s*:",
    re.I,
)
# Lines that offer help rather than report a failure ("please contact <x>").
_CONTACT_RE = re.compile(
    r"\b(?:contact|assistance|questions?|send (?:e-?)?mail to|write to|reach us|support)\b", re.I
)
_ORIGINAL_START_RE = re.compile(r"^(?:received|return-path|dkim-signature|message-id):", re.I)
# A line announcing a copy of the returned message ("----- Original message -----",
# "Rejected message (5 lines)", "Your message begins as follows:").
_COPY_MARK_RE = re.compile(
    r"^[\s\-=|*_>]{0,40}(?:(?:original|rejected|returned|undelivered|unsent) message\b|"
    r"(?:your )?message (?:text )?(?:follows|begins as follows)|"
    r"(?:a )?copy of (?:the|your) (?:original )?message)",
    re.I,
)


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


def _leads_its_line(line: str, m: re.Match[str]) -> bool:
    """Whether a line starts with this address in brackets and a colon: "<x@y>: ..."."""
    return line[: m.start()].strip() == "<" and line[m.end() : m.end() + 2] == ">:"


def _continuation(lines: list[str], n: int) -> str:
    """The indented lines that continue line n."""
    out: list[str] = []
    for line in lines[n + 1 : n + 6]:
        if not line[:1].isspace() or not line.strip():
            break
        out.append(line.strip())
    return " ".join(out)


def _intro_paragraph(lines: list[str], n: int) -> list[str]:
    """An introduction's lines: it runs on up to a blank line or an address."""
    out = [lines[n].strip()]
    for line in lines[n + 1 : n + 4]:
        if not line.strip() or "@" in line:
            break
        out.append(line.strip())
    return out


def _paragraph_around(lines: list[str], n: int) -> str:
    """The other lines of the paragraph that holds line n (a few at most)."""
    start = n
    while start > 0 and n - start < 4 and lines[start - 1].strip():
        start -= 1
    out = [line.strip() for line in lines[start:n]]
    for line in lines[n + 1 : n + 4]:
        if not line.strip():
            break
        out.append(line.strip())
    return " ".join(line for line in out if "@" not in line)


def _text_records(text: str, excluded: set[str]) -> list[DeliveryRecord]:
    lines = text.split("\n")
    records: dict[str, DeliveryRecord] = {}
    # An introduction ("the following recipients failed") covers the rest of
    # its paragraph and the next one.
    intro_paragraphs = 0
    intro = ""
    intro_end = 0
    for n, line in enumerate(lines):
        if _ORIGINAL_START_RE.match(line) or _COPY_MARK_RE.match(line):
            break  # a copy of the returned message starts here
        if not line.strip():
            if intro_paragraphs and n > 0 and lines[n - 1].strip():
                intro_paragraphs -= 1
            continue
        if _INTRO_RE.search(line):
            intro_paragraphs = 2
            if n >= intro_end:  # not a line the current introduction runs on to
                intro_lines = _intro_paragraph(lines, n)
                intro, intro_end = " ".join(intro_lines), n + len(intro_lines)
        if "@" not in line or _HEADER_RE.match(line):
            continue
        contact = _CONTACT_RE.search(line)
        # A line naming more addresses is no bounce's (and each costs a scan of it).
        for m in islice(ADDRESS_RE.finditer(line), 2 * MAX_RECIPIENTS):
            start = m.start()
            if contact is not None and contact.start() < start:
                continue  # an address to ask for help, not one that failed
            if _SENDER_BEFORE_RE.search(line[max(0, start - 12) : start]):
                continue  # "not accepting mail from <sender>"
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
            elif _leads_its_line(line, m):
                # "<x@y>: reason": the per-recipient line of Postfix-like notices,
                # whatever language the reason is written in.
                diagnostic = " ".join([rest, _continuation(lines, n)]).strip()
            elif intro_paragraphs:
                # An address under an introduction; its error may follow it.
                details = _details_after(lines, n, address)
                around = _paragraph_around(lines, n)
                if FAILURE_RE.search(details):
                    diagnostic = details
                elif FAILURE_RE.search(around):
                    diagnostic = around  # "Reason: ..." printed above "Recipient: <x>"
                elif " " not in rest:
                    # Nothing or a label by the address ("SMTP <x@y>"): the
                    # introduction says why ("Unable to deliver ..., due to <reason>.").
                    diagnostic = intro
                else:
                    diagnostic = rest
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
    excluded = own_parties(mail)
    failed = [a for a in find_addresses(mail.header("X-Failed-Recipients")) if "@" in a]
    found = _text_records(mail.report_text, excluded)
    if found:
        # "Your message to list@... could not be delivered to x@...": a list posting's
        # bounce names the list too, and the list is no recipient.
        lists = _list_addresses(mail)
        found = [
            r
            for r in found
            if r.recipient.lower() not in lists and not _the_list_of(r.recipient, mail)
        ]
    if failed:
        by_address = {r.recipient.lower(): r for r in found}
        records = [
            by_address.get(a.lower()) or DeliveryRecord(recipient=a, action="failed")
            for a in failed
        ]
    else:
        records = found
    if not records:
        only = _only_named_recipient(mail, excluded)
        if only:
            records = [
                DeliveryRecord(recipient=only, diagnostic=_failure_lines(mail), action="failed")
            ]
    elif len(records) == 1 and not _has_code(records[0].diagnostic):
        # One recipient, its reply printed elsewhere ("Diagnostic information ...").
        coded = _code_line(mail)
        if coded and coded not in records[0].diagnostic:
            records[0].diagnostic = f"{records[0].diagnostic} {coded}".strip()
    if not records:
        return None
    return make_report(mail, NAME, records)


# "To: x" as a quoted copy of the returned message prints it ("   To: x", "> To: x").
_QUOTED_TO_RE = re.compile(r"^[ \t>|]{0,12}to:[ \t]*(\S[^\n]{0,500})", re.I | re.M)
_LIST_FIELDS = ("List-Post", "X-BeenThere", "Errors-To", "X-Original-To", "Delivered-To")


def _list_addresses(mail: Mail) -> set[str]:
    """The returned message's list addresses: a list posting is addressed to the list."""
    out: set[str] = set()
    original = mail.original
    if original is not None:
        for name in _LIST_FIELDS:
            out.update(a.lower() for a in find_addresses(str(original.get(name, ""))))
    return out


def _the_list_of(address: str, mail: Mail) -> bool:
    """An address whose bounces come back to <it>-bounces@ (or -owner, -request) there."""
    local, _, domain = address.lower().rpartition("@")
    for own in find_addresses(mail.header("To")) + find_addresses(mail.header("Delivered-To")):
        own_local, _, own_domain = own.lower().rpartition("@")
        if own_domain == domain and own_local.startswith(local + "-"):
            return True
    return False


def _only_named_recipient(mail: Mail, excluded: set[str]) -> str:
    """The one address a clearly failed notice names, in a quoted To: line of the
    returned message or in its own text; '' when it names none or several."""
    head = mail.report_text[:_HEAD_CHARS]
    if not (_FAILED_NOTICE_RE.search(head) or _SUBJECT_RE.search(mail.subject)):
        return ""
    candidates: set[str] = set()
    original = mail.original
    if original is not None:
        candidates.update(find_addresses(str(original.get("To", ""))))
    text = mail.text
    if "to:" in mail.text_lc:
        for m in _QUOTED_TO_RE.finditer(text):
            candidates.update(find_addresses(m.group(1)))
    for line in head.split("\n"):
        if "@" in line and not _HEADER_RE.match(line) and not _CONTACT_RE.search(line):
            for m in ADDRESS_RE.finditer(line):
                before = line[max(0, m.start() - 12) : m.start()]
                if "/" not in before[-1:] and not _SENDER_BEFORE_RE.search(before):
                    candidates.add(clean_address(m.group(0)))
    skip = excluded | _list_addresses(mail)
    usable = {a.lower(): a for a in candidates if _usable(a, skip) and not _the_list_of(a, mail)}
    return next(iter(usable.values())) if len(usable) == 1 else ""


def _has_code(text: str) -> bool:
    return bool(find_status(text) or _REPLY_CODE_RE.search(text))


def _code_line(mail: Mail) -> str:
    """The notice's first line that quotes an SMTP reply or status code."""
    for line in mail.report_text[:_HEAD_CHARS].split("\n"):
        if _has_code(line) and not _HEADER_RE.match(line):
            return line.strip()
    return ""


def _failure_lines(mail: Mail) -> str:
    """The notice's first lines that state the failure, for a recipient named elsewhere."""
    found: list[str] = []
    for line in mail.report_text[:_HEAD_CHARS].split("\n"):
        stripped = line.strip()
        if stripped and (FAILURE_RE.search(stripped) or _FAILED_NOTICE_RE.search(stripped)):
            found.append(stripped)
            if len(found) == 3:
                break
    return " ".join(found)
