"""A decoded, read-only view of one message that every detector shares.

The standard library's ``email`` package (compat32 policy, the fast one) does the
MIME parsing; this module walks the tree once, without recursion, and keeps what
detectors ask for: decoded headers, the human-readable text, the delivery-status
and feedback-report fields, and the returned original message's headers.
"""

from __future__ import annotations

import codecs
import email
import email.parser
import html
import re
from email.header import decode_header
from email.message import Message
from functools import cached_property

MAX_DEPTH = 100

Fields = list[tuple[str, str]]

_HEADER_PARSER = email.parser.HeaderParser()
_TAG_RE = re.compile(r"<(?:style|script)\b.*?</(?:style|script)>|<[^>]*>", re.S | re.I)
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


class ParseError(ValueError):
    """The message cannot be read; the text says why."""


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode body bytes, trusting the declared charset only as far as it works."""
    if charset:
        name = _CHARSET_ALIASES.get(charset.lower().strip(), charset.lower().strip())
        try:
            codecs.lookup(name)
        except LookupError:
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


def decode_header_value(value: str | None) -> str:
    """RFC 2047-decode a header, tolerating broken encodings and charsets."""
    if not value:
        return ""
    value = str(value)
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


def _message_fields(msg: Message) -> Fields:
    return [(k, " ".join(str(v).split())) for k, v in msg.items()]


def part_text(part: Message) -> str:
    """The decoded text of a leaf part."""
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        text = decode_bytes(payload, part.get_content_charset())
    else:
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    if part.get_content_type() == "text/html":
        text = html_to_text(text)
    return text


class Mail:
    """One parsed message, decoded once for all detectors."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self.text_parts: list[str] = []
        self.html_parts: list[str] = []
        self.status_groups: list[Fields] = []
        self.feedback_fields: Fields = []
        self.original: Message | None = None
        self.original_text = ""
        self.content_types: list[str] = []
        self._walk()

    @classmethod
    def from_bytes(cls, data: bytes) -> Mail:
        if data.startswith(b"From ") and b"\n" in data:
            # An mbox separator line is not a header; drop it.
            data = data.split(b"\n", 1)[1]
        return cls(email.message_from_bytes(data))

    # -- headers -----------------------------------------------------------
    def header(self, name: str) -> str:
        return decode_header_value(self.msg.get(name))

    def headers(self, name: str) -> list[str]:
        return [decode_header_value(v) for v in self.msg.get_all(name, [])]

    @cached_property
    def subject(self) -> str:
        return self.header("Subject")

    @cached_property
    def from_(self) -> str:
        return self.header("From")

    @cached_property
    def to(self) -> str:
        return self.header("To")

    @cached_property
    def subject_lc(self) -> str:
        return self.subject.lower()

    @cached_property
    def from_lc(self) -> str:
        return self.from_.lower()

    @cached_property
    def received_lc(self) -> str:
        return "\n".join(str(v) for v in self.msg.get_all("Received", [])).lower()

    @cached_property
    def content_type(self) -> str:
        return self.msg.get_content_type()

    @cached_property
    def report_type(self) -> str:
        return str(self.msg.get_param("report-type", "") or "").lower()

    # -- body ----------------------------------------------------------------
    @cached_property
    def text(self) -> str:
        """The human-readable text: plain parts, or HTML parts when there are none."""
        parts = self.text_parts or self.html_parts
        return "\n".join(parts).replace("\r\n", "\n").replace("\r", "\n")

    @cached_property
    def text_lc(self) -> str:
        return self.text.lower()

    def _walk(self) -> None:
        stack: list[tuple[Message, int, bool]] = [(self.msg, 0, False)]
        while stack:
            part, depth, in_original = stack.pop()
            if depth > MAX_DEPTH:
                raise ParseError(f"MIME parts nested deeper than {MAX_DEPTH} levels")
            ctype = part.get_content_type()
            self.content_types.append(ctype)
            if ctype in _ORIGINAL_TYPES:
                if in_original or self.original is not None:
                    continue
                inner = part.get_payload()
                if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                    self.original = inner[0]
                elif isinstance(inner, str):
                    self._set_original_text(inner)
                continue
            if ctype in _STATUS_TYPES:
                if not in_original:
                    self._add_status(part)
                continue
            if part.is_multipart():
                payload = part.get_payload()
                if isinstance(payload, list):
                    for sub in reversed(payload):
                        if isinstance(sub, Message):
                            stack.append((sub, depth + 1, in_original))
                continue
            if in_original:
                continue
            if ctype == "message/feedback-report":
                groups = parse_fields(part_text(part))
                self.feedback_fields = [f for g in groups for f in g]
            elif ctype in _ORIGINAL_HEADER_TYPES and self.original is None:
                self._set_original_text(part_text(part))
            elif ctype == "text/html":
                self.html_parts.append(part_text(part))
            elif ctype.startswith("text/") or ctype == "application/octet-stream" and (
                depth == 0
            ):
                self.text_parts.append(part_text(part))

    def _add_status(self, part: Message) -> None:
        payload = part.get_payload()
        cte = str(part.get("Content-Transfer-Encoding", "")).lower()
        if isinstance(payload, list) and cte not in ("base64", "quoted-printable"):
            # compat32 already split message/delivery-status into field blocks.
            for block in payload:
                if isinstance(block, Message):
                    fields = _message_fields(block)
                    if fields:
                        self.status_groups.append(fields)
            return
        if isinstance(payload, list):
            text = "\n\n".join(m.as_string() for m in payload if isinstance(m, Message))
            raw = text.encode("latin-1", "replace")
            if cte == "base64":
                import base64

                try:
                    text = base64.b64decode(raw).decode("utf-8", "replace")
                except ValueError:
                    pass
            else:
                import quopri

                text = quopri.decodestring(raw).decode("utf-8", "replace")
        else:
            text = part_text(part)
        self.status_groups.extend(parse_fields(text))

    def _set_original_text(self, text: str) -> None:
        self.original_text = text
        self.original = _HEADER_PARSER.parsestr(text.lstrip("\r\n"))
