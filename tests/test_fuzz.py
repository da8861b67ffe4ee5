"""Fuzzing parse and classify with Hypothesis: whatever the bytes, a Report comes back.

Three sources of input: real bounces (tests/fixtures/emails) mutated at the byte and
line level, random bytes, and random MIME trees built from the content types bounces
use (multipart/report, message/delivery-status, message/rfc822, ...), with broken
charsets, transfer encodings and boundaries. In CI the examples are derandomized (see
conftest.py), so a run is repeatable; locally each run explores new ones.
"""

from __future__ import annotations

import base64
import os
import quopri
import time
from dataclasses import fields
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import adversarial
from bounceback import classify, parse
from bounceback.model import DeliveryRecord, Kind, Report

EMAILS = Path(__file__).resolve().parent / "fixtures" / "emails"
REAL = sorted(EMAILS.glob("*.eml"))
# BOUNCEBACK_FUZZ_EXAMPLES=5000 for a longer hunt; the default keeps the suite quick.
FUZZ = settings(
    max_examples=int(os.environ.get("BOUNCEBACK_FUZZ_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check(data: bytes) -> Report:
    """The invariants: a Report of a known kind, string fields, classify never raises."""
    report = parse(data)
    assert isinstance(report, Report)
    assert report.kind in set(Kind)
    if report.kind == Kind.UNPARSEABLE:
        assert report.error
        # parse() turns an unexpected exception into this; the fuzz wants none of them.
        assert not report.error.startswith("internal error"), report.error
    for record in report.records:
        assert isinstance(record, DeliveryRecord)
        for f in fields(record):
            assert isinstance(getattr(record, f.name), str), f.name
    for bounce in classify(report):
        assert bounce.reason
        assert isinstance(bounce.hardbounce, bool)
    return report


# -- mutated real bounces ---------------------------------------------------------


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(REAL)).read_bytes())
    for _ in range(draw(st.integers(1, 6))):
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        span = draw(st.integers(1, 200))
        op = draw(
            st.sampled_from(["flip", "delete", "duplicate", "insert", "truncate", "crlf", "line"])
        )
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "delete":
            del data[at : at + span]
        elif op == "duplicate":
            data[at:at] = data[at : at + span]
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=64))
        elif op == "truncate":
            del data[at:]
        elif op == "crlf":
            data = bytearray(bytes(data).replace(b"\n", b"\r\n"))
        else:  # swap two lines: headers out of order, a boundary in the wrong place
            lines = bytes(data).split(b"\n")
            i = draw(st.integers(0, len(lines) - 1))
            j = draw(st.integers(0, len(lines) - 1))
            lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@FUZZ
@given(mutated())
def test_mutated_real_bounces(data: bytes) -> None:
    check(data)


@FUZZ
@given(st.sampled_from(REAL), st.integers(0, 4000))
def test_every_prefix_of_a_real_bounce(path: Path, cut: int) -> None:
    check(path.read_bytes()[:cut])


# -- random bytes -----------------------------------------------------------------


@FUZZ
@given(st.binary(max_size=4096))
def test_random_bytes(data: bytes) -> None:
    check(data)


HEADER_NAMES = [
    "From",
    "To",
    "Subject",
    "Content-Type",
    "Content-Transfer-Encoding",
    "Auto-Submitted",
    "X-Failed-Recipients",
    "Final-Recipient",
    "Status",
    "Action",
    "Diagnostic-Code",
    "Received",
    "Message-ID",
    "X-Bounceback-ID",
]


@FUZZ
@given(
    st.lists(st.tuples(st.sampled_from(HEADER_NAMES), st.text(max_size=80)), max_size=12),
    st.text(max_size=2000),
)
def test_random_headers_and_text(headers: list[tuple[str, str]], body: str) -> None:
    head = "".join(f"{name}: {value}\n" for name, value in headers)
    check((head + "\n" + body).encode("utf-8", "surrogatepass"))


# -- random MIME trees ------------------------------------------------------------

