"""ImapSource against a real Dovecot, filled with real corpus bounces by APPEND."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from dovecot import OAUTH_TOKEN, OAUTH_USER, PASSWORD, USER, Dovecot
from mailbox_helpers import HUMAN_REPLY, NOT_A_BOUNCE, count, eml, mixed, numbered

from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.ledger import tables as t
from bounceback.sources.imap import ImapSource, open_client
from bounceback.sources.mailboxes import MailboxError, token_from_command

FOLDER = "INBOX/Campaign bounces"  # Dovecot's delimiter here is "."
SERVER_FOLDER = "INBOX.Campaign bounces"
MIXED = mixed(newline=b"\r\n")


def source_for(server: Dovecot, **options: Any) -> ImapSource:
    return ImapSource(server.imap_config(folder=FOLDER, timeout=10, **options))


def test_poll_acts_on_each_outcome_and_touches_nothing_else(
    mailbox: Dovecot, ledger: Ledger
) -> None:
    mailbox.append([eml("lhost-sendmail-02.eml")], SERVER_FOLDER, flags=(b"\\Seen",))
    mailbox.append(MIXED, SERVER_FOLDER)
    source = source_for(mailbox)
    try:
        result = source.poll(ledger)
    finally:
        source.close()
    s = result.summary
    assert (s.matched, s.unmatched, s.ignored, s.quarantined) == (2, 1, 2, 1)
    assert (result.fetched, result.moved, result.flagged, result.left) == (6, 3, 3, 0)
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.processed")) == 2
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.quarantine")) == 1
    # The read-before message and the three ignored ones stay, all seen now.
    assert len(mailbox.folder_uids(SERVER_FOLDER)) == 4
    assert mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"]) == []
    view = ledger.contact_view("kijitora@example.net")
    assert view is not None and len(view["history"]) == 1
    assert len(ledger.messages("unmatched")) == 1
    assert "too large" in ledger.messages("quarantined")[0]["error"]
    assert count(ledger, t.messages) == 6  # the message someone had read is not ours

    again = source_for(mailbox)
    try:
        assert again.poll(ledger).fetched == 0
    finally:
        again.close()


def test_delete_processed_move_ignored_without_move_capability(
    mailbox: Dovecot, ledger: Ledger, monkeypatch: pytest.MonkeyPatch
) -> None:
    from imapclient import IMAPClient

    real = IMAPClient.has_capability

    def no_move(self: IMAPClient, capability: str) -> bool:
        return capability.upper() != "MOVE" and bool(real(self, capability))

    monkeypatch.setattr(IMAPClient, "has_capability", no_move)  # COPY + \Deleted + UID EXPUNGE
    mailbox.append(MIXED, SERVER_FOLDER)
    source = source_for(mailbox, processed="delete", ignored="move")
    try:
        result = source.poll(ledger)
    finally:
        source.close()
    assert (result.deleted, result.moved, result.flagged) == (2, 4, 0)
    assert mailbox.folder_uids(SERVER_FOLDER) == []  # expunged, not only flagged
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.ignored")) == 3
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.quarantine")) == 1
    assert mailbox.folder_uids(f"{SERVER_FOLDER}.processed") == []


class DroppingLedger:
    """The real ledger; after the first commit the IMAP connection is cut."""

    def __init__(self, ledger: Ledger, source: ImapSource) -> None:
        self.ledger, self.source, self.engine = ledger, source, ledger.engine
        self.cut = False

    def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
        outcomes = list(self.ledger.process(pairs, batch_size=batch_size, **options))
        if not self.cut:
            self.cut = True
            client = self.source._client
            assert client is not None
            client.socket().shutdown(socket.SHUT_RDWR)
        return iter(outcomes)


def test_dropped_connection_mid_batch_loses_nothing_and_applies_nothing_twice(
    mailbox: Dovecot, ledger: Ledger
) -> None:
    messages = [numbered(m, n) for n, m in enumerate(MIXED * 3)]
    mailbox.append(messages, SERVER_FOLDER)
    source = source_for(mailbox, batch_size=5)
    dropping = DroppingLedger(ledger, source)
    try:
        result = source.poll(dropping)  # type: ignore[arg-type]
    finally:
        source.close()
    assert result.reconnects == 1
    # The first batch was committed before the cut: read again, duplicates.
    assert result.summary.duplicates == 5
    assert count(ledger, t.messages) == len(messages)
    # Every record applied once: 6 matched bounces, one event each.
    assert len(ledger.contact_view("kijitora@example.net")["history"]) == 3  # type: ignore[index]
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.processed")) == 6
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.quarantine")) == 3
    # Duplicates went where their first outcome said: ignored ones seen, not processed.
    assert len(mailbox.folder_uids(SERVER_FOLDER)) == 9
    assert mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"]) == []


def test_a_message_not_committed_is_left_unseen(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append(MIXED[:2], SERVER_FOLDER)

    class Failing:
        engine = ledger.engine

        def process(self, pairs: Any, batch_size: int = 200, **options: Any) -> Iterator[Any]:
            for n, outcome in enumerate(ledger.process(pairs, batch_size=batch_size, **options)):
                if n == 1:  # as the ledger reports a message it could not write
                    outcome.outcome, outcome.error = "error", "database down"
                yield outcome

    source = source_for(mailbox)
    try:
        result = source.poll(Failing())  # type: ignore[arg-type]
    finally:
        source.close()
    assert result.left == 1 and result.moved == 1
    assert len(mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"])) == 1  # read again next poll


def test_idle_wakes_when_mail_arrives(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append([], SERVER_FOLDER)
    source = source_for(mailbox)
    try:
        started = time.monotonic()
        assert source.wait(0.5) is False  # nothing new: the timeout
        assert time.monotonic() - started >= 0.4
        timer = threading.Timer(0.3, mailbox.append, args=([HUMAN_REPLY], SERVER_FOLDER))
        timer.start()
        started = time.monotonic()
        assert source.wait(10) is True
        assert time.monotonic() - started < 5
        timer.join()
        assert source.poll(ledger).summary.ignored == 1
    finally:
        source.close()


def test_starttls_with_a_self_signed_certificate(mailbox: Dovecot, ledger: Ledger) -> None:
    mailbox.append([eml("lhost-postfix-03.eml")], SERVER_FOLDER)
    context = ssl.create_default_context(cafile=str(mailbox.cert))
    source = source_for(mailbox, ssl_context=context)
    source.config.security = "starttls"
    try:
        assert source.poll(ledger).summary.matched == 1
    finally:
        source.close()
    # Without trusting the certificate, STARTTLS refuses to go on.
    strict = source_for(mailbox)
    strict.config.security = "starttls"
    with pytest.raises((ssl.SSLError, MailboxError)):
        open_client(strict.config)


def test_thousand_messages_in_batches(mailbox: Dovecot, ledger: Ledger) -> None:
    base = [eml("lhost-postfix-03.eml"), eml("lhost-exim-02.eml"), HUMAN_REPLY, NOT_A_BOUNCE]
    messages = [numbered(base[n % 4], n) for n in range(1000)]
    mailbox.append(messages, SERVER_FOLDER)
    source = source_for(mailbox, batch_size=200)
    try:
        result = source.poll(ledger)
    finally:
        source.close()
    assert result.fetched == 1000 and result.left == 0
    assert result.summary.matched == 250
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.processed")) == 250
    assert mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"]) == []
    assert count(ledger, t.messages) == 1000


def test_token_command_output_is_the_token(tmp_path: Path) -> None:
    script = tmp_path / "token.sh"
    script.write_text("#!/bin/sh\necho '  ya29.token-for-'\"$1\"\n")
    script.chmod(0o755)
    assert token_from_command(f"{script} bounces") == "ya29.token-for-bounces"
    failing = tmp_path / "fail.sh"
    failing.write_text("#!/bin/sh\necho 'no refresh token' >&2\nexit 2\n")
    failing.chmod(0o755)
    with pytest.raises(MailboxError, match="no refresh token"):
        token_from_command([str(failing)])


def test_xoauth2_login_with_a_token_command(dovecot: Dovecot, tmp_path: Path) -> None:
    script = tmp_path / "token.sh"
    script.write_text(f"#!/bin/sh\necho {OAUTH_TOKEN}\n")
    script.chmod(0o755)
    config = dovecot.imap_config(user=OAUTH_USER, password="", token_command=str(script))
    client = open_client(config)
    try:
        assert client.list_folders("", "INBOX")
    finally:
        client.logout()
    assert "method=XOAUTH2" in dovecot.log()
    script.write_text("#!/bin/sh\necho expired-token\n")
    with pytest.raises(MailboxError, match="login failed"):
        open_client(config)


def test_database_down_during_a_poll_acknowledges_nothing(mailbox: Dovecot, tmp_path: Path) -> None:
    import sqlite3

    from bounceback.ledger.db import LedgerUnavailable

    path = tmp_path / "ledger.db"
    config = Config(database_url=f"sqlite:///{path}", lock_timeout_ms=200)
    ledger = Ledger.open(config)
    mailbox.append(MIXED, SERVER_FOLDER)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # another process holds the database
    source = source_for(mailbox)
    try:
        with pytest.raises(LedgerUnavailable):
            source.poll(ledger)
        assert len(mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"])) == len(MIXED)
        holder.execute("ROLLBACK")
        result = source.poll(ledger)  # the same source, next poll: everything, once
        assert result.fetched == len(MIXED) and result.left == 0
        assert mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"]) == []
        assert count(ledger, t.messages) == len(MIXED)
    finally:
        holder.close()
        source.close()
        ledger.close()


KILLED_POLLER = """
import os, signal, sys
from bounceback.config import Config
from bounceback.ledger import Ledger
from bounceback.sources.imap import ImapConfig, ImapSource

