"""Stamping outgoing mail, and that a stamped message's bounce comes back to its send."""

from __future__ import annotations

import datetime as dt
import re
from email.message import EmailMessage
from email.policy import SMTP

from bounceback.match import (
    SendStamp,
    VerpSigner,
    bounceback_id_for,
    envid_send_id,
    mail_options,
    stamp,
)
from bounceback.match.stamp import xtext

SIGNER = VerpSigner({"k1": b"0123456789abcdef-k1"}, "k1", "bounces.example.org")
NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)


def message() -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = "news@example.org"
    msg["To"] = "member@example.net"
    msg["Subject"] = "November"
    msg.set_content("Hello")
    return msg


def test_bounceback_id_format_and_unguessability() -> None:
    ids = {bounceback_id_for(42) for _ in range(50)}
    assert len(ids) == 50  # random suffix: a new one each time
    for value in ids:
        assert re.fullmatch(r"bb\.42\.[a-z2-7]{16}", value)
        assert envid_send_id(value) == 42


def test_bounceback_id_with_secret_is_stable_per_send() -> None:
    a = bounceback_id_for(42, secret=b"secret")
    assert a == bounceback_id_for(42, secret=b"secret")
    assert a != bounceback_id_for(43, secret=b"secret")
    assert a != bounceback_id_for(42, secret=b"other")


def test_stamp_sets_header_and_return_path() -> None:
    msg = message()
    msg["X-Bounceback-ID"] = "stale"
    send = SendStamp(42, bounceback_id_for(42))
    out = stamp(msg, send, SIGNER, NOW)
    assert out is msg
    assert msg.get_all("X-Bounceback-ID") == [send.bounceback_id]
    return_path = str(msg["Return-Path"])
    assert return_path.startswith("<bounce+k1.") and return_path.endswith("@bounces.example.org>")
    assert SIGNER.verify(return_path, NOW).send_id == 42
    # The header survives serialisation as sent on the wire.
    assert f"X-Bounceback-ID: {send.bounceback_id}".encode() in msg.as_bytes(policy=SMTP)


def test_stamp_without_signer_leaves_return_path() -> None:
    msg = message()
    msg["Return-Path"] = "<owner@example.org>"
    stamp(msg, SendStamp(1, "bb.1.aaaaaaaaaaaaaaaa"), None)
    assert msg["Return-Path"] == "<owner@example.org>"
    assert msg["X-Bounceback-ID"] == "bb.1.aaaaaaaaaaaaaaaa"


def test_mail_options_carry_envid_as_xtext() -> None:
    assert mail_options(SendStamp(7, "bb.7.abc")) == ["ENVID=bb.7.abc", "RET=HDRS"]
    assert xtext("a+b=c d\u00e9") == "a+2Bb+3Dc+20d+C3+A9"