LEAF_TYPES = [
    "text/plain",
    "text/html",
    "message/delivery-status",
    "message/feedback-report",
    "text/rfc822-headers",
    "application/octet-stream",
    "message/rfc822",
]
MULTI_TYPES = ["multipart/mixed", "multipart/report", "multipart/alternative"]
CHARSETS = ["us-ascii", "utf-8", "iso-2022-jp", "shift_jis", "x-unknown", "bogus-8", ""]
ENCODINGS = ["7bit", "8bit", "base64", "quoted-printable", "x-uuencode", ""]
DSN_LINES = st.sampled_from(
    [
        "Reporting-MTA: dns; mx.example.org",
        "Final-Recipient: rfc822; user@example.org",
        "Original-Recipient: rfc822;user@example.org",
        "Action: failed",
        "Action: delayed",
        "Status: 5.1.1",
        "Status: 4.4.7",
        "Status: 9.9.9",
        "Remote-MTA: dns; mx.example.net",
        "Diagnostic-Code: smtp; 550 5.1.1 <user@example.org>: User unknown",
        "Diagnostic-Code: x-unix; ",
        "Feedback-Type: abuse",
        "Last-Attempt-Date: Thu, 29 Apr 2010 23:34:45 +0900",
        "",
    ]
)
TEXT = st.one_of(
    st.text(max_size=300),
    st.lists(DSN_LINES, max_size=12).map("\n".join),
)


@st.composite
def leaf(draw: st.DrawFn) -> bytes:
    ctype = draw(st.sampled_from(LEAF_TYPES))
    charset = draw(st.sampled_from(CHARSETS))
    cte = draw(st.sampled_from(ENCODINGS))
    body = draw(TEXT).encode("utf-8", "surrogatepass")
    if ctype == "message/rfc822":
        body = b"From: me@example.org\nMessage-ID: <x@example.org>\nSubject: hi\n\n" + body
    if cte == "base64" and draw(st.booleans()):
        body = base64.encodebytes(body)
    elif cte == "quoted-printable" and draw(st.booleans()):
        body = quopri.encodestring(body)
    head = f"Content-Type: {ctype}" + (f"; charset={charset}" if charset else "")
    if cte:
        head += f"\nContent-Transfer-Encoding: {cte}"
    return head.encode() + b"\n\n" + body


def multipart(children: st.SearchStrategy[list[bytes]]) -> st.SearchStrategy[bytes]:
    @st.composite
    def build(draw: st.DrawFn) -> bytes:
        ctype = draw(st.sampled_from(MULTI_TYPES))
        boundary = draw(st.sampled_from(["b1", "b2", "=_x", "same", ""]))
        parts = draw(children)
        head = f'Content-Type: {ctype}; report-type=delivery-status; boundary="{boundary}"'
        out = [head.encode(), b"\n\npreamble\n"]
        for part in parts:
            out += [b"--", boundary.encode(), b"\n", part, b"\n"]
        if draw(st.booleans()):  # the closing delimiter is often lost
            out += [b"--", boundary.encode(), b"--\n"]
        return b"".join(out)

    return build()


MIME_TREE = st.recursive(
    leaf(), lambda inner: multipart(st.lists(inner, max_size=4)), max_leaves=12
)


@FUZZ
@given(MIME_TREE, st.sampled_from(["", "From MAILER-DAEMON Thu Apr 29 23:34:45 2010\n"]))
def test_random_mime_trees(tree: bytes, separator: str) -> None:
    top = b"From: Mail Delivery System <MAILER-DAEMON@example.org>\n"
    top += b"Subject: Undelivered Mail Returned to Sender\nMIME-Version: 1.0\n"
    check(separator.encode() + top + tree)


def test_the_fixtures_are_there() -> None:
    # Without real bounces the mutation tests would test nothing.
    assert len(REAL) >= 5


# -- adversarial messages: the shapes that made the parser slow -------------------------
# tests/adversarial.py builds them (add a case there when a new slow shape turns up).
# Each must parse and classify in under a second of CPU, compiled or not, on a loaded
# machine; the parser's worst on this set is about 0.35 s from source (docs/benchmarks.md).

ADVERSARIAL_LIMIT = 1.0


def _timed_check(data: bytes) -> float:
    started = time.process_time()
    check(data)
    return time.process_time() - started


@pytest.mark.parametrize(("name", "data"), list(adversarial.named()), ids=lambda v: str(v)[:40])
def test_adversarial_messages_parse_fast(name: str, data: bytes) -> None:
    assert len(data) < 1_000_000
    took = _timed_check(data)
    assert took < ADVERSARIAL_LIMIT, f"{name}: {took:.2f} s"


@pytest.mark.parametrize("template", sorted(adversarial.TEMPLATES))
def test_long_runs_in_every_kind_of_bounce_parse_fast(template: str) -> None:
    build = adversarial.TEMPLATES[template]
    slow = {}
    for shape_name, shape in adversarial.SHAPES.items():
        took = _timed_check(build(shape(20_000)).encode())
        if took >= ADVERSARIAL_LIMIT:
            slow[shape_name] = round(took, 2)
    assert not slow
