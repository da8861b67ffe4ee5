"""The fast MIME parse must build exactly the tree the standard library builds."""

from __future__ import annotations

import email
from email.message import Message
from email.parser import HeaderParser
from pathlib import Path

import pytest

from bounceback.parse import mime
from bounceback.parse.mail import (
    INLINE_ORIGINAL_RE,
    Mail,
    content_charset,
    split_inline_original,
)

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "emails").glob("*.eml"))


def difference(ours: Message, theirs: Message, path: str = "root") -> str:
    """Where two parsed trees differ ('' when they are the same)."""
    for attr in ("_headers", "_unixfrom", "preamble", "epilogue", "_default_type"):
        a, b = getattr(ours, attr), getattr(theirs, attr)
        if a != b:
            return f"{path}.{attr}: {a!r:.120} != {b!r:.120}"
    if [type(d) for d in ours.defects] != [type(d) for d in theirs.defects]:
        return f"{path}.defects: {ours.defects} != {theirs.defects}"
    a, b = ours._payload, theirs._payload  # type: ignore[attr-defined]
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: {len(a)} parts != {len(b)}"
        for n, (x, y) in enumerate(zip(a, b, strict=True)):
            if found := difference(x, y, f"{path}.{n}"):
                return found
        return ""
    return "" if a == b else f"{path}.payload: {a!r:.120} != {b!r:.120}"


def same_as_stdlib(data: bytes) -> str:
    ours = mime.parse_bytes(data)
    if ours is None:
        return ""  # the caller falls back to the stdlib: nothing to compare
    return difference(ours, email.message_from_bytes(data))


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.name)
def test_real_bounces_parse_to_the_stdlib_tree(path: Path) -> None:
    data = path.read_bytes()
    assert mime.parse_bytes(data) is not None or b"\r" in data
    assert same_as_stdlib(data) == ""


def test_fixtures_are_mostly_read_by_the_fast_path() -> None:
    taken = [mime.parse_bytes(p.read_bytes()) is not None for p in FIXTURES]
    assert sum(taken) >= 0.95 * len(taken)


MULTIPART = (
    b"From: a@example.org\r\n"
    b'Content-Type: multipart/report; report-type=delivery-status;\r\n\tboundary="XX"\r\n'
    b"\r\n"
    b"preamble\r\n"
    b"--XX\r\n"
    b"Content-Type: text/plain\r\n\r\n"
    b"Your message could not be delivered.\r\n\r\n"
    b"--XX\r\n"
    b"Content-Type: message/delivery-status\r\n\r\n"
    b"Reporting-MTA: dns; mx.example.org\r\n\r\n"
    b"Final-Recipient: rfc822; b@example.net\r\n"
    b"Action: failed\r\nStatus: 5.1.1\r\n\r\n"
    b"--XX\r\n"
    b"Content-Type: message/rfc822\r\n\r\n"
    b"Subject: hi\r\nMessage-ID: <1@example.org>\r\n\r\nbody\r\n"
    b"--XX--\r\n"
    b"epilogue\r\n"
)


@pytest.mark.parametrize(
    "data",
    [
        MULTIPART,
        MULTIPART.replace(b"\r\n", b"\n"),
        MULTIPART.replace(b"--XX--\r\n", b""),  # close boundary lost
        MULTIPART.replace(b'boundary="XX"', b'boundary="YY"'),  # start boundary lost
        MULTIPART.replace(b';\r\n\tboundary="XX"', b""),  # no boundary parameter
        MULTIPART.replace(b"Subject: hi", b'Subject: h\xc3\xa9 \x1b$B$"\x1b(B'),  # 8-bit
        MULTIPART.replace(b"--XX\r\nContent-Type: text", b"--XX\r\n--XX\r\nContent-Type: text"),
        MULTIPART.replace(b"Reporting-MTA", b"\r\n\r\nReporting-MTA"),  # blank blocks
        MULTIPART.replace(b"From: a@", b" folded first\r\nFrom: a@"),  # continuation first
        MULTIPART.replace(b"From: a@example.org\r\n", b"From: a@example.org\r\nnot a field\r\n"),
        MULTIPART.replace(b"From: a@example.org\r\n", b"From: x\r\nFrom y\r\nTo: z\r\n"),
        MULTIPART.replace(b"multipart/report", b"multipart/digest"),
        MULTIPART.replace(b"--XX--\r\nepilogue\r\n", b"--XX--"),
        b"Subject: no body",
        b"Subject: x\n\n",
        b"Content-Type: multipart/mixed; boundary=b\n\n--b\n\n--b--\n",
        b"Content-Type: message/rfc822\n\nContent-Type: multipart/mixed; boundary=c\n\n--c\n"
        b"Subject: in\n\ntext\n--c--\n",
    ],
)
def test_damaged_and_odd_structures_match_the_stdlib(data: bytes) -> None:
    assert same_as_stdlib(data) == ""


