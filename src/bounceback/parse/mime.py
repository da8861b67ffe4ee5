"""A faster MIME parse that builds the same tree as ``email.message_from_bytes``.

The standard library's feed parser is written for input that arrives in pieces:
every line goes through a generator, a look-back buffer and every enclosing
boundary's regex. A bounce arrives whole, so this module walks a list of lines
with an index instead, and tests a line against the boundaries only when it can
be one (it starts with "--"); a well-formed header block is split into fields
by one regex, and boundary and charset parameters are read without parsing every
parameter. The result is the same compat32 ``Message`` tree (headers, payloads,
preambles, epilogues and defects; tests/parse/test_mime.py compares them), so
everything built on the ``email`` package keeps working. Its nodes are
``ParsedMessage``: they remember their content type and index their fields, as
detectors ask for the same few fields many times.

Input it does not handle the same way for certain (a bare CR line end, the
vertical-tab/form-feed/separator characters ``str.splitlines`` would split on,
"From " lines inside a header block, very deep nesting) makes ``parse_bytes``
return None, and the caller uses the standard library instead.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable
from email import errors
from email._policybase import compat32
from email.message import Message
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    # compat32 gives a field's value as a str, or as an email.header.Header for 8-bit
    # text; the stubs say str, and compiled (mypyc) code checks declared types as it runs.
    AnyMessage: TypeAlias = Message[Any, Any]

# Deeper than this is left to the standard library (and so to its own limits).
MAX_NESTING = 60

# A header block that starts so, or has a "From " or ":" line, takes the long way.
_ODD_FIRST = (" ", "\t", ":", "From ")
# One field of a header block that _HEADER_LINES_RE accepts (and that holds no
# "From " line): its name, and its value from the first non-blank character on,
# continuation lines included, up to (not including) the last line end.
_FIELD_RE = re.compile(r"(?<![!-9;-~])([!-9;-~]*+):[ \t]*(.*(?:\n[ \t].*)*)\n?")

# email.feedparser's own tests (private there): a line end at the start or the
# end of a string, and a line that may stand in a header block.
NLCRE_bol = re.compile(r"(\r\n|\r|\n)")
NLCRE_eol = re.compile(r"(\r\n|\r|\n)\Z")
headerRE = re.compile(r"^(From |[\041-\071\073-\176]*:|[\t ])")

# A header block whose every line is a field or a continuation (headerRE's test).
_HEADER_LINES_RE = re.compile(r"(?:(?:From |[!-9;-~]*:|[\t ]).*\n?)*")
# The same test, faster: the first line starts as a header line may, and no
# line end is followed by a line that does not (sre finds each "\n" by a fast
# scan instead of stepping through every character of every line).
_HEADER_LINE_START_RE = re.compile(r"^(?:From |[!-9;-~]*+:|[\t ])")
_BAD_HEADER_LINE_RE = re.compile(r"\n(?!From |[!-9;-~]*:|[\t ]|\Z)")


def _all_header_lines(block: str) -> bool:
    """``_HEADER_LINES_RE`` matches all of ``block`` (every line is a field line)."""
    if not block:
        return True
    return bool(_HEADER_LINE_START_RE.match(block)) and not _BAD_HEADER_LINE_RE.search(block)


# Line ends for str.splitlines but not for the stdlib; in decoded text, more of them.
_ODD_LINE_ENDS = ("\x0b", "\x0c", "\x1c", "\x1d", "\x1e")
_ODD_TEXT_LINE_ENDS = (*_ODD_LINE_ENDS, "\x85", "\u2028", "\u2029")

Matcher = Callable[[str], object]


_NONE: list[tuple[str, Any]] = []


# The stdlib splits parameters by slicing what is left of the field, a cost that grows
# with the square of its length; a real Content-Type is a few hundred characters.
MAX_PARAM_FIELD = 8192


class BoundedMessage(Message):
    """A compat32 Message that reads parameters (boundary, charset...) from the first
    MAX_PARAM_FIELD characters of a field only. The class of every message the parser
    builds, with this module or with the standard library's parser."""

    def _get_params_preserve(self, failobj: Any, header: str) -> Any:
        # The raw field (get() may give a Header, which compiled code would refuse here).
        headers: list[tuple[str, Any]] = self._headers  # type: ignore[attr-defined]
        name = header.lower()
        value: Any = next((v for k, v in headers if k.lower() == name), None)
        if value is not None and len(str(value)) > MAX_PARAM_FIELD:
            short = Message()
            short[header] = str(value)[:MAX_PARAM_FIELD]
            return short._get_params_preserve(failobj, header)  # type: ignore[attr-defined]
        return super()._get_params_preserve(failobj, header)  # type: ignore[misc]


