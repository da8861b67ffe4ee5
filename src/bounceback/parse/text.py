"""Small text helpers shared by the detectors: addresses and SMTP codes."""

from __future__ import annotations

import re

# An address as bounces print it: bare, in <>, after "rfc822;", quoted local parts.
# The local part's runs are possessive (``{...}+``): a shorter run cannot be followed
# by the '"' or "@" the longest one was not, so backtracking into it only costs time.
# Domain labels may hold "_": DNS names do in real mail (host_name.example.org),
# though RFC 952 host names may not.
ADDRESS_RE = re.compile(
    r"""(?:"[^"\r\n]{1,64}+"|[A-Za-z0-9!#$%&'*+/=?^_`{|}~.\-]{1,128}+)@"""
    r"""(?:\[[0-9A-Fa-f.:IPv]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,62}[A-Za-z0-9_])?"""
    r"""(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_\-]{0,62}[A-Za-z0-9_])?)*)"""
)
# The look-behind (no digit or dot before the code) comes after the code's first
# digit, not before it: a pattern that starts with a character set lets the
# regex engine skip ahead to the next 2, 4 or 5 instead of trying every position.
STATUS_RE = re.compile(r"([245])(?<![\d.][245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)")
REPLY_CODE_RE = re.compile(r"([245](?<![\d.\-][245])[0-5]\d)(?=[ \-]|$)")
SMTP_COMMANDS = ("CONNECT", "HELO", "EHLO", "STARTTLS", "AUTH", "MAIL", "RCPT", "DATA", "BDAT")
# SMTP verbs as MTAs print them (upper case: "data" or "connect" in prose is
# not a command, nor "HELO=[host]", Exim's log field), lower-case ones only after
# words that announce a command, and the phrases that mean the connection itself
# failed.
_COMMAND_RE = re.compile(
    r"\b(MAIL FROM|RCPT TO|EHLO|HELO|STARTTLS|AUTH|DATA|BDAT|CONNECT)\b(?!=)"
    r"|(?i:\b(?:in reply to|after|while sending|in response to|during|>>>)\s+"
    r"(mail from|rcpt to|ehlo|helo|starttls|auth|data|bdat|end of data)\b)"
    r"|(?i:\b(end of data)\b)"
    r"|(?i:\b(connect to|initial connection|while connecting|connection (?:refused|timed out))\b)"
)


def find_address(text: str) -> str:
    """The first email address in a string, without brackets; '' when none."""
    if not text or "@" not in text:  # every match has an "@": skip the regex scan
        return ""
    m = ADDRESS_RE.search(text)
    if not m:
        return ""
    return clean_address(m.group(0))


def find_addresses(text: str) -> list[str]:
    if "@" not in text:
        return []
    return [clean_address(m.group(0)) for m in ADDRESS_RE.finditer(text)]


def clean_address(addr: str) -> str:
    addr = addr.strip().strip("<>'.,;:()[]").strip()
    # Keep the quotes of a quoted local part ("john..doe"@example.org).
    if not (addr.startswith('"') and '"@' in addr):
        addr = addr.strip('"').strip()
    if addr.lower().startswith("mailto:"):
        addr = addr[7:]
    if "=" in addr or addr[:5].lower() == "imcea":
        addr = _unwrap_gateway_form(addr)
    return addr


# X.400 gateways and Exchange print an Internet address inside their own forms:
# "dda:SMTP=user@host" or "RFC-822=user@host" (the finder starts at the type),
# and Exchange's encapsulated "IMCEASMTP-user+40host@exchange.host" (RFC 1891
# xtext style: "+XX" is the character with hex code XX).
_GATEWAY_TYPES = ("smtp=", "rfc-822=", "rfc822=", "internet=")
_XTEXT_RE = re.compile(r"\+([0-9A-Fa-f]{2})")


def _unwrap_gateway_form(addr: str) -> str:
    low = addr.lower()
    for kind in _GATEWAY_TYPES:
        if low.startswith(kind) and "@" in addr:
            return addr[len(kind) :]
    if low.startswith("imceasmtp-"):
        local = addr[10:].rpartition("@")[0]
        inner = _XTEXT_RE.sub(lambda m: chr(int(m.group(1), 16)), local)
        if inner.count("@") == 1 and " " not in inner:
            return inner
    return addr


def address_field(value: str) -> str:
    """The address in a DSN recipient field such as 'rfc822; <a@b>'."""
    if ";" in value:
        kind, _, rest = value.partition(";")
        if "@" not in kind:
            value = rest
    token = value.strip().strip("<>").strip()
    if not token.isascii() and token.count("@") == 1 and " " not in token:
        # An internationalised address (RFC 6531/6533: "utf-8; 用户@例子.广告"),
        # which the ASCII pattern would cut short.
        return token
    return find_address(value) or token


