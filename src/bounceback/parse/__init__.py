"""parse: bytes → Report. Pure: no I/O, no database, no network."""

from __future__ import annotations

from bounceback.model import Kind, Report
from bounceback.parse import registry
from bounceback.parse.base import original_of
from bounceback.parse.mail import Mail, ParseError

__all__ = ["MAX_MESSAGE_BYTES", "ParseError", "parse"]

# Larger messages are reported unparseable rather than read: a bounce that size is
# an attack or an accident, and the returned attachment is not worth the memory.
MAX_MESSAGE_BYTES = 25 * 1024 * 1024
MAX_HEADER_FIELDS = 10_000
# Bounces carry a handful of MIME parts; each part starts with a "--boundary" line.
MAX_BOUNDARY_LINES = 5_000
# Bytes no text message holds raw (TAB, LF, VT, FF, CR and ESC for ISO-2022-JP are text).
_CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20), 0x7F])


def _unparseable(reason: str) -> Report:
    return Report(kind=Kind.UNPARSEABLE, detector="", error=reason)


def _precheck(data: bytes, max_bytes: int) -> str:
    if not data or data.isspace():  # data.strip() would copy the message
        return "empty message"
    if len(data) > max_bytes:
        return f"message too large: {len(data)} bytes (limit {max_bytes})"
    head = data[:4096]
    if len(head) - len(head.translate(None, _CONTROL_BYTES)) > len(head) // 20:
        return "binary data, not an email message"
    if b":" not in head:
        return "no header fields: not an email message"
    # Too short to hold that many field lines or boundary lines: skip the counts.
    if len(data) > MAX_HEADER_FIELDS:
        ends = [i for i in (data.find(b"\n\n"), data.find(b"\r\n\r\n")) if i >= 0]
        header_end = min(ends) if ends else -1
        header_block = data if header_end < 0 else data[:header_end]
        if header_block.count(b"\n") > MAX_HEADER_FIELDS and (
            _count_fields(header_block) > MAX_HEADER_FIELDS
        ):
            return f"more than {MAX_HEADER_FIELDS} header fields"
    if len(data) > 3 * MAX_BOUNDARY_LINES and data.count(b"\n--") > MAX_BOUNDARY_LINES:
        return f"more than {MAX_BOUNDARY_LINES} MIME parts"
    return ""


def _count_fields(block: bytes) -> int:
    return sum(1 for line in block.split(b"\n") if line[:1] not in (b" ", b"\t", b""))


def parse(data: bytes, *, max_bytes: int = MAX_MESSAGE_BYTES) -> Report:
    """Read one message and say what it is and which recipients failed how."""
    problem = _precheck(data, max_bytes)
    if problem:
        return _unparseable(problem)
    try:
        mail = Mail.from_bytes(data)
        if len(mail.msg) > MAX_HEADER_FIELDS:  # len(): the field count, no list built
            return _unparseable(f"more than {MAX_HEADER_FIELDS} header fields")
        return parse_mail(mail)
    except ParseError as exc:
        return _unparseable(str(exc))
    except RecursionError:
        return _unparseable("message structure nested too deeply")
    # One name per clause: compiled (mypyc), a name keeps the type of its first clause.
    except (LookupError, ValueError, TypeError, AttributeError, IndexError, KeyError) as bad:
        return _unparseable(f"{type(bad).__name__}: {bad}")
    except Exception as err:  # parse never raises: a detector bug costs one message, not a run
        return _unparseable(f"internal error: {type(err).__name__}: {err}")


def parse_mail(mail: Mail) -> Report:
    for detect in registry.detect_functions():
        report = detect(mail)
        if report is not None:
            return report
    return Report(
        kind=Kind.NOT_BOUNCE,
        detector="",
        original=original_of(mail),
        subject=mail.subject,
        from_=mail.from_,
        to=mail.to,
    )