@pytest.mark.parametrize(
    "data",
    [
        b"Subject: x\r\r\nFrom: y\r\n\r\nbody",  # a bare CR is a line end for the stdlib
        b"Subject: x\n\nform\x0cfeed",
        b"Subject: x\nFrom y\n\nbody",  # a "From " line last in the header block
    ],
)
def test_input_it_is_unsure_of_is_left_to_the_stdlib(data: bytes) -> None:
    assert mime.parse_bytes(data) is None
    assert Mail.from_bytes(data).msg.keys() == email.message_from_bytes(data).keys()


def test_deep_nesting_is_left_to_the_stdlib() -> None:
    deep = b"".join(
        b"Content-Type: multipart/mixed; boundary=b%d\n\n--b%d\n" % (n, n) for n in range(80)
    )
    assert mime.parse_bytes(deep + b"\ntext\n") is None


def test_header_blocks_match_the_stdlib_header_parser() -> None:
    for path in FIXTURES[:40]:
        for part in email.message_from_bytes(path.read_bytes()).walk():
            text = part.get_payload()
            if not isinstance(text, str) or not text:
                continue
            ours = mime.parse_headers(text)
            if ours is not None:
                assert difference(ours, HeaderParser().parsestr(text)) == ""


@pytest.mark.parametrize(
    "value",
    [
        'text/plain; charset="UTF-8"',
        "text/plain;\n\tcharset=iso-2022-jp",
        "text/plain; CHARSET = Shift_JIS ; format=flowed",
        'text/plain; name="a;charset=x"; charset=y',
        "text/plain; charset*=utf-8''x",
        "text/plain charset=utf-8",
        "text/plain; charset=",
        'text/plain; charset="a',
        "text/plain; xcharset=a; charset=b",
        "text/plain; charset=utf-8 (comment)",
        "text/plain",
    ],
)
def test_charset_is_read_as_get_content_charset_reads_it(value: str) -> None:
    part = Message()
    part["Content-Type"] = value
    assert content_charset(part) == part.get_content_charset()


@pytest.mark.parametrize(
    "value",
    [
        'multipart/mixed; boundary="a b "',
        "multipart/mixed;\n\tboundary=xyz",
        "boundary=abc",
        "multipart/mixed; boundary=<x>",
        'multipart/mixed; boundary="a;b"',
        'multipart/mixed; x=1; boundary = "--=_abc" ; y=2',
        "multipart/mixed; Boundary=abc; boundary=def",
        "multipart/mixed",
    ],
)
def test_boundary_is_read_as_get_boundary_reads_it(value: str) -> None:
    part = Message()
    part["Content-Type"] = value
    assert mime._boundary(part) == part.get_boundary()


def test_field_index_follows_changes_to_the_fields() -> None:
    msg = mime.parse_bytes(b"Subject: one\nContent-Type: multipart/mixed; boundary=a\n\n")
    assert msg is not None
    assert msg.get("subject") == "one" and "SUBJECT" in msg
    msg["X-New"] = "two"
    assert msg.get("x-new") == "two"
    msg.set_boundary("zz")
    assert msg.get_boundary() == "zz"
    del msg["Subject"]
    assert msg.get("Subject") is None and "Subject" not in msg


def test_inline_marker_search_agrees_with_the_multiline_pattern() -> None:
    for path in FIXTURES:
        text = Mail.from_bytes(path.read_bytes()).text
        m = INLINE_ORIGINAL_RE.search(text)
        before, _ = split_inline_original(text)
        assert before == (text[: m.start()] if m else text), path.name


def test_raw_8bit_subject_is_decoded_not_replaced() -> None:
    mail = Mail.from_bytes((FIXTURES[0].parent / "lhost-kddi-01.eml").read_bytes())
    assert mail.subject == "メールエラー通知"


def test_field_index_follows_a_replaced_field() -> None:
    msg = mime.parse_bytes(b"Subject: one\nTo: a@example.org\n\nbody\n")
    assert msg is not None and msg.get("Subject") == "one"
    msg.replace_header("Subject", "two")
    assert msg.get("Subject") == "two"
