"""Bad input: every broken message gets a clear per-message error; a run over them goes on.

The damaged messages are built here from a real bounce, so the one good message in the
same run proves the run still did its job.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from bounceback import classify, parse
from bounceback.model import Kind

Email = Callable[[str], bytes]
GOOD = "lhost-postfix-02.eml"


def deep_multipart(depth: int) -> bytes:
    out = [b"From: a@example.org\nTo: b@example.org\nSubject: deep\nMIME-Version: 1.0\n"]
    for n in range(depth):
        out.append(b'Content-Type: multipart/mixed; boundary="b%d"\n\n--b%d\n' % (n, n))
    out.append(b"Content-Type: text/plain\n\nhello\n")
    out.extend(b"--b%d--\n" % n for n in reversed(range(depth)))
    return b"".join(out)


def many_headers(count: int) -> bytes:
    fields = b"".join(b"X-Field-%d: value\n" % n for n in range(count))
    return b"From: a@example.org\nTo: b@example.org\n" + fields + b"\nbody\n"


def many_parts(count: int) -> bytes:
    head = b"From: a@example.org\nContent-Type: multipart/mixed; boundary=x\n\n"
    return head + b"--x\nContent-Type: text/plain\n\nhi\n" * count + b"--x--\n"


def binary(size: int) -> bytes:
    return random.Random(7).randbytes(size)


FIFTY_MB = 50 * 1024 * 1024


@pytest.mark.parametrize(
    ("name", "data", "error"),
    [
        ("empty", b"", "empty message"),
        ("blank", b"\r\n\r\n  \n", "empty message"),
        ("binary", binary(64 * 1024), "binary data, not an email message"),
        ("no header", b"just some words\nand more words\n", "no header fields"),
        ("100,000 header fields", many_headers(100_000), "more than 10000 header fields"),
        ("1,000-deep multipart", deep_multipart(1_000), "nest"),
        ("200-deep multipart", deep_multipart(200), "nested deeper than"),
        ("100,000 MIME parts", many_parts(100_000), "MIME parts"),
    ],
)
def test_bad_message_is_unparseable_with_a_reason(name: str, data: bytes, error: str) -> None:
    started = time.perf_counter()
    report = parse(data)
    assert report.kind == Kind.UNPARSEABLE, name
    assert error in report.error
    assert classify(report) == []
    assert time.perf_counter() - started < 5


def test_fifty_megabytes_are_refused_before_parsing() -> None:
    data = b"From: a@example.org\nSubject: big\n\n" + b"x" * FIFTY_MB
    started = time.perf_counter()
    report = parse(data)
    assert report.kind == Kind.UNPARSEABLE
    assert report.error.startswith(f"message too large: {len(data)} bytes")
    assert time.perf_counter() - started < 1


def test_binary_attachment_in_a_real_bounce_is_not_binary_input(email: Email) -> None:
    # Raw 8-bit text (UTF-8, Shift_JIS) is text; only control bytes mark binary junk.
    data = email(GOOD).replace(b"I'm sorry", "I'm sorry — 申し訳ありません".encode())
    assert parse(data).kind == Kind.BOUNCE


@pytest.mark.parametrize("cut", [0.05, 0.2, 0.4, 0.6, 0.8, 0.95])
def test_truncated_bounce_never_raises(email: Email, cut: float) -> None:
    data = email(GOOD)
    report = parse(data[: int(len(data) * cut)])
    assert report.kind in set(Kind)
    for bounce in classify(report):
        assert bounce.recipient.endswith("@example.co.jp")


def test_truncated_after_the_dsn_still_finds_both_recipients(email: Email) -> None:
    data = email(GOOD)
    cut = data.index(b"Content-Type: message/rfc822")
    report = parse(data[:cut])
    assert [r.recipient for r in report.records] == [
        "filtered@example.co.jp",
        "userunknown@example.co.jp",
    ]


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
def test_a_run_over_bad_inputs_goes_on_and_stays_bounded(tmp_path: Path, email: Email) -> None:
    bad = {
        "a-empty.eml": b"",
        "b-binary.eml": binary(256 * 1024),
        "c-truncated.eml": email(GOOD)[:700],
        "d-deep.eml": deep_multipart(1_000),
        "e-headers.eml": many_headers(100_000),
        "f-big.eml": b"From: a@example.org\nSubject: big\n\n" + b"x" * FIFTY_MB,
        "g-parts.eml": many_parts(100_000),
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "z-good.eml").write_bytes(email(GOOD))
    del bad  # the run below must not need the 50 MB held here

    # A child process, so its peak memory is the run's alone.
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-c", _RUN_AND_REPORT_PEAK, "parse", "--json", "--all", str(tmp_path)],
        capture_output=True,
        check=False,
        timeout=120,
    )
    elapsed = time.perf_counter() - started
    peak_kb = int(proc.stderr.decode().strip().splitlines()[-1])

    assert proc.returncode == 0, proc.stderr
    rows = {Path(r["file"]).name: r for r in map(json.loads, proc.stdout.splitlines())}
    for name in ("a-empty.eml", "b-binary.eml", "d-deep.eml", "e-headers.eml", "g-parts.eml"):
        assert rows[name]["kind"] == "unparseable", name
        assert rows[name]["error"], name
    assert rows["f-big.eml"]["error"].startswith("message too large")
    assert rows["z-good.eml"]["recipient"] == "userunknown@example.co.jp"
    assert rows["z-good.eml"]["reason"] == "userunknown"
    assert elapsed < 30
    # The 50 MB file is never read: the whole run stays well below interpreter + 50 MB.
    assert peak_kb < 70 * 1024, f"peak {peak_kb / 1024:.0f} MB"


_RUN_AND_REPORT_PEAK = """
import sys
from bounceback.cli import app
sys.argv = ["bounceback", *sys.argv[1:]]
try:
    app()
except SystemExit as exc:
    code = exc.code
else:
    code = 0
# VmHWM: this process's peak resident memory (ru_maxrss would carry the parent's over exec).
with open("/proc/self/status") as fh:
    peak = next(line.split()[1] for line in fh if line.startswith("VmHWM:"))
print(peak, file=sys.stderr)
sys.exit(code)
"""


# Found by fuzzing (tests/test_fuzz.py's mutations, run longer): a form feed inside a DSN
# field made the email generator refuse the block, and a NUL in a charset name made
# codecs.lookup raise ValueError. Both messages must still be read.
def form_feed_dsn(email: Email) -> bytes:
    data = email("rhost-google-01.eml")
    broken = data.replace(
        b"Last-Attempt-Date: Mon, 11 May 2013 00:00:00 +0900\n\n--r4B",
        b"Last-Attempt-Date: Mon, 11 May 2013 00:\x0c0:00 +0900\n\n--r4Bv",  # FF, lost boundary
    )
    assert broken != data
    return broken


NUL_CHARSET = (
    b"From: a@example.org\nTo: b@example.org\nSubject: x\n"
    b'Content-Type: text/plain; charset="ut\x00f-8"\n\nhello\n'
)


def test_fuzz_findings_do_not_raise(email: Email) -> None:
    for data in (form_feed_dsn(email), NUL_CHARSET):
        assert parse(data).kind in set(Kind)


def test_form_feed_in_a_dsn_field_still_finds_the_recipient(email: Email) -> None:
    report = parse(form_feed_dsn(email))
    assert [r.recipient for r in report.records] == ["shironeko@example.ne.jp"]


def test_a_nul_in_a_charset_name_is_just_an_unknown_charset() -> None:
    assert parse(NUL_CHARSET).kind == Kind.NOT_BOUNCE