class ParsedMessage(BoundedMessage):
    """A compat32 Message that remembers its content type and indexes its fields.

    ``Message.get`` lowercases every field name on each call; detectors ask a
    message for the same few fields many times. The index is rebuilt whenever
    the field list is replaced or changes length, or a field is replaced.
    """

    content_type = ""
    _index: dict[str, list[tuple[str, Any]]] | None = None
    # The field list indexed (kept, so its id cannot be reused) and its length.
    _indexed: tuple[object, int] = (None, -1)

    def fields(self, name: str) -> list[tuple[str, Any]]:
        """Every (name, raw value) of a field, in order; ``name`` in lower case."""
        headers: list[tuple[str, Any]] = self._headers  # type: ignore[attr-defined]
        index = self._index
        seen, size = self._indexed
        if index is None or seen is not headers or size != len(headers):
            index = {}
            for field in headers:
                key = field[0].lower()
                if key in index:
                    index[key].append(field)
                else:
                    index[key] = [field]
            self._index = index
            self._indexed = (headers, len(headers))
        return index.get(name, _NONE)

    def get(self, name: str, failobj: Any = None) -> Any:
        found = self.fields(name.lower())
        if not found:
            return failobj
        value = found[0][1]
        if isinstance(value, str) and value.isascii():
            return value  # what compat32's header_fetch_parse returns for it
        return fetch_field(self, *found[0])

    def __getitem__(self, name: str) -> Any:
        return self.get(name)

    def replace_header(self, _name: str, _value: Any) -> None:
        super().replace_header(_name, _value)
        self._index = None  # the one edit in place

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and bool(self.fields(name.lower()))


def fetch_field(msg: AnyMessage, name: str, value: Any) -> Any:
    """The policy's value of a raw field. compat32 returns a Header for 8-bit text,
    not the str the stubs promise; compiled code checks declared types, so: Any."""
    policy: Any = msg.policy
    return policy.header_fetch_parse(name, value)


def content_type(msg: AnyMessage) -> str:
    """``msg.get_content_type()``, free for a part this module parsed."""
    if isinstance(msg, ParsedMessage) and msg.content_type:
        return msg.content_type
    return msg.get_content_type()


class _Unsure(Exception):
    """The input takes a path where this parser might differ from the stdlib's."""


def parse_bytes(data: bytes) -> AnyMessage | None:
    """The message as ``email.message_from_bytes`` reads it, or None: use that."""
    return _parse(data.decode("ascii", "surrogateescape"), _ODD_LINE_ENDS, False)


def parse_string(text: str) -> AnyMessage | None:
    """The message as ``email.message_from_string`` reads it, or None: use that."""
    return _parse(text, _ODD_TEXT_LINE_ENDS, False)


def parse_headers(text: str) -> AnyMessage | None:
    """The header block as ``HeaderParser().parsestr`` reads it, or None: use that."""
    return _parse(text, _ODD_TEXT_LINE_ENDS, True)


def _parse(text: str, odd: tuple[str, ...], headers_only: bool) -> AnyMessage | None:
    # "in" first: a vectorised scan, where a count steps through every character.
    if "\r" in text and text.count("\r") != text.count("\r\n"):
        return None  # a bare CR is a line end for the stdlib, not for splitlines
    for c in odd:
        if c in text:
            return None
    if not text:
        return None
    try:
        return _Parser(text.splitlines(True), headers_only).parse()
    except (_Unsure, RecursionError, LookupError, ValueError, TypeError, AttributeError):
        # Not sure, or a path this parser got wrong: the stdlib reads it.
        return None


def _is_blank(line: str) -> bool:
    return line[0] in "\r\n"


