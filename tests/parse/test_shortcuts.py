"""Round 4 of the speed work: each shortcut must give exactly what the long way gives."""

from __future__ import annotations

import email
import re
from pathlib import Path

import pytest
from test_mime import difference

from bounceback.parse import mime
from bounceback.parse import text as text_module
from bounceback.parse.mail import Mail
from bounceback.parse.text import _COMMAND_RE, find_smtp_command

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "emails").glob("*.eml"))


def _reference_command(text: str) -> str:
    """find_smtp_command as it was: one case-blind regex over the whole text."""
    m = _COMMAND_RE.search(text)
    if not m:
        return ""
    if m.group(4):
        return "CONNECT"
    verb = (m.group(1) or m.group(2) or m.group(3)).upper()
    return "DATA" if verb == "END OF DATA" else verb.split()[0]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("550 5.1.1 <a@example.jp>... User Unknown (in reply to RCPT TO command)", "RCPT"),
        ("host mx said: 554 rejected (in reply to end of DATA command)", "DATA"),
        ("SMTP error from remote mail server after RCPT TO:<a@b.example>", "RCPT"),
        ("Connection refused by mx.example.org", "CONNECT"),
        ("451 timeout during DATA; after MAIL FROM", "DATA"),  # the leftmost wins
        ("while sending mail from: 550 denied", "MAIL"),
        ("HELO=[192.0.2.1] said 550 no", ""),  # Exim's log field, not a command
        ("the data you sent", ""),  # lower-case prose is not a command
        ("BDATA DATAX", ""),  # not whole words
        (">>> DATA <<< 554 5.7.1 spam", "DATA"),
        ("550 réponse après RCPT TO: utilisateur inconnu", "RCPT"),  # non-ASCII: the one regex
        ("while connecting to mx.example.org", "CONNECT"),
    ],
)
def test_smtp_command_matches_the_single_regex(text: str, expected: str) -> None:
    assert find_smtp_command(text) == expected == _reference_command(text)
    assert find_smtp_command(text, text.lower()) == expected


def test_smtp_command_on_every_fixture_line() -> None:
    compared = 0
    for path in FIXTURES:
        for line in path.read_bytes().decode("utf-8", "replace").splitlines():
            if line.strip():
                assert find_smtp_command(line) == _reference_command(line), (path.name, line)
                compared += 1
    assert compared > 10_000


def _full_match(block: str) -> bool:
    m = mime._HEADER_LINES_RE.match(block)
    return m is not None and m.end() == len(block)


@pytest.mark.parametrize(
    "block",
    [
        "",
        "Subject: hi\n",
        "Subject: hi\nReceived: from a\n\tby b\n",
        "Subject: hi\r\nTo: a@b\r\n",
        "Subject: hi",  # the last line without its line end
        " continued first\n",
        "From someone\nSubject: x\n",
        "Subject: hi\nnot a field line\n",
        "Subject: hi\nbad name: x\n",
        ":empty name\n",
        "Subject: hi\n:x\n",
        "X-1;2: odd but allowed\n",
    ],
)
def test_header_line_test_matches_the_regex(block: str) -> None:
    assert mime._all_header_lines(block) == _full_match(block)


def test_header_line_test_on_fixture_header_blocks() -> None:
    for path in FIXTURES:
        text = path.read_bytes().decode("ascii", "surrogateescape").replace("\r\n", "\n")
        for chunk in text.split("\n\n"):
            block = chunk + "\n"
            assert mime._all_header_lines(block) == _full_match(block), path.name


DSN_HEAD = (
    b"From: MAILER-DAEMON@example.org\n"
    b'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
    b"--B\nContent-Type: text/plain\n\nIt failed.\n\n"
    b"--B\nContent-Type: message/delivery-status\n\n"
)


# The part after the status part: none (its close), another part, or the input just ends.
TAILS = (b"--B--\n", b"--B\nContent-Type: text/rfc822-headers\n\nSubject: s\n\n--B--\n", b"")


@pytest.mark.parametrize(
    "status",
    [
        b"Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@b\nAction: failed\n\n",
        b"Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@b\n",  # boundary after a block
        b"Reporting-MTA: dns; a\n\n\n\nFinal-Recipient: rfc822; x@b\n\n",  # blank lines twice
        b"Reporting-MTA: dns; a\nnot a field\nFinal-Recipient: rfc822; x@b\n\n",
        b"Reporting-MTA: dns; a\n\nContent-Type: message/rfc822\n\nSubject: inner\n\n",
        b"Reporting-MTA: dns; a\n\nContent-Type: text/plain\nAction: failed\n\n",
        b"\nReporting-MTA: dns; a\n\n",  # a blank line first
        b"Reporting-MTA: dns; a\r\n\r\nFinal-Recipient: rfc822; x@b\r\n\r\n",
        b"From x\nReporting-MTA: dns; a\n\n",
        b"  folded: first\nAction: failed\n\n",
    ],
)
def test_status_blocks_build_the_stdlib_tree(status: bytes) -> None:
    for tail in TAILS:
        data = DSN_HEAD + status + tail
        ours = mime.parse_bytes(data)
        if ours is None:
            continue  # the stdlib reads it: nothing to compare
        assert difference(ours, email.message_from_bytes(data)) == "", data


