"""Text helpers: reply codes, SMTP commands and remote hosts from real diagnostics."""

from __future__ import annotations

import pytest

from bounceback.parse.text import find_phrase, find_remote_mta, find_reply_code, find_smtp_command


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # La Poste quotes its greeting before the refusal (rhost-franceptt-11).
        ("220-laposte 421 4.2.1 Service refuse. Veuillez essayer plus tard.", "421"),
        ("550 5.1.1 <a@example.org>: Recipient address rejected", "550"),
        ("250 2.0.0 OK 1234 queued", "250"),  # a delivery report keeps its code
        ("smtp; 552-5.2.2 The email account is over quota", "552"),
        ("User unknown", ""),
    ],
)
def test_find_reply_code(text: str, code: str) -> None:
    assert find_reply_code(text) == code


def test_helo_field_of_an_exim_log_line_is_not_a_command() -> None:
    # lhost-imailserver-06: the remote quotes Exim's log line, "HELO=[host]".
    text = (
        "550-REJECTED - Blacklisted URL - H=mail.example.com [192.0.2.11] HELO=[mail.example.com]"
    )
    assert find_smtp_command(text) == ""
    assert find_smtp_command("503 5.5.1 Error: send HELO/EHLO first") == "HELO"


@pytest.mark.parametrize(
    ("text", "host"),
    [
        ("host mx.example.org[192.0.2.1] said: 550 5.1.1 unknown", "mx.example.org"),
        ("Remote host 192.0.2.1 said: 550 no mailbox", "192.0.2.1"),
        ("Connected to 192.0.2.1 but sender was rejected.", "192.0.2.1"),
        ("mx.example.jp [192.0.2.1] does not like recipient.", "mx.example.jp"),
        ("192.0.2.1 failed after I sent the message.", "192.0.2.1"),
        ("Giving up on 192.0.2.1.", "192.0.2.1"),
        ("... while talking to mx.example.net.:", "mx.example.net"),
        ("HOST MX.EXAMPLE.ORG SAID: 550 unknown", "MX.EXAMPLE.ORG"),
        ("550 5.1.1 user unknown", ""),
    ],
)
def test_find_remote_mta(text: str, host: str) -> None:
    assert find_remote_mta(text) == host


def test_find_phrase_ignores_case_and_keeps_offsets() -> None:
    text = "Hello\nThe FOLLOWING text was generated during the delivery attempt:\n"
    assert find_phrase(text, "following text was generated") == text.index("FOLLOWING")
    # "İ" lowers to two characters: the offsets must still be the text's own.
    shifted = "İİ " + text
    assert find_phrase(shifted, "following text") == shifted.index("FOLLOWING")
    assert find_phrase(text, "not there") == -1