class _Parser:
    """compat32 FeedParser's algorithm, over a list of lines."""

    def __init__(self, lines: list[str], headers_only: bool = False) -> None:
        self.lines = lines
        self.headers_only = headers_only
        self.n = len(lines)
        self.i = 0
        # What ends the current part early: enclosing boundaries, or a blank
        # line inside message/delivery-status (innermost last).
        self.eof: list[Matcher] = []
        self.last: AnyMessage | None = None
        self.last_is_multipart = False
        self.depth = 0
        # Lines that can end a part or a header block: blank, or a boundary.
        self.marks = [k for k, line in enumerate(lines) if line[0] in "-\r\n"]

    def _stop(self, i: int, blank_stops: bool) -> int:
        """The first line from i on that ends the part (or, if asked, is blank)."""
        lines, marks, eof = self.lines, self.marks, self.eof
        # A blank line ends a part only inside message/delivery-status; a
        # boundary only starts with "-": each mark is tested by what can match.
        blank_in_eof = _is_blank in eof
        blank_ends = blank_stops or blank_in_eof
        # Usually no _is_blank is stacked: the list itself, no copy.
        boundaries = [m for m in eof if m is not _is_blank] if blank_in_eof else eof
        for j in range(bisect_left(marks, i), len(marks)):
            k = marks[j]
            line = lines[k]
            if line[0] != "-":
                if blank_ends:
                    return k
            else:
                for match in boundaries:
                    if match(line):
                        return k
        return self.n

    # -- the line source -------------------------------------------------------
    def _at_eof(self, line: str) -> bool:
        c = line[0]
        if c != "-" and c != "\r" and c != "\n":
            return False
        for match in self.eof:  # noqa: SIM110 (no generator per line)
            if match(line):
                return True
        return False

    def readline(self) -> str:
        if self.i >= self.n:
            return ""
        line = self.lines[self.i]
        if self.eof and self._at_eof(line):
            return ""
        self.i += 1
        return line

    def rest(self) -> str:
        """Every line up to the current end of input, joined."""
        start = self.i
        self.i = i = self._stop(start, False) if self.eof else self.n
        return "".join(self.lines[start:i])

    # -- the parse -------------------------------------------------------------
    def parse(self) -> AnyMessage:
        root = self._message(None)
        if (
            not self.headers_only
            and root.get_content_maintype() == "multipart"
            and not root.is_multipart()
        ):
            root.defects.append(errors.MultipartInvariantViolationDefect())
        return root

    def _message(self, parent: AnyMessage | None, parent_type: str = "") -> AnyMessage:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise _Unsure("nested too deeply")
        msg = ParsedMessage(policy=compat32)
        if parent is not None:
            if parent_type == "multipart/digest":
                msg.set_default_type("message/rfc822")
            parent.attach(msg)
        self.last = msg
        # The header block: up to a blank line, a line that is no field, or the end.
        lines, n, eof = self.lines, self.n, self.eof
        start = end = i = self.i
        # Fast path: every line up to the first blank line (or boundary) is a field.
        stop = self._stop(i, True)
        block = "".join(lines[i:stop])
        if _all_header_lines(block):
            blank = stop < n and lines[stop][0] != "-" and not (eof and _is_blank in eof)
            self.i = stop + 1 if blank else stop
            ctype = self._headers(msg, block, lines[i:stop])
            n = 0  # skip the line by line scan below
        while i < n:
            line = lines[i]
            c = line[0]
            if eof and c in "-\r\n" and any(match(line) for match in eof):
                end = i
                break
            if not headerRE.match(line):
                end = i
                if c in "\r\n":
                    i += 1  # the separator line itself is dropped
                else:
                    msg.defects.append(errors.MissingHeaderBodySeparatorDefect())
                break
            i += 1
        else:
            end = i
        if n:
            self.i = i
            ctype = self._headers(msg, "".join(lines[start:end]), lines[start:end])
        msg.content_type = ctype
        self.last_is_multipart = ctype.startswith("multipart/")
        if self.headers_only:
            msg.set_payload(self.rest())
        elif ctype == "message/delivery-status":
            self._status_blocks(msg)
        elif ctype.startswith("message/"):
            self._message(msg, ctype)
        elif ctype.startswith("multipart/"):
            self._multipart(msg, ctype)
        else:
            msg.set_payload(self.rest())
        self.depth -= 1
        return msg

    def _headers(self, msg: AnyMessage, block: str, lines: list[str]) -> str:
        """Store the fields as compat32 does; return the content type."""
        # set_raw appends here; one call less per field.
        raw: list[tuple[str, Any]] = msg._headers  # type: ignore[attr-defined]
        if (
            block
            and not block.startswith(_ODD_FIRST)
            and "\nFrom " not in block
            and ("\n:" not in block)
        ):
            # The usual case: one regex pass yields every (name, value) pair as
            # compat32 stores them (folds kept, leading blanks and the final
            # line end dropped); the field index is built in the same loop.
            fields = _FIELD_RE.findall(block)
            if "\r" in block:
                fields = [(name, value.rstrip("\r\n")) for name, value in fields]
            raw.extend(fields)
            index: dict[str, list[tuple[str, Any]]] = {}
            for field in fields:
                name: str = field[0]  # typed: a direct str.lower, not a method lookup
                key = name.lower()
                if key in index:
                    index[key].append(field)
                else:
                    index[key] = [field]
            if isinstance(msg, ParsedMessage):
                msg._index = index
                msg._indexed = (raw, len(raw))
            found = index.get("content-type")
            if not found:
                return msg.get_default_type()
            value = found[0][1]
            if not value.isascii():
                return msg.get_content_type()  # compat32 makes it a Header object
            ctype = value.partition(";")[0].strip().lower()
            return ctype if ctype.count("/") == 1 else "text/plain"
        last: list[str] = []
        for lineno, line in enumerate(lines):
            if line[0] in " \t":
                if not last:
                    msg.defects.append(errors.FirstHeaderLineIsContinuationDefect(line))
                    continue
                last.append(line)
                continue
            if last:
                raw.append(_field(last))
                last = []
            if line.startswith("From "):
                if lineno == 0:
                    mo = NLCRE_eol.search(line)
                    msg.set_unixfrom(line[: -len(mo.group(0))] if mo else line)
                    continue
                if lineno == len(lines) - 1:
                    # The stdlib pushes this one back into the body: leave it to it.
                    raise _Unsure("From line ends the headers")
                msg.defects.append(errors.MisplacedEnvelopeHeaderDefect(line))
                continue
            if line.find(":") == 0:
                msg.defects.append(errors.InvalidHeaderDefect("Missing header name."))
                continue
            last = [line]
        if last:
            raw.append(_field(last))
        if "content-type" not in block.lower():
            return msg.get_default_type()
        for name, value in raw:
            if name.lower() == "content-type":
                if not value.isascii():
                    break  # compat32 turns it into a Header object: let it
                ctype = value.partition(";")[0].strip().lower()
                return ctype if ctype.count("/") == 1 else "text/plain"
        else:
            return msg.get_default_type()
        return msg.get_content_type()

    def _status_blocks(self, msg: AnyMessage) -> None:
        """Blocks of fields separated by blank lines, each its own Message.

        The usual block (well-formed fields, no Content-Type of a container,
        one blank line after it) is built here without the general per-part
        machinery; anything else goes to the general loop from that block on.
        """
        eof = self.eof
        if _is_blank in eof or self.depth + 1 > MAX_NESTING:
            self._status_blocks_general(msg)
            return
        lines, n = self.lines, self.n
        while True:
            i = self.i
            eof.append(_is_blank)
            stop = self._stop(i, True)
            eof.pop()
            block = "".join(lines[i:stop])
            if (
                not block
                or block.startswith(_ODD_FIRST)
                or "\nFrom " in block
                or "\n:" in block
                or not _all_header_lines(block)
            ):
                self._status_blocks_general(msg)
                return
            child = ParsedMessage(policy=compat32)
            msg.attach(child)
            ctype = self._headers(child, block, lines[i:stop])
            if ctype.startswith(("message/", "multipart/")):
                # A container inside a status block: undo, read it the general way.
                msg._payload.pop()  # type: ignore[attr-defined]
                self._status_blocks_general(msg)
                return
            child.content_type = ctype
            child.set_payload("")
            self.last = child
            self.last_is_multipart = False
            # What the general loop's two readline() calls do after a block.
            if stop >= n or lines[stop][0] == "-":
                self.i = stop
                return  # the end, or an enclosing boundary
            self.i = stop + 1  # the blank line
            if self.i >= n or self._at_eof(lines[self.i]):
                return

    def _status_blocks_general(self, msg: AnyMessage) -> None:
        while True:
            self.eof.append(_is_blank)
            self._message(msg)
            self.eof.pop()
            self.readline()
            line = self.readline()
            if not line:
                return
            self.i -= 1

    def _multipart(self, msg: AnyMessage, ctype: str) -> None:
        boundary = _boundary(msg)
        if boundary is None:
            msg.defects.append(errors.NoBoundaryInMultipartDefect())
            msg.set_payload(self.rest())
            return
        cte = str(msg.get("content-transfer-encoding", "8bit")).lower()
        if cte not in ("7bit", "8bit", "binary"):
            msg.defects.append(errors.InvalidMultipartContentTransferEncodingDefect())
        separator = "--" + boundary
        match = _boundary_matcher(separator)
        preamble: list[str] = []
        capturing_preamble = True
        close_seen = False
        linesep: str | None = None
        while True:
            line = self.readline()
            if not line:
                break
            mo = match(line)
            if mo is None:
                preamble.append(line)
                continue
            if mo[0]:
                close_seen = True
                linesep = mo[1]
                break
            if capturing_preamble:
                if preamble:
                    # RFC 2046: the line end before a boundary belongs to it.
                    eol = NLCRE_eol.search(preamble[-1])
                    if eol:
                        preamble[-1] = preamble[-1][: -len(eol.group(0))]
                    msg.preamble = "".join(preamble)
                capturing_preamble = False
                self.i -= 1
                continue
            # Repeated boundary lines hold no part between them.
            while True:
                line = self.readline()
                if not line:
                    break
                if not match(line):
                    self.i -= 1
                    break
            self.eof.append(match)
            self._message(msg, ctype)
            self._trim_last()
            self.eof.pop()
            self.last = msg
            self.last_is_multipart = True
        if capturing_preamble:
            msg.defects.append(errors.StartBoundaryNotFoundDefect())
            msg.set_payload("".join(preamble))
            self.rest()
            msg.epilogue = ""
            return
        if not close_seen:
            msg.defects.append(errors.CloseBoundaryNotFoundDefect())
            return
        epilogue = self.rest()
        if not linesep:
            # A line end right after a close boundary without one is not epilogue.
            bol = NLCRE_bol.match(epilogue)
            if bol:
                epilogue = epilogue[len(bol.group(0)) :]
        msg.epilogue = epilogue

    def _trim_last(self) -> None:
        """The line end before a boundary belongs to the boundary, not the part."""
        last = self.last
        assert last is not None
        if self.last_is_multipart:
            epilogue = last.epilogue
            if epilogue == "":
                last.epilogue = None
            elif epilogue is not None:
                size = _eol_size(epilogue)
                if size:
                    last.epilogue = epilogue[:-size]
            return
        payload = last._payload  # type: ignore[attr-defined]
        if isinstance(payload, str):
            size = _eol_size(payload)
            if size:
                last._payload = payload[:-size]  # type: ignore[attr-defined]