def test_status_blocks_are_split_by_the_fast_loop() -> None:
    data = DSN_HEAD + (
        b"Reporting-MTA: dns; a\n\nFinal-Recipient: rfc822; x@b\nAction: failed\n\n"
        b"Final-Recipient: rfc822; y@b\nAction: delayed\n\n--B--\n"
    )
    msg = mime.parse_bytes(data)
    assert msg is not None
    status = msg.get_payload()[1]
    blocks = status.get_payload()
    assert [b.get("Final-Recipient") for b in blocks] == [None, "rfc822; x@b", "rfc822; y@b"]
    assert all(isinstance(b, mime.ParsedMessage) and b.content_type == "text/plain" for b in blocks)
    assert difference(msg, email.message_from_bytes(data)) == ""


@pytest.mark.parametrize("path", FIXTURES[:60], ids=lambda p: p.name)
def test_parse_string_builds_the_stdlib_tree(path: Path) -> None:
    text = path.read_bytes().decode("ascii", "surrogateescape")
    ours = mime.parse_string(text)
    if ours is not None:
        assert difference(ours, email.message_from_string(text)) == ""


def test_multipart_without_boundary_is_repaired_by_the_fast_parser() -> None:
    data = (
        b"From: postmaster@example.org\nSubject: Undeliverable\n"
        b"Content-Type: multipart/mixed; boundary=OUTER\n\n"
        b"--OUTER\nContent-Type: multipart/alternative\n\n"
        b"--inner\nContent-Type: text/plain\n\nDelivery to x@example.net failed.\n"
        b"--inner--\n--OUTER--\n"
    )
    mail = Mail.from_bytes(data)
    assert "Delivery to x@example.net failed." in mail.text


@pytest.mark.parametrize("eol", ["\n", "\r\n", "\r\r\n"])
def test_returned_headers_are_cut_at_the_first_blank_line(eol: str) -> None:
    head = f"Message-ID: <1@example.org>{eol}Subject: hello{eol}"
    body = f"{eol}body line{eol}Subject: not this one{eol}"
    data = (
        "From: MAILER-DAEMON@example.org\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="B"\n\n'
        "--B\nContent-Type: text/plain\n\nfailed: x@example.net\n\n"
        "--B\nContent-Type: text/rfc822-headers\n\n" + head + body + "--B--\n"
    ).encode()
    original = Mail.from_bytes(data).original
    assert original is not None
    assert original.get("Message-ID") == "<1@example.org>"
    assert re.sub(r"\s+", " ", str(original.get("Subject"))).strip() == "hello"


# The code patterns as they were, with the look-behind first (slower: no skip-ahead).
LOOKBEHIND_FIRST = {
    "STATUS_RE": r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.]*\d)",
    "REPLY_CODE_RE": r"(?<![\d.\-])([245][0-5]\d)(?=[ \-]|$)",
    "_FAILURE_CODE_RE": r"(?<![\d.\-])([45][0-5]\d)(?=[ \-]|$)",
}
CODE_TEXTS = [
    "550 5.1.1 user unknown",
    "5.1.1",
    "x5.1.1",
    "15.1.1 no",
    ".5.1.1 no",
    "5.1.1.1 no",
    "4.7.0 and 5.7.1",
    "550-5.7.1 blocked\n550 5.7.1 again",
    "2.0.0 ok 250",
    "-550 x",
    "1550 x",
    "550",
    "550\n",
    "#5.0.0>",
    "<mx.example.jp #5.1.1>",
]


@pytest.mark.parametrize("name", sorted(LOOKBEHIND_FIRST))
def test_code_patterns_find_what_the_lookbehind_first_ones_find(name: str) -> None:
    ours: re.Pattern[str] = getattr(text_module, name)
    theirs = re.compile(LOOKBEHIND_FIRST[name])
    samples = list(CODE_TEXTS)
    for path in FIXTURES:
        samples.extend(path.read_bytes().decode("utf-8", "replace").splitlines())
    for sample in samples:
        found = [(m.span(), m.groups()) for m in ours.finditer(sample)]
        assert found == [(m.span(), m.groups()) for m in theirs.finditer(sample)], sample