def find_status(text: str) -> str:
    """The first enhanced status code (RFC 3463) in a text; '' when none."""
    m = STATUS_RE.search(text)
    return f"{m.group(1)}.{int(m.group(2))}.{int(m.group(3))}" if m else ""


_FAILURE_CODE_RE = re.compile(r"([45](?<![\d.\-][45])[0-5]\d)(?=[ \-]|$)")


def find_reply_code(text: str) -> str:
    """The SMTP reply code a diagnostic starts with (or shows first); '' when none.

    A failure code wins over a success code printed before it: the server's
    "220-" greeting quoted ahead of its "421" refusal is not the reply.
    """
    head = text.lstrip()[:200]
    m = _FAILURE_CODE_RE.search(head) or REPLY_CODE_RE.search(head)
    return m.group(1) if m else ""


# Every alternative of _COMMAND_RE contains one of these (lower-cased): a cheap
# test that spares most diagnostics the slow case-blind search.
_COMMAND_WORDS = (
    "mail from",
    "rcpt to",
    "helo",
    "ehlo",
    "starttls",
    "auth",
    "data",
    "bdat",
    "connect",
)


# _COMMAND_RE split in two for speed (the case-blind alternatives cannot skip
# ahead): its upper-case verbs searched in the text, the rest in the lowered
# text without IGNORECASE. Each is tried only where one of its words starts.
_VERB_RE = re.compile(r"\b(MAIL FROM|RCPT TO|EHLO|HELO|STARTTLS|AUTH|DATA|BDAT|CONNECT)\b(?!=)")
_VERB_START_RE = re.compile(r"MAIL FROM|RCPT TO|EHLO|HELO|STARTTLS|AUTH|DATA|BDAT|CONNECT")
_PHRASE_RE = re.compile(
    r"\b(?:in reply to|after|while sending|in response to|during|>>>)\s+"
    r"(mail from|rcpt to|ehlo|helo|starttls|auth|data|bdat|end of data)\b"
    r"|\b(end of data)\b"
    r"|\b(connect to|initial connection|while connecting|connection (?:refused|timed out))\b"
)
_PHRASE_START_RE = re.compile(r"in re|after|while |during|>>>|end of data|connect|initial conn")


def _first_match(start: re.Pattern[str], full: re.Pattern[str], text: str) -> re.Match[str] | None:
    """``full.search(text)``, trying ``full`` only where ``start`` finds a possible start."""
    m = start.search(text)
    while m is not None:
        found = full.match(text, m.start())
        if found is not None:
            return found
        m = start.search(text, m.start() + 1)
    return None


def _command_groups(text: str, low: str) -> tuple[str | None, ...] | None:
    """The groups of ``_COMMAND_RE.search(text)`` (None: no match)."""
    if not text.isascii():
        # Case-blind matching of non-ASCII text (and lowering it) is not
        # position-for-position: the one regex then.
        m = _COMMAND_RE.search(text)
        return m.groups() if m else None
    verb = _first_match(_VERB_START_RE, _VERB_RE, text)
    phrase = _first_match(_PHRASE_START_RE, _PHRASE_RE, low)
    # The leftmost match wins; at the same place the verb (the first alternative).
    if verb is not None and (phrase is None or verb.start() <= phrase.start()):
        return verb.group(1), None, None, None
    if phrase is not None:
        return (None, *phrase.groups())
    return None


def find_smtp_command(text: str, low: str | None = None) -> str:
    """The SMTP command a failure is reported after, normalised to its verb.

    ``low``: ``text.lower()``, when the caller has it.
    """
    if low is None:
        low = text.lower()
    if not any(word in low for word in _COMMAND_WORDS):
        return ""
    groups = _command_groups(text, low)
    if groups is None:
        return ""
    if groups[3]:
        return "CONNECT"
    verb = (groups[0] or groups[1] or groups[2] or "").upper()
    if verb == "END OF DATA":
        return "DATA"
    return verb.split()[0]


def search_heading(
    regex: re.Pattern[str], heading: str, text: str, low: str, pos: int = 0
) -> re.Match[str] | None:
    """``regex.search(text, pos)``, for a case-blind multi-line ``regex`` whose every
    match starts at a line start and holds ``heading`` (lower case).

    On ASCII text only the lines where the heading occurs are tried: the regex alone
    tries every position. ``low`` starts with ``text.lower()`` (it may go on, as the
    lowered whole of which ``text`` is the start).
    """
    if not text.isascii():
        return regex.search(text, pos)
    at = low.find(heading, pos, len(text))
    while at >= 0:
        line_start = low.rfind("\n", 0, at) + 1
        if line_start >= pos:
            found = regex.match(text, line_start)
            if found is not None:
                return found
        at = low.find(heading, at + 1, len(text))
    return None


