"""A decoded, read-only view of one message that every detector shares.

The standard library's ``email`` package (compat32 policy, the fast one) does the
MIME parsing; this module walks the tree once, without recursion, and keeps what
detectors ask for: decoded headers, the human-readable text, the delivery-status
and feedback-report fields, and the returned original message's headers.
"""

from __future__ import annotations

import codecs
import contextlib
import email
import email.parser
import html
import re
from email import errors
from email.header import decode_header
from email.message import Message
from typing import TYPE_CHECKING

from bounceback.parse import mime

if TYPE_CHECKING:
    from bounceback.parse.mime import AnyMessage

MAX_DEPTH = 100

Fields = list[tuple[str, str]]

_HEADER_PARSER = email.parser.HeaderParser(_class=mime.BoundedMessage)
# An unclosed style or script runs to the end (as in a browser); a tag holds no "<".
_TAG_RE = re.compile(r"<(?:style|script)\b.*?(?:</(?:style|script)>|\Z)|<[^<>]*+>", re.S | re.I)
_BR_RE = re.compile(r"<(?:br|/p|/div|/tr|/li|p|div)\b[^>]*>", re.I)
_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-sjis": "shift_jis",
    "shift-jis": "shift_jis",
    "sjis": "shift_jis",
    "x-unknown": "utf-8",
    "unknown-8bit": "utf-8",
    "iso-2022-jp-ms": "iso2022_jp_ext",
    "cp-850": "cp850",
    "ks_c_5601-1987": "cp949",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}
_STATUS_TYPES = frozenset(
    {
        "message/delivery-status",
        "message/global-delivery-status",
        "text/delivery-status",
        "message/x-delivery-status",
    }
)
_ORIGINAL_TYPES = frozenset({"message/rfc822", "message/global", "message/partial"})
_ORIGINAL_HEADER_TYPES = frozenset(
    {"text/rfc822-headers", "message/rfc822-headers", "message/global-headers"}
)


_REPORT_TYPE_RE = re.compile(r"""report-type\s*=\s*["']?([\w.\-]+)""", re.I)
_EOL_RE = re.compile(r"\r+\n?")
# A line end followed by an empty line, LF or CRLF.
_BLANK_LINE_RE = re.compile(r"\n\r?\n")


# How much of one header field is RFC 2047-decoded (decode_header_value).
MAX_DECODED_HEADER = 16 * 1024
# Multipart parts a message handed to the standard library's parser may have.
MAX_MULTIPARTS = 500


