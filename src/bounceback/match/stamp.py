"""Stamping an outgoing message so its bounce can be tied back to the send.

Three marks, each surviving a different kind of bounce:

- the Return-Path (envelope sender): a signed VERP address; every bounce is mailed
  to it, even one that returns nothing of the message;
- ``X-Bounceback-ID``: a header, seen when the bounce returns the headers;
- the RFC 3461 ENVID (``mail_options``): the bounceback id again, echoed by DSNs
  as ``Original-Envelope-Id`` even when the message is not returned.

The bounceback id is ``bb.<send id>.<suffix>``. The send id is there for people
and for the ENVID check; the suffix makes it unguessable: 16 base32 characters
(80 bits) of randomness, or of HMAC of the send id when a secret is given (the
same send then always gets the same id). A match by bounceback id is an exact
lookup in the send log, so forging one means guessing 80 bits.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from email.message import EmailMessage

from bounceback.match.verp import VerpSigner

HEADER = "X-Bounceback-ID"
_SUFFIX_BYTES = 10


@dataclass(frozen=True, slots=True)
class SendStamp:
    send_id: int
    bounceback_id: str


def bounceback_id_for(send_id: int, *, secret: bytes | None = None) -> str:
    """A new bounceback id for a send: random, or derived from ``secret`` when given."""
    if send_id < 0:
        raise ValueError(f"send id {send_id} is negative")
    if secret is None:
        raw = secrets.token_bytes(_SUFFIX_BYTES)
    else:
        msg = b"bounceback-id\x00" + str(send_id).encode("ascii")
        raw = hmac.new(secret, msg, hashlib.sha256).digest()[:_SUFFIX_BYTES]
    suffix = base64.b32encode(raw).decode("ascii").rstrip("=").lower()
    return f"bb.{send_id}.{suffix}"


def stamp(
    message: EmailMessage,
    send: SendStamp,
    signer: VerpSigner | None,
    now: dt.datetime | None = None,
) -> EmailMessage:
    """Set X-Bounceback-ID and, with a signer, Return-Path; returns ``message`` itself.

    Return-Path is only a header here: give the same address to the SMTP client as
    the envelope sender (``smtplib`` takes it as ``from_addr``), and ``mail_options``
    as its MAIL options, or receiving servers never see them.
    """
    del message[HEADER]
    message[HEADER] = send.bounceback_id
    if signer is not None:
        del message["Return-Path"]
        message["Return-Path"] = f"<{signer.address(send.send_id, now)}>"
    return message


def mail_options(send: SendStamp) -> list[str]:
    """SMTP MAIL options: our ENVID, and ask for headers only in DSNs (RFC 3461).

    Only for servers that announce DSN in their EHLO reply.
    """
    return [f"ENVID={xtext(send.bounceback_id)}", "RET=HDRS"]


def xtext(value: str) -> str:
    """RFC 3461 xtext: '+', '=' and characters outside ! to ~ as +XX."""
    return "".join(
        c if "!" <= c <= "~" and c not in "+=" else "".join(f"+{b:02X}" for b in c.encode())
        for c in value
    )