def find_phrase(text: str, phrase: str) -> int:
    """Where a lower-case phrase first occurs in text, in any case; -1 when nowhere.

    ``str.find`` on the lowered text: a case-blind regex cannot skip ahead to a
    literal and is several times slower on a long text.
    """
    low = text.lower()
    if len(low) == len(text):
        return low.find(phrase)
    m = re.search(re.escape(phrase), text, re.I)  # lowering moved the offsets
    return m.start() if m else -1


def squeeze(text: str) -> str:
    """Collapse white space, the form diagnostics are compared in."""
    return " ".join(text.split())


# The host a text bounce names as the one that refused: "host mx[192.0.2.1] said",
# Exim's "host mx.example.jp [192.0.2.1]:", qmail's "remote host 192.0.2.1 said",
# DragonFly's "mx.example.jp [192.0.2.1] did not like our RCPT TO", sendmail's
# "while talking to mx.example.jp.:".
_HOST = r"\[?([A-Za-z0-9][A-Za-z0-9.\-:]*[A-Za-z0-9])\]?"
_REMOTE_MTA_RES = (
    re.compile(r"\bhost\s+" + _HOST + r"\s*\[[0-9A-Fa-f.:IPv]+\]", re.I),
    re.compile(r"\bremote host\s+" + _HOST + r"\s+(?:said|says|replied|refused)", re.I),
    re.compile(r"\bconnected to\s+" + _HOST + r"\s+but\b", re.I),
    re.compile(
        r"(?:^|\s)" + _HOST + r"(?:\s*\[[0-9A-Fa-f.:IPv]+\])?\s+(?:does not like recipient|"
        r"failed after I sent the message|did not like our)",
        re.I | re.M,
    ),
    re.compile(r"\bgiving up on\s+" + _HOST, re.I),
    re.compile(r"\bwhile talking to\s+" + _HOST + r"\.?:", re.I),
    re.compile(r"\bhost\s+" + _HOST + r"\s+said\b", re.I),
)


# The words each pattern above needs (lower-cased), tested before it runs.
_REMOTE_MTA_WORDS = (
    ("host",),
    ("remote host",),
    ("connected to",),
    ("does not like recipient", "failed after i sent the message", "did not like our"),
    ("giving up on",),
    ("while talking to",),
    ("host",),
)


def find_remote_mta(text: str, low: str | None = None) -> str:
    """The remote host a text diagnostic says refused the message; '' when none.

    ``low``: ``text.lower()``, when the caller has it.
    """
    if low is None:
        low = text.lower()
    for regex, words in zip(_REMOTE_MTA_RES, _REMOTE_MTA_WORDS, strict=True):
        if len(words) == 1:
            if words[0] not in low:
                continue
        elif not any(word in low for word in words):
            continue
        m = regex.search(text)
        if m:
            return m.group(1).rstrip(".")
    return ""


_CONTINUED_RE = re.compile(r"^([245]\d\d)-(?:([245]\.\d{1,3}\.\d{1,3})\s)?")


def join_reply_lines(text: str) -> str:
    """One line from a multi-line SMTP reply: drop the repeated '550-5.7.1 ' prefixes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    out: list[str] = []
    prefix: re.Pattern[str] | None = None
    for line in lines:
        if prefix is not None:
            stripped = prefix.sub("", line, count=1)
            if stripped != line:
                out.append(stripped.strip())
                continue
        m = _CONTINUED_RE.search(line) or _CONTINUED_RE.search(line.split(": ", 1)[-1])
        if m and prefix is None:
            code, status = m.group(1), m.group(2)
            pattern = rf"^{code}[ \-]" + (rf"(?:{re.escape(status)}\s+)?" if status else "")
            prefix = re.compile(pattern)
        out.append(line)
    return " ".join(out)


# An SMTP error code, or words that say a delivery failed.
FAILURE_RE = re.compile(
    r"(?<![\d.])[45]\d\d(?:[ \-]|$)|(?<![\d.])[45]\.\d{1,3}\.\d{1,3}(?![\d.])|"
    r"user unknown|unknown user|no such (?:local )?(?:user|mailbox|recipient|address|domain)|"
    r"unknown (?:host|domain|recipient|address)|host unknown|does not exist|not exist|"
    r"mailbox (?:is )?(?:full|unavailable|not found|disabled)|over quota|quota exceeded|"
    r"(?:invalid|not a valid) (?:recipient|address|mailbox|user)|recipient (?:address )?rejected|"
    r"address rejected|not found|unavailable|undeliverable|not (?:be )?delivered|"
    r"unrouteable|unroutable|refused|rejected|denied|disabled|inactive|blocked|timed? ?out|"
    r"expired|failed|failure|unable to deliver|(?:could|can)not (?:be )?deliver|mail loop",
    re.I,
)