class ParseError(ValueError):
    """The message cannot be read; the text says why."""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body bytes, trusting the declared charset only as far as it works."""
    if charset:
        name = _CHARSET_ALIASES.get(charset.lower().strip(), charset.lower().strip())
        try:
            codecs.lookup(name)
        except (LookupError, ValueError):  # ValueError: a NUL in the name
            name = ""
        if name:
            try:
                return data.decode(name)
            except (UnicodeDecodeError, LookupError):
                pass
    if b"\x1b$" in data:
        try:
            return data.decode("iso2022_jp_ext")
        except UnicodeDecodeError:
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for guess in ("shift_jis", "euc_jp"):
        try:
            return data.decode(guess)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")


def decode_header_value(field: object) -> str:
    """RFC 2047-decode a header, tolerating broken encodings and charsets.

    ``field`` is what ``Message.get`` gives: None, a str, or a Header for 8-bit text.
    """
    if not field:
        return ""
    value = str(field)
    if len(value) > MAX_DECODED_HEADER and "=?" in value:
        # The stdlib's decode_header grows with the square of the number of encoded
        # words; a real header holds a few. Decode the first MAX_DECODED_HEADER
        # characters, cut at a space so no encoded word is split.
        cut = value.rfind(" ", 0, MAX_DECODED_HEADER)
        value = value[: cut if cut > 0 else MAX_DECODED_HEADER]
    if "=?" not in value:
        return " ".join(value.split())
    try:
        parts = decode_header(value)
    except Exception:
        return " ".join(value.split())
    out = []
    for chunk, charset in parts:
        if isinstance(chunk, bytes):
            out.append(decode_bytes(chunk, charset))
        else:
            out.append(chunk)
    return " ".join("".join(out).split())


def html_to_text(markup: str) -> str:
    text = _BR_RE.sub("\n", markup)
    text = _TAG_RE.sub("", text)
    return html.unescape(text)


def parse_fields(text: str) -> list[Fields]:
    """Split RFC 822-style field blocks (a delivery-status body) into groups."""
    groups: list[Fields] = []
    current: Fields = []
    for line in text.splitlines():
        if not line.strip():
            if current:
                groups.append(current)
                current = []
            continue
        if line[:1] in (" ", "\t") and current:
            name, value = current[-1]
            current[-1] = (name, value + " " + line.strip())
            continue
        name, sep, value = line.partition(":")
        if sep and name and " " not in name.strip():
            current.append((name.strip(), value.strip()))
    if current:
        groups.append(current)
    return groups


_BOUNDARY_LINE_RE = re.compile(r"^--([^\s]{1,200})[ \t]*$", re.M)


def _repair_multipart(part: AnyMessage, ctype: str) -> AnyMessage | None:
    """A multipart whose boundary parameter was lost: guess it from its first delimiter line."""
    payload = part.get_payload()
    if not isinstance(payload, str):
        return None
    m = _BOUNDARY_LINE_RE.search(payload[:4096])
    if m is None:
        text = Message()
        text.set_payload(payload)
        text.set_type("text/plain")
        return text
    boundary = m.group(1).removesuffix("--")
    source = f'Content-Type: {ctype}; boundary="{boundary}"\n\n' + payload
    # The fast parser builds the stdlib's tree; what it is unsure of goes to the stdlib.
    repaired = mime.parse_string(source)
    if repaired is None:
        repaired = email.message_from_string(source, _class=mime.BoundedMessage)
    return repaired if repaired.is_multipart() else None


_ORIGINAL_FIELDS = frozenset({"message-id", "subject", "from"})


def _holds_original(part: AnyMessage, least: int = 1) -> bool:
    """A message's header fields (not a MIME part's only) are in this header block."""
    found = 0
    for name in _ORIGINAL_FIELDS:
        if name in part:
            found += 1
            if found >= least:
                return True
    return False


_DSN_TAIL_RE = re.compile(
    r"^(?:final-recipient|action|status|diagnostic-code|last-attempt-date|remote-mta|"
    r"will-retry-until|x-actual-recipient)[ \t]*:[^\n]*\n(?:[ \t][^\n]*\n)*",
    re.I | re.M,
)
_EMBEDDED_PART_RE = re.compile(
    r"^content-type:[ \t]*(?:message/(?:rfc822|global)|text/rfc822-headers)\b[^\n]*\n"
    r"(?:[!-9;-~]+:[^\n]*\n)*\n",
    re.I | re.M,
)
_FIELD_LINE_RE = re.compile(r"^[!-9;-~]+:[ \t]")


def repair_headers(msg: AnyMessage) -> AnyMessage:
    """Headers whose continuation lines lost their indentation, read again.

    A folded Received line that starts at column 0 ends the header block for
    the parser, and the Subject, From and Message-ID after it land in the body.
    """
    if not any(isinstance(d, errors.MissingHeaderBodySeparatorDefect) for d in msg.defects):
        return msg
    payload = msg.get_payload()
    if not isinstance(payload, str):
        return msg
    block = payload.split("\n\n", 1)[0].split("\n")
    if sum(1 for line in block if _FIELD_LINE_RE.match(line)) < 2:
        return msg
    fixed = [
        line if _FIELD_LINE_RE.match(line) or line[:1] in (" ", "\t") else " " + line
        for line in block
    ]
    head = "".join(f"{name}: {value}\n" for name, value in msg.items())
    text = head + "\n".join(fixed) + "\n\n"
    return mime.parse_headers(text) or _HEADER_PARSER.parsestr(text)


def _message_fields(msg: AnyMessage) -> Fields:
    return [
        # An ASCII value is what items() would give; the rest go through it.
        # (The field list itself: raw_items() would copy it first.)
        (
            k,
            " ".join(
                (
                    v
                    if isinstance(v, str) and v.isascii()
                    else _unescape(str(mime.fetch_field(msg, k, v)))
                ).split()
            ),
        )
        for k, v in msg._headers  # type: ignore[attr-defined]
    ]


def _message_text(msg: AnyMessage) -> str:
    """A parsed block back as text, its raw 8-bit bytes read as UTF-8."""
    try:
        return msg.as_bytes().decode("utf-8", "replace")
    except (UnicodeError, LookupError, ValueError, errors.HeaderParseError):
        # The generator refuses some damage (a form feed inside a field): rebuild
        # the block by hand instead of losing it.
        head = "".join(f"{name}: {_unescape(str(value))}\n" for name, value in msg.items())
        body = msg.get_payload()
        return head + "\n" + (_unescape(body) if isinstance(body, str) else "")


def _unescape(value: str) -> str:
    """A header value with its raw 8-bit bytes (kept as surrogates) read as UTF-8."""
    if value.isascii():
        return value
    try:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    except UnicodeError:
        return value.encode("utf-8", "replace").decode("utf-8", "replace")


def content_charset(part: AnyMessage) -> str | None:
    """``part.get_content_charset()``, read without parsing every parameter."""
    value = part.get("Content-Type")
    if value is None:
        return None
    found = mime.simple_param(value, "charset")
    if found is mime.UNSURE:
        return part.get_content_charset()
    return found.lower() if isinstance(found, str) else None


# Charsets that read ASCII bytes as the same characters (an ESC could start an
# ISO-2022 sequence, which decode_bytes guesses at when no charset is declared).
_ASCII_SAFE = frozenset({None, "us-ascii", "ascii", "utf-8", "iso-8859-1", "windows-1252"})


def part_text(part: AnyMessage) -> str:
    """The decoded text of a leaf part."""
    raw = part._payload  # type: ignore[attr-defined]
    if (
        isinstance(raw, str)
        and raw.isascii()
        and "\x1b" not in raw
        and str(part.get("Content-Transfer-Encoding", "")).lower() in ("", "7bit", "8bit")
        and content_charset(part) in _ASCII_SAFE
    ):
        # What get_payload(decode=True) and decode_bytes give for it, without the
        # round trip through bytes.
        text = raw
    else:
        text = _decoded(part)
    if mime.content_type(part) == "text/html":
        text = html_to_text(text)
    return text


def _decoded(part: AnyMessage) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        text = decode_bytes(payload, content_charset(part))
    else:
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    return text


class Mail:
    """One parsed message, decoded once for all detectors."""

    def __init__(self, msg: AnyMessage) -> None:
        self.msg = msg
        # Views computed on first use (most detectors read only a few of them).
        self._lazy_inline_split: tuple[str, str] | None = None
        self._lazy_report_text: str | None = None
        self._lazy__header_index: dict[str, list[str]] | None = None
        self._lazy_subject: str | None = None
        self._lazy_from_: str | None = None
        self._lazy_to: str | None = None
        self._lazy_subject_lc: str | None = None
        self._lazy_from_lc: str | None = None
        self._lazy_header_names_lc: str | None = None
        self._lazy_received_lc: str | None = None
        self._lazy_content_type: str | None = None
        self._lazy_report_type: str | None = None
        self._lazy_text: str | None = None
        self._lazy_text_lc: str | None = None
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.status_groups: list[Fields] = []
        self.feedback_fields: Fields = []
        self._original: AnyMessage | None = None
        self._inline_checked = False
        self.original_text = ""
        self.content_types: list[str] = []
        self._walk()
        if not self.status_groups and self.text_parts:
            self.status_groups = rescue_status_groups(self.text_parts)

    # -- the returned message ------------------------------------------------
    @property
    def original(self) -> AnyMessage | None:
        """The returned message's headers: the MIME part, else the inline copy."""
        if self._original is None and not self._inline_checked:
            self._inline_checked = True
            after = self.inline_split[1] or self._embedded_original()
            if after and HEADER_LINE_RE.match(after):
                self._set_original_text(after)
        return self._original

    def set_original(self, value: AnyMessage | None) -> None:
        """A detector found the returned message's headers elsewhere."""
        self._original = value

    def _embedded_original(self) -> str:
        """A returned message whose MIME boundary was lost: its part header is text now."""
        m = _EMBEDDED_PART_RE.search(self.text)
        if m:
            return self.text[m.end() :]
        # Right after DSN fields printed as text (a message without MIME structure).
        last = None
        for last in _DSN_TAIL_RE.finditer(self.text):  # noqa: B007 (the last one is wanted)
            pass
        if last is not None:
            after = self.text[last.end() :].lstrip("\n")
            head = after.split("\n\n", 1)[0].lower()
            if HEADER_LINE_RE.match(after) and any(
                f"\n{n}:" in "\n" + head for n in _ORIGINAL_FIELDS
            ):
                return after
        # Lost inside the delivery-status part, which was split into field
        # blocks: a block of message headers and no DSN field is the original.
        for group in self.status_groups:
            names = {name.lower() for name, _ in group}
            if names & _ORIGINAL_FIELDS and not names & _DSN_FIELDS:
                return "".join(f"{k}: {v}\n" for k, v in group)
        return ""

    @property
    def inline_split(self) -> tuple[str, str]:
        """The text cut at an inline "copy of the message follows" marker line.

        Many MTAs return the message as plain text after such a line rather
        than as a MIME part; ('text', '') when there is no marker.
        """
        if self._lazy_inline_split is None:
            self._lazy_inline_split = split_inline_original(self.text, self.text_lc)
        return self._lazy_inline_split

    @property
    def report_text(self) -> str:
        """The human-readable text without any inline copy of the returned message."""
        if self._lazy_report_text is None:
            self._lazy_report_text = self.inline_split[0]
        return self._lazy_report_text

    @classmethod
    def from_bytes(cls, data: bytes) -> Mail:
        # Blank lines before the header (a careless export) would end it at once.
        data = data.lstrip(b"\r\n\t ")
        if data.startswith((b"From ", b">From ")) and b"\n" in data:
            # An mbox separator line is not a header; drop it.
            data = data.split(b"\n", 1)[1]
        # The fast parser builds the same tree; input it is unsure of goes to the stdlib.
        msg = mime.parse_bytes(data)
        if msg is not None:
            return cls(msg)
        # The stdlib's parser tests every line against every enclosing boundary: with
        # thousands of nested multiparts that is quadratic. A bounce has a few.
        if len(data) > 10 * MAX_MULTIPARTS and data.lower().count(b"multipart/") > MAX_MULTIPARTS:
            raise ParseError(f"more than {MAX_MULTIPARTS} multipart parts, nested or side by side")
        return cls(email.message_from_bytes(data, _class=mime.BoundedMessage))

    # -- headers -----------------------------------------------------------
    @property
    def _header_index(self) -> dict[str, list[str]]:
        if self._lazy__header_index is None:
            # One pass over the raw fields: detectors ask for the same few headers
            # many times, and Message.get() rescans every field on each call.
            index: dict[str, list[str]] = {}
            for name, value in self.msg.raw_items():
                index.setdefault(name.lower(), []).append(value)
            self._lazy__header_index = index
        return self._lazy__header_index

    def _values(self, name: str) -> list[str]:
        """The raw values of a field; ``name`` in lower case."""
        msg = self.msg
        if isinstance(msg, mime.ParsedMessage):
            found = msg.fields(name)  # indexed once already
            return [value for _, value in found] if found else []
        return self._header_index.get(name, [])

    def header(self, name: str) -> str:
        """The first field of that name, RFC 2047-decoded and unfolded; '' when missing."""
        msg = self.msg
        if isinstance(msg, mime.ParsedMessage):
            # The first field straight from the index: no list of values built.
            found = msg.fields(name.lower())
            if not found:
                return ""
            value = found[0][1]
        else:
            values = self._header_index.get(name.lower())
            if not values:
                return ""
            value = values[0]
        return decode_header_value(self._fetch(name, value))

    def headers(self, name: str) -> list[str]:
        values = self._values(name.lower())
        # Most names asked for are missing: no comprehension for them.
        return [decode_header_value(self._fetch(name, v)) for v in values] if values else []

    def _fetch(self, name: str, value: str) -> str:
        # compat32's header_fetch_parse returns an ASCII value as it is.
        if value.isascii():
            return value
        try:
            raw = value.encode("ascii", "surrogateescape")
        except UnicodeEncodeError:
            return str(mime.fetch_field(self.msg, name, value))
        # Raw 8-bit bytes in a header (against RFC 5322, common from Japanese
        # carriers): compat32 would wrap them in a Header that prints as U+FFFD.
        return decode_bytes(raw, None)

    @property
    def subject(self) -> str:
        if self._lazy_subject is None:
            self._lazy_subject = self.header("Subject")
        return self._lazy_subject

    @property
    def from_(self) -> str:
        if self._lazy_from_ is None:
            self._lazy_from_ = self.header("From")
        return self._lazy_from_

    @property
    def to(self) -> str:
        if self._lazy_to is None:
            self._lazy_to = self.header("To")
        return self._lazy_to

    @property
    def subject_lc(self) -> str:
        if self._lazy_subject_lc is None:
            self._lazy_subject_lc = self.subject.lower()
        return self._lazy_subject_lc

    @property
    def from_lc(self) -> str:
        if self._lazy_from_lc is None:
            self._lazy_from_lc = self.from_.lower()
        return self._lazy_from_lc

    @property
    def header_names_lc(self) -> str:
        """Every top-level field name in lower case, each after a line end.

        ``"\nx-ms-exchange-" in mail.header_names_lc`` tests for a name prefix in
        one substring search instead of a loop over the fields.
        """
        if self._lazy_header_names_lc is None:
            self._lazy_header_names_lc = "\n" + "\n".join(self.msg.keys()).lower()
        return self._lazy_header_names_lc

    @property
    def received_lc(self) -> str:
        if self._lazy_received_lc is None:
            values = self._values("received")
            self._lazy_received_lc = "\n".join(
                str(self._fetch("Received", v)) for v in values
            ).lower()
        return self._lazy_received_lc

    @property
    def content_type(self) -> str:
        if self._lazy_content_type is None:
            self._lazy_content_type = mime.content_type(self.msg)
        return self._lazy_content_type

    @property
    def report_type(self) -> str:
        if self._lazy_report_type is None:
            # A regex on the raw field: Message.get_param re-parses every parameter.
            m = _REPORT_TYPE_RE.search(self.header("Content-Type"))
            self._lazy_report_type = m.group(1).lower() if m else ""
        return self._lazy_report_type

    # -- body ----------------------------------------------------------------
    @property
    def text(self) -> str:
        """The human-readable text: plain parts, or HTML parts when there are none."""
        if self._lazy_text is None:
            text = "\n".join(self.text_parts or self.html_parts)
            # "\r\r\n" is common damage (CRLF converted twice): one line end, not two.
            self._lazy_text = _EOL_RE.sub("\n", text) if "\r" in text else text
        return self._lazy_text

    @property
    def text_lc(self) -> str:
        if self._lazy_text_lc is None:
            self._lazy_text_lc = self.text.lower()
        return self._lazy_text_lc

    def _walk(self) -> None:
        """Read every part, depth first in document order, each by its content type."""
        stack: list[tuple[AnyMessage, int]] = [(self.msg, 0)]
        while stack:
            part, depth = stack.pop()
            if depth > MAX_DEPTH:
                raise ParseError(f"MIME parts nested deeper than {MAX_DEPTH} levels")
            ctype = mime.content_type(part)
            self.content_types.append(ctype)
            for sub in reversed(self._visit(part, ctype, depth)):
                stack.append((sub, depth + 1))
        # Here, not in __init__: there mypy (and so the compiled code) would still take
        # _original for the None it was just set to.
        if self._original is not None and self._original.defects:
            self._original = repair_headers(self._original)

    def _visit(self, part: AnyMessage, ctype: str, depth: int) -> list[AnyMessage]:
        """Read one part; the parts inside it, to read next (a returned message's
        parts are not read: its text is not the bounce's)."""
        if ctype in _ORIGINAL_TYPES:
            if self._original is None:
                self._take_original(part)
            return []
        if ctype in _STATUS_TYPES:
            self._add_status(part)
            return []
        if part.is_multipart():
            payload = part.get_payload()
            if isinstance(payload, list):
                return [sub for sub in payload if isinstance(sub, Message)]
            return []
        if ctype.startswith("multipart/"):
            repaired = _repair_multipart(part, ctype)
            if repaired is not None:
                return [repaired]
        self._read_leaf(part, ctype, depth)
        return []

    def _take_original(self, part: AnyMessage) -> None:
        """The returned message from a message/rfc822 (or global, partial) part."""
        inner = part.get_payload()
        first = inner[0] if isinstance(inner, list) and inner else None
        if _holds_original(part, 2) and isinstance(first, Message) and not _holds_original(first):
            # No blank line after the part's Content-Type: the returned
            # headers were read as the part's own (two of them, as some
            # generators give the part a Message-ID of its own).
            self._original = part
        elif isinstance(inner, list) and inner and isinstance(inner[0], Message):
            self._original = inner[0]
            body = inner[0].get_payload()
            if not inner[0].keys() and isinstance(body, str):
                # A blank line too many after the part's headers: the
                # returned headers were read as the body.
                self._set_original_text(body)
        elif isinstance(inner, str):
            self._set_original_text(inner)

    def _read_leaf(self, part: AnyMessage, ctype: str, depth: int) -> None:
        """A part with no parts inside: feedback fields, returned headers, or text."""
        if ctype == "message/feedback-report":
            groups = parse_fields(part_text(part))
            self.feedback_fields = [f for g in groups for f in g]
        elif ctype in _ORIGINAL_HEADER_TYPES and self._original is None:
            if _holds_original(part, 2):
                self._original = part  # the headers run on from the part's own
            else:
                self._set_original_text(part_text(part))
        elif ctype == "text/html":
            self.html_parts.append(part_text(part))
        elif ctype.startswith("text/") or (ctype == "application/octet-stream" and depth == 0):
            self.text_parts.append(part_text(part))

    def _add_status(self, part: AnyMessage) -> None:
        payload = part.get_payload()
        cte = str(part.get("Content-Transfer-Encoding", "")).lower()
        blocks = [m for m in payload if isinstance(m, Message)] if isinstance(payload, list) else []
        if cte not in ("base64", "quoted-printable") and blocks:
            if all(not str(m.get_payload()).strip() for m in blocks):
                # compat32 already split message/delivery-status into field blocks.
                for block in blocks:
                    fields = _message_fields(block)
                    if fields:
                        self.status_groups.append(fields)
                return
            # Other status types (message/global-delivery-status) come as one
            # message whose body holds the per-recipient blocks; UTF-8 by RFC 6533.
            text = "\n\n".join(_message_text(m) for m in blocks)
            self.status_groups.extend(parse_fields(text))
            return
        if isinstance(payload, list):
            text = "\n\n".join(m.as_string() for m in payload if isinstance(m, Message))
            raw = text.encode("latin-1", "replace")
            if cte == "base64":
                import base64

                with contextlib.suppress(ValueError):
                    text = base64.b64decode(raw).decode("utf-8", "replace")
            else:
                import quopri

                text = quopri.decodestring(raw).decode("utf-8", "replace")
        else:
            text = part_text(part)
        self.status_groups.extend(parse_fields(text))

    def _set_original_text(self, text: str) -> None:
        self.original_text = text
        # Only the header block is wanted; the body can be long.
        text = text.lstrip("\r\n")
        # Cut at the first blank line (LF or CRLF) before rewriting line ends, so
        # the returned message's body is not copied twice.
        blank = _BLANK_LINE_RE.search(text)
        if blank is not None:
            text = text[: blank.start() + 1] + "\n"
        head = text.replace("\r\n", "\n").split("\n\n", 1)[0] + "\n\n"
        parsed = mime.parse_headers(head) or _HEADER_PARSER.parsestr(head)
        self._original = repair_headers(parsed)