UNSURE = object()
_PARAM_RES = {name: re.compile(rf";\s*{name}\s*=([^;]*)") for name in ("charset", "boundary")}


def simple_param(value: Any, name: str) -> object:
    """A Content-Type parameter as ``Message.get_param`` reads it, when that is simple.

    ``get_param`` splits and decodes every parameter on each call. Here: the
    value, None when the parameter is missing, or UNSURE when the field holds
    something the stdlib might read differently (quoted semicolons, RFC 2231,
    escapes, comments, 8-bit, the name twice): ask the stdlib then.
    """
    if not isinstance(value, str) or not value.isascii():
        return UNSURE
    if "*" in value or "\\" in value or "(" in value or value.count('"') > 2:
        return UNSURE
    low = value.lower()
    count = low.count(name)
    if not count:
        return None
    m = _PARAM_RES[name].search(low)  # ASCII: the offsets are the value's
    if m is None or count > 1:
        return UNSURE
    found = value[m.start(1) : m.end(1)].strip()
    if found.startswith('"') and found.endswith('"') and len(found) > 1:
        found = found[1:-1]
    elif '"' in found:
        return UNSURE
    if found.startswith("<") and found.endswith(">"):
        return UNSURE
    return found


def _boundary(msg: AnyMessage) -> str | None:
    """``msg.get_boundary()``, without its full parameter parse when it is simple."""
    found = simple_param(msg.get("Content-Type"), "boundary")
    if found is UNSURE:
        return msg.get_boundary()
    return found.rstrip() if isinstance(found, str) else None