url, port, user, password, folder = sys.argv[1:6]
ledger = Ledger.open(Config(database_url=url, lock_timeout_ms=2000))

class KillAfterCommit:
    engine = ledger.engine
    def process(self, pairs, batch_size=200, **options):
        outcomes = list(ledger.process(pairs, batch_size=batch_size, **options))
        os.kill(os.getpid(), signal.SIGKILL)  # committed, nothing done on the server yet
        return iter(outcomes)

config = ImapConfig(host="127.0.0.1", port=int(port), security="plain", user=user,
                    password=password, folder=folder, batch_size=4)
ImapSource(config).poll(KillAfterCommit())
"""


def test_kill_9_between_commit_and_move_then_restart(
    mailbox: Dovecot, ledger: Ledger, tmp_path: Path
) -> None:
    import subprocess
    import sys

    mailbox.append([numbered(m, n) for n, m in enumerate(MIXED * 2)], SERVER_FOLDER)
    url = str(ledger.engine.url)
    args = [url, str(mailbox.imap_port), USER, PASSWORD, FOLDER]
    killed = subprocess.run([sys.executable, "-c", KILLED_POLLER, *args], timeout=60)
    assert killed.returncode == -9
    assert count(ledger, t.messages) == 4  # the first batch was committed
    assert len(mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"])) == 12  # and nothing acked
    source = source_for(mailbox)
    try:
        result = source.poll(ledger)
    finally:
        source.close()
    assert result.summary.duplicates == 4
    assert count(ledger, t.messages) == 12
    view = ledger.contact_view("kijitora@example.net")
    assert view is not None and len(view["history"]) == 2  # once per message
    assert len(mailbox.folder_uids(f"{SERVER_FOLDER}.processed")) == 4
    assert mailbox.folder_uids(SERVER_FOLDER, ["UNSEEN"]) == []