# Lines that announce an inline copy of the returned message (Exim, qmail,
# sendmail, DragonFly, OpenSMTPD and many appliances word it so).
INLINE_ORIGINAL_RE = re.compile(
    r"^[ \t>|*=_-]*(?:(?:"
    r"this is a copy of the message|"
    r"(?:below this line is|enclosed is|here is) a copy of the (?:original )?message|"
    r"below is a copy of the original message|"
    r"(?:original |returned |unsent |undelivered )?message headers? follows?|"
    r"(?:the )?(?:original|unsent|returned|undelivered|rejected) message(?: text)? follows|"
    r"message text follows|"
    r"headers of the (?:original|returned) message follow"
    r")\b[^\n]{0,60}|"
    r"(?:original|returned|undelivered) message(?: headers?)?[ \t:.*=_-]*"
    r")$",
    re.I | re.M,
)
HEADER_LINE_RE = re.compile(r"^\s*(?:From |[!-9;-~]++:[ \t]?\S?)")


# The same test for one line; every wording above contains "message".
_INLINE_LINE_RE = re.compile(INLINE_ORIGINAL_RE.pattern, re.I | re.M)


def _find_inline_marker(text: str, low: str | None = None) -> tuple[int, int] | None:
    """Where the first marker line is: only lines that say "message" are tried.

    The multi-line search tries its alternatives at every line start; this looks
    up the few lines with the word and tests each one alone. ``low`` is
    ``text.lower()`` when the caller has it already.
    """
    if low is None:
        low = text.lower()
    if len(low) != len(text):  # lowering changed offsets: search the slow way
        m = INLINE_ORIGINAL_RE.search(text)
        return (m.start(), m.end()) if m else None
    at = low.find("message")
    while at >= 0:
        start = low.rfind("\n", 0, at) + 1
        end = low.find("\n", at)
        if end < 0:
            end = len(low)
        if _INLINE_LINE_RE.fullmatch(text, start, end):
            return start, end
        at = low.find("message", end)
    return None


