"""Helpers for the plain-text bounce formats of appliances and providers.

These formats print recipients and reasons as prose between fixed marker
lines; the helpers cut such sections and read an inline copy of the returned
message's headers.
"""

from __future__ import annotations

import email.parser
import re

from bounceback.parse import mime
from bounceback.parse.mail import Mail

_HEADER_PARSER = email.parser.HeaderParser(_class=mime.BoundedMessage)
_FIELD_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*:")
_LABEL_RE = re.compile(r"^[A-Za-z][A-Za-z0-9()-]* [A-Za-z0-9() -]*:\s")


def after(text: str, marker: str, stop: str | None = None) -> str:
    """The text after the first line containing ``marker`` (case-insensitive).

    It ends before the first later line containing ``stop``; '' when the marker
    is missing.
    """
    low = text.lower()
    at = low.find(marker.lower())
    if at < 0:
        return ""
    start = text.find("\n", at)
    if start < 0:
        return ""
    out = text[start + 1 :]
    if stop:
        end = out.lower().find(stop.lower())
        if end >= 0:
            out = out[: out.rfind("\n", 0, end) + 1]
    return out


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines()]


def set_inline_original(mail: Mail, text: str) -> None:
    """Read an inline copy of the returned headers, when the message has none.

    Copies are often indented or start mid-header (a folded Received line
    whose first line was cut), so leading lines before the first field are
    dropped and a common indentation is removed.
    """
    if mail.original is not None or not text.strip():
        return
    lines = text.replace("\r\n", "\n").split("\n")
    indent = min(
        (len(line) - len(line.lstrip(" ")) for line in lines if line.strip()),
        default=0,
    )
    if indent:
        lines = [line[indent:] for line in lines]
    while lines and not _FIELD_RE.match(lines[0]):
        lines.pop(0)
    if not lines:
        return
    fixed: list[str] = []
    for line in lines:
        if not line.strip():
            break
        if line[:1] in (" ", "\t") or _FIELD_RE.match(line):
            fixed.append(line)
        elif _LABEL_RE.match(line):
            continue  # a summary's "Sent date: ..." label, not a header field
        else:
            # A copy whose folded lines lost their indentation: keep them folded.
            fixed.append(" " + line)
    head = "\n".join(fixed) + "\n\n"
    mail.set_original(mime.parse_headers(head) or _HEADER_PARSER.parsestr(head))
