"""``bounceback.stamp(message, send)``: mark an outgoing message and log the send."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import getaddresses, make_msgid

from bounceback.ledger.service import Ledger
from bounceback.match.stamp import SendStamp, bounceback_id_for, mail_options
from bounceback.match.stamp import stamp as stamp_message


@dataclass(frozen=True, slots=True)
class Send:
    """Who a message goes to, in which campaign (created when new)."""

    email: str = ""  # default: the message's first To address
    campaign: str | None = None
    sent_at: dt.datetime | None = None


def stamp(
    message: EmailMessage, send: Send | None = None, ledger: Ledger | None = None
) -> EmailMessage:
    """Record the send in the ledger, then set X-Bounceback-ID and the VERP Return-Path.

    A message without a Message-ID gets one, so a bounce quoting it can be matched too.
    Returns ``message`` itself. Without ``ledger``, the configured ledger is opened.

    The Return-Path header only records the VERP address: the sending code must use it
    as the envelope sender, and may pass our ENVID where the server offers DSN::

        smtp.send_message(msg, from_addr=msg["Return-Path"].strip("<>"),
                          mail_options=envelope_options(msg))
    """
    send = send or Send()
    email = send.email or next((a for _, a in getaddresses(message.get_all("To", [])) if a), "")
    if not email:
        raise ValueError("no recipient: give Send(email=...) or a To header")
    if not message["Message-ID"]:
        domain = ledger.config.verp.domain if ledger else ""
        message["Message-ID"] = make_msgid(domain=domain or None)
    own = ledger is None
    active = ledger or Ledger.open()
    try:
        ids, return_path = register_send(
            active,
            email,
            send.campaign,
            message_id=str(message["Message-ID"]),
            sent_at=send.sent_at,
        )
    finally:
        if own:
            active.close()
    stamp_message(message, ids, None)  # X-Bounceback-ID; the return path is already signed
    if return_path:
        del message["Return-Path"]
        message["Return-Path"] = f"<{return_path}>"
    return message


def register_send(
    ledger: Ledger,
    email: str,
    campaign: str | None = None,
    *,
    message_id: str | None = None,
    sent_at: dt.datetime | None = None,
) -> tuple[SendStamp, str | None]:
    """Log a send and give it its ids: the X-Bounceback-ID and, with [verp], the signed
    return path. Both are stored on the send, so a bounce quoting either finds it."""
    send_id = ledger.record_send(email, campaign, message_id=message_id, sent_at=sent_at)
    ids = SendStamp(send_id, bounceback_id_for(send_id))
    return_path = ledger.signer.address(send_id) if ledger.signer else None
    ledger.set_send_ids(send_id, ids.bounceback_id, return_path)
    return ids, return_path


def envelope_options(message: EmailMessage) -> list[str]:
    """SMTP MAIL options (ENVID, RET=HDRS) for a message ``stamp`` has marked.

    Only for servers that announce DSN in their EHLO reply; [] for an unstamped message.
    """
    bounceback_id = str(message["X-Bounceback-ID"] or "").strip()
    return mail_options(SendStamp(0, bounceback_id)) if bounceback_id else []