def split_inline_original(text: str, low: str | None = None) -> tuple[str, str]:
    """Split text at the first inline-original marker: (before, after).

    ``low``, when given, is ``text.lower()`` (Mail has it already).
    """
    found = _find_inline_marker(text, low)
    if found is None:
        return text, ""
    start, end = found
    after = text[end:].lstrip("\n")
    if after.startswith("From ") and "\n" in after:
        after = after.split("\n", 1)[1]  # an mbox separator inside the copy
    return text[:start], after


_DSN_FIELD_RE = re.compile(
    r"^[ \t]*(?:> ?)*(?:final-recipient|original-recipient)[ \t]*:", re.I | re.M
)
_DSN_FIELDS = frozenset(
    {
        "reporting-mta",
        "received-from-mta",
        "arrival-date",
        "original-envelope-id",
        "dsn-gateway",
        "final-recipient",
        "original-recipient",
        "action",
        "status",
        "remote-mta",
        "diagnostic-code",
        "last-attempt-date",
        "will-retry-until",
        "final-log-id",
    }
)


def rescue_status_groups(parts: list[str]) -> list[Fields]:
    """DSN fields printed in a text part: a lost MIME boundary or a forwarded DSN.

    Collects the field lines (and their continuations) around the first
    recipient field and stops at the first line that is not a DSN field.
    """
    for text in parts:
        if "-recipient" not in text.lower():
            continue  # a substring test before the slow case-blind multi-line search
        m = _DSN_FIELD_RE.search(text)
        if m is None:
            continue
        lines = text.replace("\r\n", "\n").split("\n")
        first = text.count("\n", 0, m.start())
        start = first
        # Walk back over the per-message fields that precede the first recipient.
        while start > 0 and _dsn_line(lines[start - 1]) != "other":
            start -= 1
        block: list[str] = []
        for n, line in enumerate(lines[start:], start):
            kind = _dsn_line(line)
            if kind == "other":
                if n > first:
                    break
                continue
            block.append(_unquote(line))
        return parse_fields("\n".join(block))
    return []


def _unquote(line: str) -> str:
    """A line without the '> ' quoting of a forwarded message."""
    if not line.lstrip().startswith(">"):
        return line
    stripped = line.lstrip()
    while stripped.startswith(">"):
        stripped = stripped[1:]
        stripped = stripped[1:] if stripped.startswith(" ") else stripped
    return stripped


def _dsn_line(line: str) -> str:
    body = _unquote(line)
    if not body.strip():
        return "blank"
    if body[:1] in (" ", "\t"):
        return "cont"
    name, sep, _ = body.partition(":")
    name = name.strip().lower()
    if sep and " " not in name and (name in _DSN_FIELDS or name.startswith("x-")):
        return "field"
    return "other"
