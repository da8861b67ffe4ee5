"""Pop3Source against a real Dovecot: DELE only after commit, QUIT per batch."""

from __future__ import annotations

import dataclasses
import poplib
import ssl
from collections.abc import Iterator
from typing import Any

import pytest
from dovecot import OAUTH_TOKEN, OAUTH_USER, Dovecot
from mailbox_helpers import HUMAN_REPLY, NOT_A_BOUNCE, count, eml, mixed, numbered

from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.mailboxes import MailboxError
from bounceback.sources.pop3 import Pop3Config, Pop3Source, open_client, xoauth2

MIXED = mixed(newline=b"\r\n")


def source_for(server: Dovecot, **options: Any) -> Pop3Source:
    return Pop3Source(server.pop3_config(timeout=10, **options))


def messages(ledger: Ledger) -> int:
    return count(ledger, t.messages)


def test_deletes_processed_and_quarantined_keeps_ignored(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append(MIXED)
    source = source_for(mailbox)
    result = source.poll(ledger)
    s = result.summary
    assert (s.matched, s.unmatched, s.ignored, s.quarantined) == (2, 1, 2, 1)
    assert (result.deleted, result.kept, result.left) == (3, 3, 0)
    assert len(mailbox.folder_uids("INBOX")) == 3  # the unmatched bounce and the two others
    # Kept messages are remembered by UIDL: not downloaded again.
    assert source.poll(ledger).fetched == 0
    # A new source (a restart) reads them again; the ledger knows them already.
    again = source_for(mailbox, ignored="delete").poll(ledger)
    assert again.summary.duplicates == 3 and again.deleted == 3
    assert mailbox.folder_uids("INBOX") == []
    assert messages(ledger) == 6


class DroppingLedger:
    """The real ledger; the first batch's connection is cut after its commit, before QUIT."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger, self.engine = ledger, ledger.engine
        self.server: poplib.POP3 | None = None
        self.cut = False

    def connect(self, config: Pop3Config) -> poplib.POP3:
        from bounceback.sources.pop3 import open_client

        self.server = open_client(config)
        return self.server

    def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
        outcomes = list(self.ledger.process(pairs, batch_size=batch_size, **options))
        if not self.cut and self.server is not None:
            self.cut = True
            self.server.sock.shutdown(2)
        return iter(outcomes)


def test_dropped_connection_before_quit_deletes_nothing_then_catches_up(
    mailbox: Dovecot, ledger: Ledger
) -> None:
    mailbox.append([numbered(m, n) for n, m in enumerate(MIXED * 2)])
    dropping = DroppingLedger(ledger)
    source = Pop3Source(
        mailbox.pop3_config(batch_size=4, ignored="delete"),
        connect=dropping.connect,
    )
    result = source.poll(dropping)  # type: ignore[arg-type]
    assert result.reconnects == 1
    assert result.summary.duplicates == 4  # the first batch, read again after the cut
    assert mailbox.folder_uids("INBOX") == []
    assert messages(ledger) == 12
    view = ledger.contact_view("kijitora@example.net")
    assert view is not None and len(view["history"]) == 2  # applied once per message


def test_stls_with_a_self_signed_certificate(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append([eml("lhost-postfix-03.eml"), HUMAN_REPLY, NOT_A_BOUNCE])
    context = ssl.create_default_context(cafile=str(mailbox.cert))
    source = source_for(mailbox, ssl_context=context, ignored="delete")
    source.config.security = "starttls"
    result = source.poll(ledger)
    assert result.summary.matched == 1 and result.deleted == 3


def test_xoauth2_initial_response() -> None:
    import base64

    decoded = base64.b64decode(xoauth2("bounces@example.org", "ya29.abc"))
    assert decoded == b"user=bounces@example.org\x01auth=Bearer ya29.abc\x01\x01"


def test_xoauth2_login_with_a_token_command(dovecot: Dovecot) -> None:
    config = dovecot.pop3_config(user=OAUTH_USER, password="", token_command=["echo", OAUTH_TOKEN])
    server = open_client(config)
    try:
        assert server.stat()[0] == 0
    finally:
        server.quit()
    with pytest.raises(MailboxError, match="login failed"):
        open_client(dataclasses.replace(config, token_command=["echo", "wrong"]))
