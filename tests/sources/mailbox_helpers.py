"""What the mailbox-source tests (Maildir, mbox, IMAP, POP3) share: the messages they
fill a mailbox with, and counts read back from the ledger."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from bounceback.ledger import Ledger

EMAILS = Path(__file__).resolve().parent.parent / "fixtures" / "emails"

HUMAN_REPLY = b"""\
From: Kijitora Neko <kijitora@example.net>
To: news@sender.example
Subject: Re: Our spring newsletter
Date: Mon, 23 Nov 2026 10:00:00 +0000
Message-ID: <reply-1@example.net>
In-Reply-To: <newsletter-42@sender.example>
Content-Type: text/plain; charset=utf-8

Thanks, please send me the price list as well.
"""

NOT_A_BOUNCE = b"""\
From: billing@provider.example
To: news@sender.example
Subject: Your invoice for November
Date: Mon, 23 Nov 2026 09:00:00 +0000
Message-ID: <invoice-7@provider.example>
Content-Type: text/plain; charset=utf-8

Your invoice is attached to your account page.
"""


def eml(name: str) -> bytes:
    return (EMAILS / name).read_bytes()


def mixed(read: Callable[[str], bytes] = eml, newline: bytes = b"\n") -> list[bytes]:
    """One message per outcome; the ledger fixture knows the two matched recipients."""
    return [
        read("lhost-postfix-03.eml"),  # matched
        read("lhost-postfix-07.eml"),  # matched
        read("lhost-exim-02.eml"),  # a bounce for no known contact: unmatched
        HUMAN_REPLY,  # not a bounce: ignored
        NOT_A_BOUNCE,  # ignored
        read("lhost-postfix-02.eml") + (b"x" * 76 + newline) * 3_300,  # too large: quarantined
    ]


def numbered(data: bytes, n: int) -> bytes:
    """The same real message made distinct (its idempotency key is the bytes' hash)."""
    return f"X-Test-Seq: {n}\r\n".encode() + data


def count(ledger: Ledger, table: Any) -> int:
    with ledger.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def history(ledger: Ledger, email: str) -> int:
    view = ledger.contact_view(email)
    assert view is not None
    return len(view["history"])


class FailingMatches:
    """A ledger that reports every matched bounce as not written (the database went
    down): the source must leave those messages for the next poll."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.engine = ledger.engine

    def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
        for outcome in self.ledger.process(pairs, batch_size=batch_size, **options):
            if outcome.outcome == "matched":
                outcome.outcome, outcome.error = "error", "database down"
            yield outcome
