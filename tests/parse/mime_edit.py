"""Edits of real test messages, for the paths a format takes when a part is missing."""

from __future__ import annotations

import email
from email.message import Message


def without_status_part(data: bytes) -> bytes:
    """The same message with its message/delivery-status part removed."""
    msg = email.message_from_bytes(data)
    parts = msg.get_payload()
    assert isinstance(parts, list)
    kept: list[Message] = [p for p in parts if p.get_content_type() != "message/delivery-status"]
    assert len(kept) == len(parts) - 1
    msg.set_payload(kept)
    return msg.as_bytes()