def _eol_size(text: str) -> int:
    """The length of the line end NLCRE_eol finds at the end of text (0: none).

    The regex search walks the whole string; a part's payload can be long.
    """
    if text.endswith("\r\n"):
        return 2
    return 1 if text.endswith(("\r", "\n")) else 0


def _boundary_matcher(separator: str) -> Callable[[str], tuple[bool, str | None] | None]:
    """compat32's boundary regex, ``(--b)(--)?[ \\t]*(\\r\\n|\\r|\\n)?$``, without a regex.

    A regex per boundary costs a compile for every message (boundaries are unique).
    Returns (is the close boundary, its line end) or None.
    """
    size = len(separator)

    def match(line: str) -> tuple[bool, str | None] | None:
        if not line.startswith(separator):
            return None
        rest = line[size:]
        eol: str | None = None
        if rest.endswith("\r\n"):
            rest, eol = rest[:-2], "\r\n"
        elif rest.endswith("\n"):
            rest, eol = rest[:-1], "\n"
        if rest.startswith("--") and not rest[2:].strip(" \t"):
            return True, eol
        if not rest.strip(" \t"):
            return False, eol
        return None

    return match


def _field(lines: list[str]) -> tuple[str, str]:
    # compat32's header_source_parse: folds kept, the final line end dropped.
    name, value = lines[0].split(":", 1)
    value = value.lstrip(" \t") + "".join(lines[1:])
    return name, value.rstrip("\r\n")
