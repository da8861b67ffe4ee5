"""The parser's shortcuts must give what the long way gives."""

from __future__ import annotations

import re
from email.message import Message
from pathlib import Path

import pytest

from bounceback.parse import mime
from bounceback.parse.mail import content_charset, decode_bytes, html_to_text, part_text
from bounceback.parse.text import ADDRESS_RE, find_address, find_addresses, search_heading

FIXTURES = sorted((Path(__file__).parent.parent / "fixtures" / "emails").glob("*.eml"))

# ADDRESS_RE as it was before its local-part runs became possessive.
BACKTRACKING_ADDRESS_RE = re.compile(ADDRESS_RE.pattern.replace("}+", "}"))


def _leaves(msg: Message) -> list[Message]:
    return [part for part in msg.walk() if not part.is_multipart()]


def _parsed() -> list[tuple[str, Message]]:
    """The fixtures the fast parser reads itself (the rest go to the stdlib)."""
    found = [(path.name, mime.parse_bytes(path.read_bytes())) for path in FIXTURES]
    return [(name, msg) for name, msg in found if msg is not None]


@pytest.mark.parametrize(
    "text",
    [
        "Kijitora Cat <kijitora@example.jp>",
        "=?utf-8?B?5pel5pys6Kqe?= <kijitora-nyaan@neko.example.co.jp>",
        "a" * 200 + "@example.org",  # a run longer than a local part may be
        '"' + "q" * 70 + '"@example.org',  # a quoted part too long
        '"john doe"@example.org and jane@example.org',
        '"a@b"@example.org',
        "foo@ bar@example.org",  # the first "@" has no domain
        'x "unclosed@example.org',
        "user@[192.0.2.1]",
        "no address here, just words",
    ],
)
def test_address_re_finds_what_the_backtracking_pattern_finds(text: str) -> None:
    ours = [m.span() for m in ADDRESS_RE.finditer(text)]
    assert ours == [m.span() for m in BACKTRACKING_ADDRESS_RE.finditer(text)]


def test_address_shortcut_without_an_at_sign() -> None:
    assert find_address("Undisclosed recipients:;") == ""
    assert find_addresses("MAILER-DAEMON (Mail Delivery System)") == []
    assert find_address("Mail Delivery <postmaster@example.jp>") == "postmaster@example.jp"


def test_fixture_addresses_match_the_backtracking_pattern() -> None:
    for path in FIXTURES:
        text = path.read_bytes().decode("latin-1")
        ours = [m.span() for m in ADDRESS_RE.finditer(text)]
        assert ours == [m.span() for m in BACKTRACKING_ADDRESS_RE.finditer(text)], path.name


def _decoded_the_long_way(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if isinstance(payload, bytes):
        text = decode_bytes(payload, content_charset(part))
    else:
        raw = part.get_payload()
        text = raw if isinstance(raw, str) else ""
    return html_to_text(text) if part.get_content_type() == "text/html" else text


def test_part_text_matches_the_decoding_round_trip_on_every_fixture_part() -> None:
    checked = 0
    for name, msg in _parsed():
        for part in _leaves(msg):
            if part.get_content_maintype() == "text":
                assert part_text(part) == _decoded_the_long_way(part), name
                checked += 1
    assert checked > 100


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # ISO-2022-JP is 7-bit: its escapes must still be decoded, declared or not.
        ("Content-Type: text/plain", "\x1b$B$3$s$K$A$O\x1b(B\n", "こんにちは\n"),
        ("Content-Type: text/plain; charset=iso-2022-jp", "\x1b$B$3$s\x1b(B\n", "こん\n"),
        # Quoted-printable and base64 are decoded, not returned as they stand.
        ("Content-Transfer-Encoding: quoted-printable", "caf=C3=A9\n", "café\n"),
        ("Content-Transfer-Encoding: base64", "aGVsbG8=\n", "hello"),
        ("Content-Type: text/plain; charset=us-ascii", "plain text\n", "plain text\n"),
        ("Content-Type: text/html", "<p>a<br>b &amp; c</p>\n", "\na\nb & c\n\n"),
    ],
)
def test_part_text_decodes_what_needs_decoding(head: str, body: str, expected: str) -> None:
    part = mime.parse_bytes(f"{head}\n\n{body}".encode())
    assert part is not None
    assert part_text(part) == expected == _decoded_the_long_way(part)


def test_field_index_built_while_parsing_follows_later_edits() -> None:
    msg = _parsed()[0][1]
    assert isinstance(msg, mime.ParsedMessage)
    assert msg.get("X-Added") is None
    msg["X-Added"] = "one"
    assert msg.get("x-added") == "one"
    msg.replace_header("X-Added", "two")
    assert msg.get("X-ADDED") == "two"
    del msg["X-Added"]
    assert "X-Added" not in msg


def test_remembered_content_types_are_the_stdlib_ones() -> None:
    for name, msg in _parsed():
        for part in msg.walk():
            assert isinstance(part, mime.ParsedMessage)
            assert part.content_type == Message.get_content_type(part), name


_HEADING_RE = re.compile(r"^[ \t]*original message headers:?[ \t]*$", re.I | re.M)
_HEADING_TEXTS = [
    "Original Message Headers:\nFrom: a@b",
    "x original message headers\n  ORIGINAL MESSAGE HEADERS  \nrest",
    "original message headers are below\noriginal message headers",
    "no heading here at all",
    "Ünïcode first\r\n\toriginal message headers:\t\nafter",  # not ASCII: the regex itself
    "ſ original message headers\noriginal meſſage headers",
]


@pytest.mark.parametrize("text", _HEADING_TEXTS)
def test_search_heading_finds_what_the_regex_finds(text: str) -> None:
    low = text.lower() + "\nmore lowered text of which this is the start"
    for pos in range(len(text) + 1):
        want = _HEADING_RE.search(text, pos)
        got = search_heading(_HEADING_RE, "original message headers", text, low, pos)
        assert (got and got.span()) == (want and want.span()), pos
